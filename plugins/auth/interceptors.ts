// The auth layers of a job's client. Each sets Authorization only when no
// outer layer has (Prometheus's basic/authorization round-trippers); values
// from files are read on every request.
import { Layer, type ClientBuilder } from '../../src/client/feature.js'
import { headerInterceptor } from '../../src/client/interceptor.js'
import { readValue, type ValueSource } from '../../src/client/secret.js'
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

function authorizationValue (a: Authorization): () => string | Promise<string> {
  const credentials = getter(a.credentials, 'authorization credentials')
  // Go's HTTP/1.1 writer trims the trailing space of "Bearer " when credentials are empty.
  const join = (c: string): string => (c === '' ? a.type : `${a.type} ${c}`)
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
