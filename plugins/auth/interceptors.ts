// The auth layers of a job's client. basic_auth and authorization set
// Authorization only when no outer layer has (Prometheus's round-trippers);
// oauth2 sets it always (plugins/auth/oauth2.ts). Values from files are read
// on every request.
import { Layer, type ClientBuilder } from '../../src/client/feature.js'
import { headerInterceptor } from '../../src/client/interceptor.js'
import { invalidHeaderValue, utf8HeaderValue } from '../../src/client/headers.js'
import { readValue, type ValueSource } from '../../src/client/secret.js'
import { Errors } from '../../src/errors.js'
import type { AuthSettings, Authorization, BasicAuth } from './settings.js'
import { compileOAuth2 } from './oauth2.js'

/** A value getter that stays synchronous for inline values (the common hot path). */
function getter (src: ValueSource | undefined, what: string): () => string | Promise<string> {
  if (src === undefined) return () => ''
  if (src.kind === 'inline') {
    const v = src.value
    return () => v.reveal()
  }
  return () => readValue(src, what)
}

/**
 * The header value as the bytes Go would send (see utf8HeaderValue). A control
 * character (a credentials file of two lines) fails the scrape in Prometheus
 * too; here it names the credentials, never their content, instead of
 * surfacing as a connection error.
 */
function headerBytes (value: string, from: string): string {
  if (invalidHeaderValue(value)) {
    throw new Errors.CREDENTIALS(`${from}: net/http: invalid header field value for "Authorization" (control character in the credentials)`)
  }
  return utf8HeaderValue(value)
}

function credentialsOrigin (a: Authorization): string {
  const c = a.credentials
  if (c?.kind === 'file') return `${c.key} ${c.file.path}`
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
    // Both read; a failure is reported for the username first, as Go reads it first.
    return Promise.allSettled([u, p]).then(([ru, rp]) => {
      if (ru.status === 'rejected') throw ru.reason
      if (rp.status === 'rejected') throw rp.reason
      return encode(ru.value, rp.value)
    })
  }
}

export async function compileAuth (settings: AuthSettings, client: ClientBuilder): Promise<void> {
  if (settings.kind === 'oauth2') {
    await compileOAuth2(settings.oauth2, client)
  } else if (settings.kind === 'basic_auth') {
    client.use(Layer.BasicAuth, headerInterceptor('authorization', basicValue(settings.basic), true))
  } else {
    client.use(Layer.Authorization, headerInterceptor('authorization', authorizationValue(settings.authorization), true))
  }
}
