// The http_headers layer (Layer.Headers, the outermost): appends each
// configured header to every request, values then secrets then files, as
// Go's Header.Add does (never replacing). Files are read as they are at every
// request (src/client/fresh-file.ts) and trimmed. Each request gets a fresh
// copy of the headers it came with, so nothing piles up across scrapes
// (prometheus/common#981).
import type { Interceptor } from '../../src/client/feature.js'
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

export function headersInterceptor ({ headers }: HeadersSettings): Interceptor {
  const anyFiles = headers.some((h) => h.files.length > 0)
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
    return dispatch({ ...opts, headers: addAll({ ...toRecord(opts.headers) }, headers, fromFiles) }, handler)
  }
}
