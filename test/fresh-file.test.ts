// FreshFile: a stat decides whether a credentials or TLS file is read again,
// and no rewrite can hide behind it. Real files in a temporary directory.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { appendFileSync, mkdtempSync, renameSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { FreshFile } from '../src/client/fresh-file.js'
import { FILE_LIMITS, FileRefusedError, readBoundedFile } from '../src/config/bounded-file.js'

function tempDir (): string {
  return mkdtempSync(path.join(os.tmpdir(), 'sg-fresh-'))
}

/** Lets the event loop turn: FreshFile checks a file at most once per turn. */
async function nextTurn (): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve))
}

/** Sets a file's mtime `seconds` into the past, out of the racy window. */
function age (file: string, seconds: number): Date {
  const then = new Date(Date.now() - seconds * 1000)
  utimesSync(file, then, then)
  return then
}

describe('FreshFile', () => {
  test('a same-size rewrite right after a read is seen (the racy window)', async () => {
    const file = path.join(tempDir(), 'token')
    writeFileSync(file, 'token-aaaa')
    const f = new FreshFile(file)
    assert.equal(f.read(), 'token-aaaa')
    writeFileSync(file, 'token-bbbb')
    await nextTurn()
    assert.equal(f.read(), 'token-bbbb')
  })

  test('a same-size rewrite that puts the old mtime back is seen (ctime)', async () => {
    const file = path.join(tempDir(), 'token')
    writeFileSync(file, 'token-aaaa')
    const then = age(file, 60)
    const f = new FreshFile(file)
    assert.equal(f.read(), 'token-aaaa')
    assert.equal(f.read(), 'token-aaaa')
    writeFileSync(file, 'token-bbbb')
    utimesSync(file, then, then)
    assert.equal(Math.round(statSync(file).mtimeMs), then.getTime(), 'the mtime is back')
    await nextTurn()
    assert.equal(f.read(), 'token-bbbb')
  })

  test('a Kubernetes-style ..data symlink swap to a same-size, same-mtime file is seen (inode)', async () => {
    const dir = tempDir()
    for (const [v, text] of [['v1', 'token-aaaa'], ['v2', 'token-bbbb']] as const) {
      writeFileSync(path.join(dir, `${v}.token`), text)
      age(path.join(dir, `${v}.token`), 60)
    }
    const link = path.join(dir, 'token')
    symlinkSync(path.join(dir, 'v1.token'), link)
    const f = new FreshFile(link)
    assert.equal(f.read(), 'token-aaaa')
    symlinkSync(path.join(dir, 'v2.token'), `${link}.new`)
    renameSync(`${link}.new`, link)
    await nextTurn()
    assert.equal(f.read(), 'token-bbbb')
  })

  test('probes of one turn share a check; the next turn sees the change', async () => {
    const file = path.join(tempDir(), 'token')
    writeFileSync(file, 'token-aaaa')
    const f = new FreshFile(file)
    assert.equal(f.read(), 'token-aaaa')
    writeFileSync(file, 'token-bbbbbb')
    assert.equal(f.read(), 'token-aaaa', 'same turn: as at its first check')
    await nextTurn()
    assert.equal(f.read(), 'token-bbbbbb')
  })

  test('the content given at load is read again on first use', () => {
    const file = path.join(tempDir(), 'ca.pem')
    writeFileSync(file, 'now')
    age(file, 60)
    assert.equal(new FreshFile(file, 'at load').read(), 'now')
  })

  test('a file that went away throws as node:fs does, and comes back when it is back', async () => {
    const file = path.join(tempDir(), 'token')
    writeFileSync(file, 'token-aaaa')
    age(file, 60)
    const f = new FreshFile(file)
    assert.equal(f.read(), 'token-aaaa')
    rmSync(file)
    await nextTurn()
    assert.throws(() => f.read(), { code: 'ENOENT' })
    writeFileSync(file, 'token-cccc')
    assert.equal(f.read(), 'token-cccc', 'a failed check is not kept for the turn')
  })

  test('a file of exactly its cap is read; one byte more is refused, by size, and the reason says the cap', async () => {
    const file = path.join(tempDir(), 'token')
    writeFileSync(file, 'a'.repeat(FILE_LIMITS.credential))
    age(file, 60)
    const f = new FreshFile(file)
    assert.equal(f.read().length, FILE_LIMITS.credential)
    appendFileSync(file, 'b')
    await nextTurn()
    assert.throws(() => f.read(), (err: unknown) => err instanceof FileRefusedError && err.code === 'EFBIG' && err.message === 'is larger than 64 KiB')
  })

  test('the PEM cap is 4 MiB; a cap that is not whole KiB is worded in bytes', () => {
    const file = path.join(tempDir(), 'ca.pem')
    writeFileSync(file, 'x'.repeat(FILE_LIMITS.pem))
    assert.equal(readBoundedFile(file, FILE_LIMITS.pem).length, FILE_LIMITS.pem)
    assert.throws(() => readBoundedFile(file, FILE_LIMITS.pem - 1), { message: `is larger than ${FILE_LIMITS.pem - 1} B` })
  })

  test('a file with more than its stat said (growing under us) is read on, and still bounded', () => {
    // procfs files stat as regular files of size 0 and hold more: the case of a file that grew after fstat.
    const status = readBoundedFile('/proc/self/status', FILE_LIMITS.credential)
    assert.match(status, /^VmHWM:/m)
    assert.throws(() => readBoundedFile('/proc/self/status', 100), { code: 'EFBIG', message: 'is larger than 100 B' })
  })
})
