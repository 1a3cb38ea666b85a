// Decoding and validation of a job's basic_auth block (prometheus/common
// BasicAuth), in the auth slot's phases (src/config/slot.ts): its unmarshal,
// rules 3-4 of HTTPClientConfig.Validate, then what the gateway refuses at
// load.
import type { MapCursor } from '../../src/config/cursor.js'
import type { SlotClaim } from '../../src/config/feature.js'
import type { ValueSource } from '../../src/client/secret.js'
import { atMostOneGiven, refuseRefs, source, strictMap } from '../auth/fields.js'

export interface BasicAuth {
  username: ValueSource | undefined
  password: ValueSource | undefined
}

export interface BasicAuthClaim extends SlotClaim {
  readonly block: MapCursor
}

const BASIC_KEYS = ['username', 'username_file', 'username_ref', 'password', 'password_file', 'password_ref']

export function readBasicAuth (job: MapCursor): BasicAuthClaim | undefined {
  if (!job.set('basic_auth')) return undefined
  const block = strictMap(job.at('basic_auth'), BASIC_KEYS)
  for (const key of BASIC_KEYS) if (block.set(key)) block.at(key).string()
  return { key: 'basic_auth', block }
}

/** Rules 3 and 4. */
export function checkBasicAuth ({ block }: BasicAuthClaim): void {
  atMostOneGiven(block, ['username', 'username_file', 'username_ref'],
    'at most one of basic_auth username, username_file & username_ref must be configured')
  atMostOneGiven(block, ['password', 'password_file', 'password_ref'],
    'at most one of basic_auth password, password_file & password_ref must be configured')
}

/** Passed Prometheus's Validate; its client build would fail on a *_ref. */
export function settleBasicAuth ({ block }: BasicAuthClaim): BasicAuth {
  refuseRefs(block, ['username_ref', 'password_ref'])
  return {
    username: source(block, 'username', 'username_file', 'basic_auth.username_file'),
    password: source(block, 'password', 'password_file', 'basic_auth.password_file'),
  }
}
