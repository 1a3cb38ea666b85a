// Secret values and file-backed values. A Secret never prints its content
// (logs, errors, /config, util.inspect, JSON, template literals): it prints
// `<secret>`, as prometheus/common's config.Secret marshals. A file-backed
// value is the file's current content on every use
// (src/client/fresh-file.ts), trimmed, so a rotated token works without a
// reload.
//
// The placeholder is never a value: a config that holds `<secret>` where a
// secret goes (the output of /config pasted back) is refused at load.
// Prometheus reads it back verbatim and sends `<secret>` as the credential,
// which fails at the target with nothing pointing at the config
// (README "Where the gateway differs from Prometheus").
import { inspect } from 'node:util'
import { FreshFile } from './fresh-file.js'
import { Errors } from '../errors.js'
import { queryEscape } from '../go-format.js'
import type { Cursor } from '../config/cursor.js'
import { goFileError, refusedAtLoad } from '../config/files.js'
import { FILE_LIMITS } from '../config/bounded-file.js'

/** What a secret prints as, everywhere. */
export const SECRET_PLACEHOLDER = '<secret>'

/** Why `<secret>` cannot be a secret's value: the message of a load error. */
const PLACEHOLDER_MESSAGE = `"${SECRET_PLACEHOLDER}" is what scrape-gateway (like Prometheus) prints in place of a secret, not a secret: ` +
  'write the real value here (a config copied from /config has none)'

/** Thrown by `new Secret('<secret>')`: a guard. The decoders (secretAt, the oauth2 token request) refuse the placeholder at its key before they build a Secret, so only a path that forgot to check meets it. */
class PlaceholderSecretError extends Error {
  constructor () {
    super(PLACEHOLDER_MESSAGE)
    this.name = 'PlaceholderSecretError'
  }
}

export class Secret {
  readonly #value: string

  constructor (value: string) {
    // Whoever builds a Secret from what a file says, the placeholder never passes for a value.
    if (value === SECRET_PLACEHOLDER) throw new PlaceholderSecretError()
    this.#value = value
  }

  reveal (): string {
    return this.#value
  }

  toJSON (): string {
    return SECRET_PLACEHOLDER
  }

  toString (): string {
    return SECRET_PLACEHOLDER
  }

  // `${s}`, `'' + s`, String(s), Buffer.from(s): every conversion is the placeholder.
  [Symbol.toPrimitive] (): string {
    return SECRET_PLACEHOLDER
  }

  [inspect.custom] (): string {
    return SECRET_PLACEHOLDER
  }
}

/** The secret written at config key `c` (a string); `<secret>` is refused there, with file:line. */
export function secretAt (c: Cursor, transform: (s: string) => string = (s) => s): Secret {
  const written = c.string()
  if (written === SECRET_PLACEHOLDER) throw c.error(PLACEHOLDER_MESSAGE)
  return new Secret(transform(written))
}

/**
 * The forms in which `secret` may show up in a text that echoes a request:
 * as it is, URL-encoded (Go's QueryEscape and encodeURIComponent), inside a
 * JSON string, and in base64 (alone, as a Basic header carries it). A text
 * that may echo a secret is cleaned of all of them (oauth2's token errors).
 * Longest first, so no form is cut by a shorter one's replacement.
 */
export function secretForms (secret: string): string[] {
  if (secret === '') return []
  const forms = new Set([
    secret,
    queryEscape(secret),
    encodeURIComponent(secret),
    JSON.stringify(secret).slice(1, -1),
    Buffer.from(secret).toString('base64'),
    Buffer.from(secret).toString('base64url'),
  ])
  return [...forms].sort((a, b) => b.length - a.length)
}

/** `text` with every form of every one of `secrets` replaced by `<secret>`. */
export function hideSecrets (text: string, secrets: readonly string[]): string {
  const forms = [...new Set(secrets.flatMap(secretForms))].sort((a, b) => b.length - a.length)
  return forms.reduce((acc, form) => acc.split(form).join(SECRET_PLACEHOLDER), text)
}

/** Where a value comes from: inline in the config, or a file as it is at each use. */
export type ValueSource =
  | { kind: 'inline', value: Secret }
  | { kind: 'file', file: FreshFile, key: string }

/**
 * The credentials file named at config key `c`, read at each use. A file that
 * is there but can never be a credential (a named pipe, a device, a
 * directory, a symlink loop, over 64 KiB) is refused now, with file:line; a
 * missing one is not, as in Prometheus (it may appear before the first scrape).
 */
export function credentialFileAt (c: Cursor): FreshFile {
  const path = c.filePath()
  const refused = refusedAtLoad(path, FILE_LIMITS.credential)
  if (refused !== undefined) throw c.error(refused)
  return new FreshFile(path)
}

/** fileSource for the file named at config key `c`, checked as credentialFileAt does. */
export function fileSourceAt (c: Cursor, key: string): ValueSource {
  return { kind: 'file', file: credentialFileAt(c), key }
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
  return { [key]: plain ? source.value.reveal() : SECRET_PLACEHOLDER }
}
