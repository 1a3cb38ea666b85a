// Decoding and validation of a job's `oauth2` block (prometheus/common OAuth2),
// in the auth slot's phases (src/config/slot.ts): its own unmarshal (shape,
// tls_config, proxy keys), then the oauth2 part of HTTPClientConfig.Validate
// (rules 6b-6f), then what the gateway checks at load that Prometheus would
// only find when fetching a token. The token URL may carry secrets in its
// query (`?client_secret=...`): it is a SecretUrl, printed with them hidden.
import { createPrivateKey } from 'node:crypto'
import type { Node } from 'yaml'
import type { Cursor, MapCursor } from '../../src/config/cursor.js'
import type { FeatureSet, FeatureUse, SlotClaim } from '../../src/config/feature.js'
import type { ClientFeature } from '../../src/client/feature.js'
import { describeSource, type ValueSource } from '../../src/client/secret.js'
import { redactUrl, SecretUrl } from '../../src/client/secret-url.js'
import { atMostOneGiven, given, refuseRefs, source, strictMap } from '../auth/fields.js'

export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer'
export const SIGNATURE_ALGORITHMS = ['RS256', 'RS384', 'RS512'] as const
export type SignatureAlgorithm = typeof SIGNATURE_ALGORITHMS[number]

export interface ClientCredentialsGrant {
  readonly type: 'client_credentials'
  /** client_secret or client_secret_file; none sends an empty secret. */
  readonly secret: ValueSource | undefined
}

export interface JwtBearerGrant {
  readonly type: 'jwt-bearer'
  /** The RSA private key (PEM) that signs the assertion. */
  readonly key: ValueSource
  readonly keyId: string
  readonly algorithm: SignatureAlgorithm
  readonly iss: string
  /** As written; undefined: the token URL. */
  readonly audience: string | undefined
  readonly claims: Readonly<Record<string, unknown>>
}

export interface OAuth2Settings {
  readonly clientId: string
  /** Absolute http(s); may carry secrets in its query, so it prints them hidden. */
  readonly tokenUrl: SecretUrl
  readonly scopes: readonly string[]
  /** In the order written. */
  readonly endpointParams: ReadonlyArray<readonly [string, string]>
  readonly grant: ClientCredentialsGrant | JwtBearerGrant
  /** The token endpoint's own client features: oauth2.tls_config and the oauth2 proxy keys. */
  readonly transport: ReadonlyArray<FeatureUse<ClientFeature>>
}

const OAUTH2_KEYS = [
  'client_id', 'client_secret', 'client_secret_file', 'client_secret_ref',
  'client_certificate_key', 'client_certificate_key_file', 'client_certificate_key_ref', 'client_certificate_key_id',
  'grant_type', 'signature_algorithm', 'iss', 'audience', 'claims', 'scopes', 'token_url', 'endpoint_params',
  'tls_config', 'proxy_url', 'no_proxy', 'proxy_from_environment', 'proxy_connect_header',
]
const STRING_KEYS = [
  'client_id', 'client_secret', 'client_secret_file', 'client_secret_ref',
  'client_certificate_key', 'client_certificate_key_file', 'client_certificate_key_ref', 'client_certificate_key_id',
  'grant_type', 'signature_algorithm', 'iss', 'audience', 'token_url',
]

/** The block after its own unmarshal: shape checked, TLS and proxy settings decoded. */
export interface OAuth2Claim extends SlotClaim {
  readonly m: MapCursor
  readonly scopes: string[]
  readonly endpointParams: Array<[string, string]>
  readonly transport: Array<FeatureUse<ClientFeature>>
}

/** The job's oauth2 block, unmarshalled; `transport` decodes its tls_config and proxy keys (the tls and proxy features). */
export function readOAuth2 (job: MapCursor, transport: FeatureSet<ClientFeature>): OAuth2Claim | undefined {
  if (!job.set('oauth2')) return undefined
  const m = strictMap(job.at('oauth2'), OAUTH2_KEYS)
  for (const key of STRING_KEYS) m.at(key).string()
  const scopes = m.at('scopes').stringList()
  const params = m.at('endpoint_params').map()
  const endpointParams = params.keys().map((k): [string, string] => [k, params.at(k).string()])
  m.at('claims').map()
  return { key: 'oauth2', m, scopes, endpointParams, transport: transport.decode(m) }
}

function checkTokenUrl (c: Cursor): SecretUrl {
  const written = c.string()
  let url: URL | undefined
  try {
    url = new URL(written)
  } catch {
    url = undefined
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    throw c.error(`invalid oauth2 token_url ${JSON.stringify(redactUrl(written))}: want an absolute http:// or https:// URL`)
  }
  try {
    return new SecretUrl(written)
  } catch (err) {
    throw c.error((err as Error).message)
  }
}

/** golang-jwt's ParseRSAPrivateKeyFromPEM, as far as its errors go. Returns the error, or undefined. */
export function rsaKeyProblem (pem: string): string | undefined {
  if (!pem.includes('-----BEGIN')) return 'invalid key: Key must be a PEM encoded PKCS1 or PKCS8 key'
  try {
    const key = createPrivateKey(pem)
    return key.asymmetricKeyType === 'rsa' ? undefined : 'key is not a valid RSA private key'
  } catch {
    return 'invalid key: Key must be a PEM encoded PKCS1 or PKCS8 key'
  }
}

function jwtGrant (m: MapCursor, clientId: string): JwtBearerGrant {
  const key = source(m, 'client_certificate_key', 'client_certificate_key_file', 'oauth2.client_certificate_key_file')
  if (key === undefined) {
    throw m.error(`oauth2 client_certificate_key or client_certificate_key_file must be configured using grant-type=${JWT_BEARER}`)
  }
  if (key.kind === 'inline') {
    const problem = rsaKeyProblem(key.value.reveal())
    if (problem !== undefined) throw m.at('client_certificate_key').error(`unable to use oauth2 client_certificate_key: ${problem}`)
  }
  const algorithm = (m.at('signature_algorithm').string() || 'RS256') as SignatureAlgorithm
  const claimsCursor = m.at('claims')
  const claims = claimsCursor.isNull() ? {} : (claimsCursor.node as Node).toJS(m.src.doc) as Record<string, unknown>
  return {
    type: 'jwt-bearer',
    key,
    keyId: m.at('client_certificate_key_id').string(),
    algorithm,
    iss: m.at('iss').string() || clientId,
    audience: m.at('audience').string() || undefined,
    claims,
  }
}

/** Rules 6b-6f. Its refusal of basic_auth (6a) comes first; see the oauth2 feature's collisions. */
export function checkOAuth2 ({ m }: OAuth2Claim): void {
  if (m.at('client_id').string() === '') throw m.at('client_id').error('oauth2 client_id must be configured')
  if (!given(m, 'token_url')) throw m.at('token_url').error('oauth2 token_url must be configured')
  if (m.at('grant_type').string() === JWT_BEARER) {
    atMostOneGiven(m, ['client_certificate_key', 'client_certificate_key_file', 'client_certificate_key_ref'],
      `at most one of oauth2 client_certificate_key, client_certificate_key_file & client_certificate_key_ref must be configured using grant-type=${JWT_BEARER}`)
    const algorithm = m.at('signature_algorithm').string()
    if (algorithm !== '' && !(SIGNATURE_ALGORITHMS as readonly string[]).includes(algorithm)) {
      throw m.at('signature_algorithm').error('valid signature algorithms are RS256, RS384 and RS512')
    }
  } else {
    atMostOneGiven(m, ['client_secret', 'client_secret_file', 'client_secret_ref'],
      'at most one of oauth2 client_secret, client_secret_file & client_secret_ref must be configured using grant-type=client_credentials')
  }
}

/** Passed Prometheus's Validate. What follows would fail every token fetch in Prometheus; here it fails the load. */
export function settleOAuth2 ({ m, scopes, endpointParams, transport }: OAuth2Claim): OAuth2Settings {
  const clientId = m.at('client_id').string()
  const jwt = m.at('grant_type').string() === JWT_BEARER
  refuseRefs(m, jwt ? ['client_certificate_key_ref'] : ['client_secret_ref'])
  const tokenUrl = checkTokenUrl(m.at('token_url'))
  // The form fields the grant sets itself; endpoint_params may replace only grant_type.
  const own = jwt ? ['grant_type', 'assertion'] : ['grant_type']
  if (scopes.length > 0) own.push('scope')
  for (const [name] of endpointParams) {
    if (name !== 'grant_type' && own.includes(name)) {
      throw m.at('endpoint_params').map().at(name).error(`oauth2: cannot overwrite parameter ${JSON.stringify(name)}`)
    }
  }

  const grant = jwt
    ? jwtGrant(m, clientId)
    : { type: 'client_credentials' as const, secret: source(m, 'client_secret', 'client_secret_file', 'oauth2.client_secret_file') }
  return { clientId, tokenUrl, scopes, endpointParams, grant, transport }
}

/** The block as /config shows it. */
export function describeOAuth2 (s: OAuth2Settings): Record<string, unknown> {
  const g = s.grant
  return {
    client_id: s.clientId,
    ...(g.type === 'client_credentials'
      ? { grant_type: 'client_credentials', ...describeSource('client_secret', g.secret) }
      : {
          grant_type: JWT_BEARER,
          ...describeSource('client_certificate_key', g.key),
          client_certificate_key_id: g.keyId === '' ? undefined : g.keyId,
          signature_algorithm: g.algorithm,
          iss: g.iss,
          // Defaulted, it is the token URL, secrets and all: shown as the token URL is.
          audience: g.audience ?? s.tokenUrl.shown,
          claims: Object.keys(g.claims).length === 0 ? undefined : g.claims,
        }),
    scopes: s.scopes.length === 0 ? undefined : s.scopes,
    token_url: s.tokenUrl.shown,
    endpoint_params: s.endpointParams.length === 0 ? undefined : Object.fromEntries(s.endpointParams),
    ...Object.assign({}, ...s.transport.map(({ feature, settings }) => feature.describe?.(settings) ?? {})),
  }
}
