// Decoding and validation of a job's authorization block and of the
// deprecated bearer_token(_file) keys that Prometheus folds into it, in the
// auth slot's phases (src/config/slot.ts): their unmarshal, rules 1 and
// 5a-5d of HTTPClientConfig.Validate, then what the gateway refuses at load.
import type { MapCursor } from '../../src/config/cursor.js'
import type { SlotClaim } from '../../src/config/feature.js'
import type { ValueSource } from '../../src/client/secret.js'
import { atMostOneGiven, given, refuseRefs, source, strictMap } from '../auth/fields.js'

export interface Authorization {
  type: string
  credentials: ValueSource | undefined
  /** The key the user wrote (`bearer_token_file` or `authorization.credentials_file`), for error messages. */
  from: string
}

export interface AuthorizationClaim extends SlotClaim {
  readonly job: MapCursor
  readonly block: MapCursor | undefined
  readonly bearerToken: boolean
  readonly bearerTokenFile: boolean
}

const BLOCK_KEYS = ['type', 'credentials', 'credentials_file', 'credentials_ref']

export function readAuthorization (job: MapCursor): AuthorizationClaim | undefined {
  const block = job.set('authorization') ? strictMap(job.at('authorization'), BLOCK_KEYS) : undefined
  const bearerToken = given(job, 'bearer_token')
  const bearerTokenFile = given(job, 'bearer_token_file')
  if (block !== undefined) for (const key of BLOCK_KEYS) if (block.set(key)) block.at(key).string()
  if (block === undefined && !bearerToken && !bearerTokenFile) return undefined
  // A bearer key names the feature in collisions even beside the block:
  // Prometheus refuses a bearer token beside basic_auth or oauth2 (rule 2)
  // before it looks at the block (5a).
  const key = bearerToken ? 'bearer_token' : bearerTokenFile ? 'bearer_token_file' : 'authorization'
  return { key, job, block, bearerToken, bearerTokenFile }
}

/** Rule 1. */
export function checkBearer ({ job, bearerToken, bearerTokenFile }: AuthorizationClaim): void {
  if (bearerToken && bearerTokenFile) {
    throw job.at('bearer_token_file').error('at most one of bearer_token & bearer_token_file must be configured')
  }
}

/** 5c: trimmed; empty is Bearer; the case is kept. */
function authorizationType (block: MapCursor): string {
  return block.at('type').string().trim() || 'Bearer'
}

/** Rules 5a, 5b and 5d. Its refusal of basic_auth or oauth2 (5e) comes after; see the feature's collisions. */
export function checkAuthorization ({ job, block, bearerToken, bearerTokenFile }: AuthorizationClaim): void {
  if (block === undefined) return
  if (bearerToken || bearerTokenFile) {
    throw job.at('authorization').error('authorization is not compatible with bearer_token & bearer_token_file')
  }
  atMostOneGiven(block, ['credentials', 'credentials_file', 'credentials_ref'],
    'at most one of authorization credentials & credentials_file must be configured')
  if (authorizationType(block).toLowerCase() === 'basic') {
    throw block.at('type').error('authorization type cannot be set to "basic", use "basic_auth" instead')
  }
}

export function settleAuthorization ({ job, block, bearerToken }: AuthorizationClaim): Authorization {
  if (block === undefined) {
    // Prometheus's Validate rewrites the deprecated bearer fields into authorization.
    return {
      type: 'Bearer',
      credentials: source(job, 'bearer_token', 'bearer_token_file', 'bearer_token_file'),
      from: bearerToken ? 'bearer_token' : 'bearer_token_file',
    }
  }
  // Passed Prometheus's Validate; its client build would fail on a *_ref.
  refuseRefs(block, ['credentials_ref'])
  return {
    type: authorizationType(block),
    credentials: source(block, 'credentials', 'credentials_file', 'authorization.credentials_file'),
    from: 'authorization',
  }
}
