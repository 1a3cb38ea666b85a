// Decoding and validation of a job's auth keys: basic_auth, authorization,
// bearer_token(_file) and oauth2, in the order and with the messages of
// prometheus/common HTTPClientConfig (unmarshal, then Validate rules 1-6).
import type { MapCursor } from '../../src/config/cursor.js'
import type { ValueSource } from '../../src/client/secret.js'
import { atMostOneGiven, given, refuseRefs, source, strictMap } from './fields.js'
import { readOAuth2, validateOAuth2, type OAuth2Settings } from './oauth2-settings.js'

export interface BasicAuth {
  username: ValueSource | undefined
  password: ValueSource | undefined
}

export interface Authorization {
  type: string
  credentials: ValueSource | undefined
  /** The key the user wrote (`bearer_token_file` or `authorization.credentials_file`), for error messages. */
  from: string
}

export type AuthSettings =
  | { kind: 'basic_auth', basic: BasicAuth }
  | { kind: 'authorization', authorization: Authorization }
  | { kind: 'oauth2', oauth2: OAuth2Settings }

export const AUTH_KEYS = ['basic_auth', 'authorization', 'bearer_token', 'bearer_token_file', 'oauth2'] as const

const BASIC_KEYS = ['username', 'username_file', 'username_ref', 'password', 'password_file', 'password_ref']
const AUTHORIZATION_KEYS = ['type', 'credentials', 'credentials_file', 'credentials_ref']

export function decodeAuth (job: MapCursor): AuthSettings | undefined {
  // Unmarshalling: each block's own shape, and oauth2's own TLS and proxy rules.
  const basicBlock = job.set('basic_auth') ? strictMap(job.at('basic_auth'), BASIC_KEYS) : undefined
  const authorizationBlock = job.set('authorization') ? strictMap(job.at('authorization'), AUTHORIZATION_KEYS) : undefined
  const oauth2Block = job.set('oauth2') ? readOAuth2(job.at('oauth2')) : undefined
  const bearerToken = given(job, 'bearer_token')
  const bearerTokenFile = given(job, 'bearer_token_file')
  const hasBearer = bearerToken || bearerTokenFile
  if (basicBlock !== undefined) for (const key of BASIC_KEYS) if (basicBlock.set(key)) basicBlock.at(key).string()
  if (authorizationBlock !== undefined) for (const key of AUTHORIZATION_KEYS) if (authorizationBlock.set(key)) authorizationBlock.at(key).string()

  // Validate, rules 1-6.
  if (bearerToken && bearerTokenFile) {
    throw job.at('bearer_token_file').error('at most one of bearer_token & bearer_token_file must be configured')
  }
  if ((basicBlock !== undefined || oauth2Block !== undefined) && hasBearer) {
    throw job.at(bearerToken ? 'bearer_token' : 'bearer_token_file')
      .error('at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured')
  }
  if (basicBlock !== undefined) {
    atMostOneGiven(basicBlock, ['username', 'username_file', 'username_ref'],
      'at most one of basic_auth username, username_file & username_ref must be configured')
    atMostOneGiven(basicBlock, ['password', 'password_file', 'password_ref'],
      'at most one of basic_auth password, password_file & password_ref must be configured')
  }

  let authorization: Authorization | undefined
  if (authorizationBlock !== undefined) {
    const a = authorizationBlock
    if (hasBearer) {
      throw job.at('authorization').error('authorization is not compatible with bearer_token & bearer_token_file')
    }
    atMostOneGiven(a, ['credentials', 'credentials_file', 'credentials_ref'],
      'at most one of authorization credentials & credentials_file must be configured')
    const type = a.at('type').string().trim() || 'Bearer'
    if (type.toLowerCase() === 'basic') {
      throw a.at('type').error('authorization type cannot be set to "basic", use "basic_auth" instead')
    }
    if (basicBlock !== undefined || oauth2Block !== undefined) {
      throw job.at('authorization').error('at most one of basic_auth, oauth2 & authorization must be configured')
    }
    authorization = {
      type,
      credentials: source(a, 'credentials', 'credentials_file', 'authorization.credentials_file'),
      from: 'authorization',
    }
  } else if (hasBearer) {
    // Prometheus's Validate rewrites the deprecated bearer fields into authorization.
    authorization = {
      type: 'Bearer',
      credentials: source(job, 'bearer_token', 'bearer_token_file', 'bearer_token_file'),
      from: bearerToken ? 'bearer_token' : 'bearer_token_file',
    }
  }

  let oauth2: OAuth2Settings | undefined
  if (oauth2Block !== undefined) {
    if (basicBlock !== undefined) {
      throw job.at('oauth2').error('at most one of basic_auth, oauth2 & authorization must be configured')
    }
    oauth2 = validateOAuth2(oauth2Block)
  }

  // Passed Prometheus's Validate; its client build would fail on a *_ref.
  if (basicBlock !== undefined) refuseRefs(basicBlock, ['username_ref', 'password_ref'])
  if (authorizationBlock !== undefined) refuseRefs(authorizationBlock, ['credentials_ref'])

  if (oauth2 !== undefined) return { kind: 'oauth2', oauth2 }
  if (authorization !== undefined) return { kind: 'authorization', authorization }
  if (basicBlock !== undefined) {
    return {
      kind: 'basic_auth',
      basic: {
        username: source(basicBlock, 'username', 'username_file', 'basic_auth.username_file'),
        password: source(basicBlock, 'password', 'password_file', 'basic_auth.password_file'),
      },
    }
  }
  return undefined
}
