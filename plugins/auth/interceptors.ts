// The auth layers of a job's client. Each sets Authorization only when no
// outer layer has (Prometheus's basic/authorization round-trippers); values
// from files are read on every request.
import { Layer, type ClientBuilder } from '../../src/client/feature.js'
import { headerInterceptor } from '../../src/client/interceptor.js'
import { readValue, type ValueSource } from '../../src/client/secret.js'
import { Errors } from '../../src/errors.js'
import type { AuthSettings, Authorization, BasicAuth } from './settings.js'

/** A value getter that stays synchronous for inline values (the common hot path). */
function getter (src: ValueSource | undefined, what: string): () => string | Promise<string> {
  if (src === undefined) return () => ''
  if (src.kind === 'inline') {
    const v = src.value
    return () => v.reveal()
  }
  return () => readValue(src, what)
}

// Control characters other than HTAB: Go's transport refuses such a header
// value (httpguts.ValidHeaderFieldValue), and so does undici.
const HEADER_CTL = /[\x00-\x08\x0a-\x1f\x7f]/

/**
 * The header value as the bytes Go would send. Go writes the UTF-8 bytes of
 * the credentials; undici writes a string as latin1, so it is given those
 * bytes one character each. A control character (a credentials file of two
 * lines) fails the scrape in Prometheus too; here it names the credentials,
 * never their content, instead of surfacing as a connection error.
 */
function headerBytes (value: string, from: string): string {
  if (HEADER_CTL.test(value)) {
    throw new Errors.CREDENTIALS(`${from}: net/http: invalid header field value for "Authorization" (control character in the credentials)`)
  }
  return Buffer.from(value, 'utf8').toString('latin1')
}

function credentialsOrigin (a: Authorization): string {
  const c = a.credentials
  if (c?.kind === 'file') return `${c.key} ${c.path}`
  return a.from === 'authorization' ? 'authorization.credentials' : a.from
}

function authorizationValue (a: Authorization): () => string | Promise<string> {
  const credentials = getter(a.credentials, 'authorization credentials')
  const from = credentialsOrigin(a)
  // Go's HTTP/1.1 writer trims the trailing space of "Bearer " when credentials are empty.
  const join = (c: string): string => headerBytes(c === '' ? a.type : `${a.type} ${c}`, from)
  return () => {
    const c = credentials()
    return typeof c === 'string' ? join(c) : c.then(join)
  }
}

function basicValue (b: BasicAuth): () => string | Promise<string> {
  const username = getter(b.username, 'basic auth username')
  const password = getter(b.password, 'basic auth password')
  const encode = (u: string, p: string): string => 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64')
  return () => {
    const u = username()
    const p = password()
    if (typeof u === 'string' && typeof p === 'string') return encode(u, p)
    return Promise.all([u, p]).then(([uu, pp]) => encode(uu, pp))
  }
}

export function compileAuth (settings: AuthSettings, client: ClientBuilder): void {
  if (settings.kind === 'basic_auth') {
    client.use(Layer.BasicAuth, headerInterceptor('authorization', basicValue(settings.basic), true))
  } else {
    client.use(Layer.Authorization, headerInterceptor('authorization', authorizationValue(settings.authorization), true))
  }
}
