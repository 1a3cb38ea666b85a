// Decoding and validation of a job's auth keys, in the order and with the
// messages of prometheus/common HTTPClientConfig.Validate (rules 1-5).
import type { MapCursor } from '../../src/config/cursor.js'
import { Secret, type ValueSource } from '../../src/client/secret.js'
import { atMostOne } from '../../src/client/feature.js'

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

export const AUTH_KEYS = ['basic_auth', 'authorization', 'bearer_token', 'bearer_token_file'] as const

function refuseRefs (m: MapCursor, keys: readonly string[]): void {
  for (const key of keys) {
    if (m.set(key)) {
      throw m.at(key).error(`${key} needs a secret manager, which scrape-gateway (like Prometheus) does not have; use the inline or _file form`)
    }
  }
}

/** An inline secret or a file path, whichever is set (at most one: checked by the caller). */
function source (m: MapCursor, inline: string, file: string, fileKey: string): ValueSource | undefined {
  if (m.set(inline)) return { kind: 'inline', value: new Secret(m.at(inline).string()) }
  if (m.set(file)) return { kind: 'file', path: m.at(file).filePath(), key: fileKey }
  return undefined
}

export function decodeAuth (job: MapCursor): AuthSettings | undefined {
  const hasBearer = job.set('bearer_token') || job.set('bearer_token_file')
  if (job.set('bearer_token') && job.set('bearer_token_file')) {
    throw job.at('bearer_token_file').error('at most one of bearer_token & bearer_token_file must be configured')
  }
  if ((job.set('basic_auth') || job.set('oauth2')) && hasBearer) {
    throw job.at(job.set('bearer_token') ? 'bearer_token' : 'bearer_token_file')
      .error('at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured')
  }

  let basic: BasicAuth | undefined
  if (job.set('basic_auth')) {
    const b = job.at('basic_auth').map()
    for (const key of b.keys()) {
      if (!['username', 'username_file', 'username_ref', 'password', 'password_file', 'password_ref'].includes(key)) {
        throw b.keyCursor(key).error(`field ${key} not found in type config.plain`)
      }
    }
    atMostOne(b, ['username', 'username_file', 'username_ref'],
      'at most one of basic_auth username, username_file & username_ref must be configured')
    atMostOne(b, ['password', 'password_file', 'password_ref'],
      'at most one of basic_auth password, password_file & password_ref must be configured')
    refuseRefs(b, ['username_ref', 'password_ref'])
    basic = {
      username: source(b, 'username', 'username_file', 'basic_auth.username_file'),
      password: source(b, 'password', 'password_file', 'basic_auth.password_file'),
    }
  }

  if (job.set('authorization')) {
    const a = job.at('authorization').map()
    for (const key of a.keys()) {
      if (!['type', 'credentials', 'credentials_file', 'credentials_ref'].includes(key)) {
        throw a.keyCursor(key).error(`field ${key} not found in type config.plain`)
      }
    }
    if (hasBearer) {
      throw job.at('authorization').error('authorization is not compatible with bearer_token & bearer_token_file')
    }
    atMostOne(a, ['credentials', 'credentials_file', 'credentials_ref'],
      'at most one of authorization credentials & credentials_file must be configured')
    refuseRefs(a, ['credentials_ref'])
    const type = a.at('type').string().trim() || 'Bearer'
    if (type.toLowerCase() === 'basic') {
      throw a.at('type').error('authorization type cannot be set to "basic", use "basic_auth" instead')
    }
    if (basic !== undefined || job.set('oauth2')) {
      throw job.at('authorization').error('at most one of basic_auth, oauth2 & authorization must be configured')
    }
    const credentials = source(a, 'credentials', 'credentials_file', 'authorization.credentials_file')
    return { kind: 'authorization', authorization: { type, credentials, from: 'authorization' } }
  }

  if (hasBearer) {
    // Prometheus's Validate rewrites the deprecated bearer fields into authorization.
    const credentials = source(job, 'bearer_token', 'bearer_token_file', 'bearer_token_file')
    const from = job.set('bearer_token') ? 'bearer_token' : 'bearer_token_file'
    return { kind: 'authorization', authorization: { type: 'Bearer', credentials, from } }
  }

  return basic === undefined ? undefined : { kind: 'basic_auth', basic }
}
