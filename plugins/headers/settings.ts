// Decoding and validation of `http_headers` (prometheus/common Headers, since
// v0.54): `{Name: {values: [...], secrets: [...], files: [...]}}`. A reserved
// name is refused with Prometheus's message (HTTPClientConfig.Validate rule
// 8); a name or inline value that Go's transport would refuse on every
// request is refused here, at load.
import type { MapCursor } from '../../src/config/cursor.js'
import { credentialFileAt, secretAt, type Secret } from '../../src/client/secret.js'
import type { FreshFile } from '../../src/client/fresh-file.js'
import { canonicalHeaderKey, invalidHeaderValue, utf8HeaderValue, validHeaderName } from '../../src/client/headers.js'

/** Names Prometheus will not let http_headers set (canonical form). */
export const RESERVED_HEADERS: ReadonlySet<string> = new Set([
  'Authorization', 'Host', 'Content-Encoding', 'Content-Length', 'Content-Type', 'User-Agent',
  'Connection', 'Keep-Alive', 'Proxy-Authenticate', 'Proxy-Authorization', 'Www-Authenticate', 'Accept-Encoding',
  'X-Prometheus-Remote-Write-Version', 'X-Prometheus-Remote-Read-Version', 'X-Prometheus-Scrape-Timeout-Seconds',
  'X-Amz-Date', 'X-Amz-Security-Token', 'X-Amz-Content-Sha256',
])

export interface HeaderFile {
  /** Read as it is on every request. */
  readonly file: FreshFile
  /** The config key, e.g. `http_headers.X-Api-Key.files[0]`, for error messages. */
  readonly key: string
}

export interface ConfiguredHeader {
  /** As written. */
  readonly name: string
  /** Lower case, as the core's header records hold it. */
  readonly field: string
  readonly values: readonly string[]
  readonly secrets: readonly Secret[]
  readonly files: readonly HeaderFile[]
}

export interface HeadersSettings {
  readonly headers: readonly ConfiguredHeader[]
}

const HEADER_KEYS = ['values', 'secrets', 'files']

export function decodeHeaders (job: MapCursor): HeadersSettings | undefined {
  if (!job.set('http_headers')) return undefined
  const m = job.at('http_headers').map()
  // Unmarshal: each header's shape.
  const blocks = m.keys().map((name) => {
    const h = m.at(name).map()
    for (const key of h.keys()) {
      if (!HEADER_KEYS.includes(key)) throw h.keyCursor(key).error(`field ${key} not found in type config.plain`)
    }
    return { name, h, values: h.at('values').list(), secrets: h.at('secrets').list(), files: h.at('files').list() }
  })
  for (const b of blocks) for (const c of [...b.values, ...b.secrets, ...b.files]) c.string()

  // Validate, rule 8.
  for (const { name } of blocks) {
    const canonical = canonicalHeaderKey(name)
    if (RESERVED_HEADERS.has(canonical)) throw m.keyCursor(name).error(`setting header ${JSON.stringify(canonical)} is not allowed`)
  }

  const headers = blocks.map(({ name, values, secrets, files }): ConfiguredHeader => {
    if (!validHeaderName(name)) throw m.keyCursor(name).error(`invalid header name ${JSON.stringify(name)}`)
    for (const c of [...values, ...secrets]) {
      if (invalidHeaderValue(c.string())) throw c.error(`invalid value for header ${JSON.stringify(name)}: control character`)
    }
    return {
      name,
      field: name.toLowerCase(),
      values: values.map((c) => utf8HeaderValue(c.string())),
      secrets: secrets.map((c) => secretAt(c, utf8HeaderValue)),
      files: files.map((c, i) => ({ file: credentialFileAt(c), key: `http_headers.${name}.files[${i}]` })),
    }
  })
  return { headers }
}
