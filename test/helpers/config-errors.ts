// A config that must not load, through the real server build (every feature
// plugin registered, as `scrape-gateway --config.file` runs it): the
// ConfigError it fails with, and the assertion that it names
// FILE:LINE:COL, the key path and the message.
import assert from 'node:assert/strict'
import { buildServer } from '../../src/server.js'
import { ConfigError } from '../../src/config/load.js'
import { writeConfig } from './gateway.js'
import { tmpDir } from './pki.js'

export interface Expected {
  line: number
  col: number
  /** The key path, e.g. `scrape_configs[1].tls_config.ca_fil`; '' for none. */
  path: string
  message: string
}

/** A fresh directory for a config file (relative paths in it resolve against it). */
export function configDir (): string {
  return tmpDir('sg-config-errors-')
}

/** Builds the server from `file` and returns the ConfigError it must fail with. */
export async function fileError (file: string): Promise<ConfigError> {
  const err: unknown = await buildServer({ configFile: file, logLevel: false }).then(
    async (app) => { await app.close(); return undefined },
    (e: unknown) => e
  )
  assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`)
  return err
}

/** Writes `yaml` to `dir` and returns the ConfigError it must fail with. */
export async function loadError (yaml: string, dir = configDir()): Promise<{ file: string, err: ConfigError }> {
  const file = writeConfig(yaml, dir)
  return { file, err: await fileError(file) }
}

/** Loads `yaml` and asserts it is refused with exactly `FILE:LINE:COL: path: message`. */
export async function rejects (yaml: string, want: Expected, dir = configDir()): Promise<ConfigError> {
  const { file, err } = await loadError(yaml, dir)
  const where = want.path === '' ? '' : `${want.path}: `
  assert.equal(err.message, `${file}:${want.line}:${want.col}: ${where}${want.message}`)
  assert.equal(err.line, want.line)
  assert.equal(err.col, want.col)
  assert.equal(err.keyPath, want.path)
  assert.equal(err.detail, want.message)
  return err
}
