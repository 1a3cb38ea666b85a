// The oauth2 layer of a job's client (Layer.Auth): every scrape gets
// `Authorization: <token_type> <token>`, set unconditionally as
// oauth2.Transport does. The token endpoint has its own client, built like a
// job's from oauth2's own tls_config and proxy keys.
import type { Dispatcher } from 'undici'
import { buildClient, type ClientSpec } from '../../src/client/build.js'
import { Layer, type ClientBuilder, type Interceptor, type ProbeDispatchOptions } from '../../src/client/feature.js'
import type { TokenFacts } from '../../src/client/record.js'
import { fail } from '../../src/client/interceptor.js'
import { invalidHeaderValue, toRecord, utf8HeaderValue, withHeader } from '../../src/client/headers.js'
import { classify } from '../../src/classify.js'
import { Errors } from '../../src/errors.js'
import { ClientCredentials } from './client-credentials.js'
import { JwtBearer } from './jwt-bearer.js'
import type { OAuth2Settings } from './settings.js'
import { authorizationScheme, type Token } from './token-request.js'
import { TokenSource } from './token-source.js'

function authorization (token: Token): string {
  const value = `${authorizationScheme(token.tokenType)} ${token.accessToken.reveal()}`
  if (invalidHeaderValue(value)) {
    throw new Errors.OAUTH2_TOKEN('oauth2: the token endpoint sent a token that cannot be a header value (control character)')
  }
  return utf8HeaderValue(value)
}

function userAgent (opts: Dispatcher.DispatchOptions): string | undefined {
  const ua = toRecord(opts.headers)['user-agent']
  return Array.isArray(ua) ? ua[0] : ua
}

export function oauth2Interceptor (source: TokenSource, shownUrl: string): Interceptor {
  return (dispatch) => (opts, handler) => {
    const probe = (opts as ProbeDispatchOptions).probe
    // The probe's record shows the wait for the token (cached: next to none).
    const waited: TokenFacts | undefined = probe?.record === undefined ? undefined : { url: shownUrl, startedAt: performance.now(), readyAt: undefined }
    if (probe?.record !== undefined) probe.record.token = waited
    source.token(probe?.signal, userAgent(opts)).then((token) => {
      if (waited !== undefined) waited.readyAt = performance.now()
      try {
        dispatch({ ...opts, headers: withHeader(opts.headers, 'authorization', authorization(token)) }, handler)
      } catch (err) {
        fail(handler, err as Error)
      }
    }, (err: unknown) => {
      // The scrape's own deadline may have passed while it waited for the token.
      fail(handler, classify(err, { phase: 'wait', waitingFor: `waiting for the oauth2 token from ${shownUrl}` }))
    })
    return true
  }
}

/**
 * The token endpoint's client: the core's client builder run over a client of
 * its own whose only features are oauth2's tls_config and proxy keys, so the
 * endpoint gets the same TLS and proxy handling as a scrape target.
 */
function tokenEndpointClient (job: string, url: URL, s: OAuth2Settings): ClientSpec {
  return {
    name: `${job} (oauth2 token endpoint)`,
    scheme: url.protocol === 'https:' ? 'https' : 'http',
    client: s.transport,
  }
}

export async function compileOAuth2 (s: OAuth2Settings, client: ClientBuilder): Promise<void> {
  const url = new URL(s.tokenUrl.reveal())
  const shownUrl = s.tokenUrl.shown
  const endpoint = await buildClient(tokenEndpointClient(client.job, url, s))
  const grant = s.grant.type === 'jwt-bearer' ? new JwtBearer(s, s.grant) : new ClientCredentials(s, s.grant)
  const source = new TokenSource(grant, { dispatcher: endpoint.dispatcher, url, shownUrl, hidden: s.tokenUrl.secrets() })
  client.onClose(async () => {
    source.close()
    await endpoint.close()
  })
  client.use(Layer.Auth, oauth2Interceptor(source, shownUrl))
}
