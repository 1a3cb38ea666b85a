// The log destination: info lines in batches, a warning at once (with what
// came before it), the rest at close. A real file stands in for stdout.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, openSync, readFileSync, closeSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pino from 'pino'
import { logDestination } from '../src/log.js'

function messages (file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as { msg: string }).msg)
}

test('info lines wait for a batch; a warning writes them and itself at once; close writes the rest', () => {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'sg-log-')), 'out.log')
  const fd = openSync(file, 'w')
  const destination = logDestination(fd)
  const log = pino({ level: 'info' }, destination.stream)
  log.info('first probe')
  log.info('second probe')
  assert.deepEqual(messages(file), [], 'short info lines are batched')
  log.warn('probe failed')
  assert.deepEqual(messages(file), ['first probe', 'second probe', 'probe failed'])
  log.info('third probe')
  assert.deepEqual(messages(file).length, 3)
  destination.close()
  assert.deepEqual(messages(file), ['first probe', 'second probe', 'probe failed', 'third probe'])
  closeSync(fd)
})

test('a batch is written once it reaches 4 KiB', () => {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'sg-log-')), 'out.log')
  const fd = openSync(file, 'w')
  const destination = logDestination(fd)
  const log = pino({ level: 'info' }, destination.stream)
  for (let i = 0; i < 100; i++) log.info({ job: 'kube-state-metrics', target: '10.0.0.7:8443', i }, 'probe')
  const written = messages(file).length
  assert.ok(written > 0 && written < 100, `${written} of 100 lines written before close`)
  destination.close()
  assert.equal(messages(file).length, 100)
  closeSync(fd)
})
