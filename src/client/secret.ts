// Secret values and file-backed values. A Secret never prints its content
// (logs, errors, /config, util.inspect); a file-backed value is the file's
// current content on every use (src/client/fresh-file.ts), trimmed, so a
// rotated token works without a reload.
import { inspect } from 'node:util'
import { FreshFile } from './fresh-file.js'
import { Errors } from '../errors.js'
import { goFileError } from '../config/files.js'

export class Secret {
  readonly #value: string

  constructor (value: string) {
    this.#value = value
  }

  reveal (): string {
    return this.#value
  }

  toJSON (): string {
    return '<secret>'
  }

  toString (): string {
    return '<secret>'
  }

  [inspect.custom] (): string {
    return '<secret>'
  }
}

/** Where a value comes from: inline in the config, or a file as it is at each use. */
export type ValueSource =
  | { kind: 'inline', value: Secret }
  | { kind: 'file', file: FreshFile, key: string }

/** A file-backed value source for config key `key`. */
export function fileSource (path: string, key: string): ValueSource {
  return { kind: 'file', file: new FreshFile(path), key }
}

/**
 * Reads a value for one request. `what` names the value the way Prometheus's
 * errors do (`authorization credentials`, `basic auth password`); the error
 * names the config key and path, never the content.
 *
 * Synchronous on purpose: a credentials file is a few bytes on a local or
 * tmpfs volume (a Kubernetes secret), where an async read costs thread-pool
 * round trips (latency per probe, and an fd per concurrent probe: figures in
 * README "scrape_configs[]").
 * Credential files on a network filesystem that can hang would stall the
 * gateway; keep them local.
 */
export function readValue (source: ValueSource, what: string): string {
  if (source.kind === 'inline') return source.value.reveal()
  return readSecretFile(source.file, source.key, `unable to read ${what}: unable to read file`)
}

/**
 * A credentials file's content, trimmed. When it cannot be read: SG_CREDENTIALS
 * `<key>: <failure> <path>: <Go's wording of the error>`, never the content.
 */
export function readSecretFile (file: FreshFile, key: string, failure: string): string {
  try {
    return file.read().trim()
  } catch (err) {
    throw new Errors.CREDENTIALS(
      `${key}: ${failure} ${file.path}: ${goFileError(err, file.path)}`,
      { cause: err }
    )
  }
}

/**
 * How /config shows a value source, under Prometheus's keys: `key` with the
 * value hidden (or shown, for what Prometheus does not hide: a basic_auth
 * username), or `key_file` with the path.
 */
export function describeSource (key: string, source: ValueSource | undefined, { plain = false } = {}): Record<string, string> {
  if (source === undefined) return {}
  if (source.kind === 'file') return { [`${key}_file`]: source.file.path }
  return { [key]: plain ? source.value.reveal() : '<secret>' }
}
