// Secret values and file-backed values. A Secret never prints its content
// (logs, errors, /config, util.inspect); a file-backed value is re-read and
// trimmed on every use, so a rotated token works without a reload.
import { readFile } from 'node:fs/promises'
import { inspect } from 'node:util'
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

/** Where a value comes from: inline in the config, or a file read per use. */
export type ValueSource =
  | { kind: 'inline', value: Secret }
  | { kind: 'file', path: string, key: string }

/**
 * Reads a value for one request. `what` names the value the way Prometheus's
 * errors do (`authorization credentials`, `basic auth password`); the error
 * names the config key and path, never the content.
 */
export async function readValue (source: ValueSource, what: string): Promise<string> {
  if (source.kind === 'inline') return source.value.reveal()
  try {
    return (await readFile(source.path, 'utf8')).trim()
  } catch (err) {
    throw new Errors.CREDENTIALS(
      `${source.key}: unable to read ${what}: unable to read file ${source.path}: ${goFileError(err, source.path)}`,
      { cause: err },
    )
  }
}

/** The form /config shows a value source in. */
export function describeSource (source: ValueSource | undefined): string | undefined {
  if (source === undefined) return undefined
  return source.kind === 'inline' ? '<secret>' : source.path
}
