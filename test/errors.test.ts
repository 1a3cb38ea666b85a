// Every error code is unique, has a 4xx/5xx status, and is documented in README.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { ALL_CODES, Errors } from '../src/errors.js'

test('error codes are unique, prefixed and carry an HTTP error status', () => {
  assert.equal(new Set(ALL_CODES).size, ALL_CODES.length)
  for (const E of Object.values(Errors)) {
    const e = E()
    assert.match(e.code, /^SG_[A-Z0-9_]+$/)
    assert.ok(typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 600, e.code)
  }
})

test('README documents every error code with its status', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
  for (const E of Object.values(Errors)) {
    const e = E()
    assert.match(readme, new RegExp(`\\| \`${e.code}\` \\| ${e.statusCode} \\|`), `${e.code} (${e.statusCode}) missing from README's error table`)
  }
})
