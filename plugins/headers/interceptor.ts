// The http_headers layer (Layer.Headers, the outermost): appends each
// configured header to every request, values then secrets then files, as
// Go's Header.Add does (never replacing). Files are read as they are at every
// request (src/client/fresh-file.ts) and trimmed. Each request gets a fresh
// copy of the headers it came with, so nothing piles up across scrapes
// (prometheus/common#981).
//
// Secrets and files hold credentials (API keys, tenant tokens): a redirect
// hop to another host must not carry them, whatever the header's name.
// Prometheus drops only its fixed set (Authorization, Cookie, ...) there;
// this layer tells the redirect layer what a cross-host hop gets instead
// (ProbeDispatchOptions.crossHostHeaders): the header's plain `values` only.
import type { Interceptor, ProbeDispatchOptions } from '../../src/client/feature.js'
import { fail } from '../../src/client/interceptor.js'
import { append, invalidHeaderValue, toRecord, utf8HeaderValue, type HeaderRecord } from '../../src/client/headers.js'
import { readSecretFile } from '../../src/client/secret.js'
import { Errors } from '../../src/errors.js'
import type { ConfiguredHeader, HeaderFile, HeadersSettings } from './settings.js'

/** Read synchronously, as every credentials file is (see readValue in src/client/secret.ts). */
function readHeaderFile (file: HeaderFile, name: string): string {
  const value = readSecretFile(file.file, file.key, 'unable to read headers file')
  if (invalidHeaderValue(value)) {
    throw new Errors.CREDENTIALS(`${file.key} ${file.file.path}: net/http: invalid header field value for ${JSON.stringify(name)} (control character in the file)`)
  }
  return utf8HeaderValue(value)
}

function addAll (out: HeaderRecord, headers: readonly ConfiguredHeader[], fromFiles: readonly string[][]): HeaderRecord {
  headers.forEach((h, i) => {
    for (const v of h.values) append(out, h.field, v)
    for (const s of h.secrets) append(out, h.field, s.reveal())
    for (const v of fromFiles[i] ?? []) append(out, h.field, v)
  })
  return out
}

/** For each header name that has secrets or files: its plain values, which alone may cross hosts. */
function plainValues (headers: readonly ConfiguredHeader[]): Map<string, string[]> {
  const guarded = new Set(headers.filter((h) => h.secrets.length > 0 || h.files.length > 0).map((h) => h.field))
  const plain = new Map<string, string[]>()
  for (const h of headers) if (guarded.has(h.field)) plain.set(h.field, [...(plain.get(h.field) ?? []), ...h.values])
  return plain
}

/** What a cross-host hop carries of each guarded header: what the request came with, then the plain values. */
function crossHostHeaders (incoming: HeaderRecord, plain: ReadonlyMap<string, string[]>): NonNullable<ProbeDispatchOptions['crossHostHeaders']> {
  const out: HeaderRecord = {}
  for (const [field, values] of plain) {
    const before = incoming[field]
    if (before !== undefined) out[field] = before
    for (const v of values) append(out, field, v)
  }
  return Object.fromEntries([...plain.keys()].map((field) => [field, out[field]]))
}

export function headersInterceptor ({ headers }: HeadersSettings): Interceptor {
  const anyFiles = headers.some((h) => h.files.length > 0)
  const plain = plainValues(headers)
  return (dispatch) => (opts, handler) => {
    let fromFiles: string[][] = []
    if (anyFiles) {
      try {
        fromFiles = headers.map((h) => h.files.map((f) => readHeaderFile(f, h.name)))
      } catch (err) {
        fail(handler, err as Error)
        return true
      }
    }
    const incoming = toRecord(opts.headers)
    const out = { ...opts, headers: addAll({ ...incoming }, headers, fromFiles) }
    return dispatch(plain.size === 0 ? out : { ...out, crossHostHeaders: crossHostHeaders(incoming, plain) } as ProbeDispatchOptions, handler)
  }
}
