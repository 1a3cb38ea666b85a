// The jwt-bearer grant (RFC 7523, prometheus/common since v0.67.3): a JWT
// signed with the client's RSA key is the assertion; no client
// authentication. Claims: iss (default client_id), sub = client_id, aud
// (default token_url), a fresh jti, iat, exp 10 minutes on, scope when scopes
// are set, then `claims`, which override all of these.
import { createPrivateKey, randomUUID, sign, type KeyObject } from 'node:crypto'
import { readValue } from '../../src/client/secret.js'
import { Errors } from '../../src/errors.js'
import type { Form } from './form.js'
import type { Grant, GrantRequest } from './grant.js'
import { JWT_BEARER, rsaKeyProblem, type JwtBearerGrant, type OAuth2Settings } from './settings.js'
import { requestToken, type Token } from './token-request.js'

const HASH = { RS256: 'sha256', RS384: 'sha384', RS512: 'sha512' } as const
const ASSERTION_LIFETIME_S = 600

function base64url (data: string | Buffer): string {
  return Buffer.from(data).toString('base64url')
}

export class JwtBearer implements Grant {
  readonly #settings: OAuth2Settings
  readonly #grant: JwtBearerGrant
  /** The key parsed for the PEM last seen, so an unchanged file is parsed once. */
  #key: { pem: string, key: KeyObject } | undefined

  constructor (settings: OAuth2Settings, grant: JwtBearerGrant) {
    this.#settings = settings
    this.#grant = grant
  }

  credential (): string | Promise<string> {
    const k = this.#grant.key
    return k.kind === 'inline' ? k.value.reveal() : readValue(k, 'oauth2 client certificate key')
  }

  reset (): void {
    this.#key = undefined
  }

  #privateKey (pem: string): KeyObject {
    if (this.#key?.pem === pem) return this.#key.key
    const problem = rsaKeyProblem(pem)
    if (problem !== undefined) {
      const k = this.#grant.key
      const where = k.kind === 'file' ? `${k.key} ${k.file.path}` : 'oauth2.client_certificate_key'
      throw new Errors.CREDENTIALS(`${where}: unable to use oauth2 client certificate key: ${problem}`)
    }
    const key = createPrivateKey(pem)
    this.#key = { pem, key }
    return key
  }

  /** The signed assertion. */
  assertion (pem: string): string {
    const g = this.#grant
    const s = this.#settings
    const now = Math.floor(Date.now() / 1000)
    const claims: Record<string, unknown> = {
      iss: g.iss,
      sub: s.clientId,
      jti: randomUUID(),
      aud: g.audience ?? s.tokenUrl.reveal(),
      iat: now,
      exp: now + ASSERTION_LIFETIME_S,
    }
    if (s.scopes.length > 0) claims.scope = s.scopes.join(' ')
    Object.assign(claims, g.claims)
    const header: Record<string, string> = { alg: g.algorithm, typ: 'JWT' }
    if (g.keyId !== '') header.kid = g.keyId
    const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`
    const signature = sign(HASH[g.algorithm], Buffer.from(signingInput), this.#privateKey(pem))
    return `${signingInput}.${base64url(signature)}`
  }

  async fetch (pem: string, r: GrantRequest): Promise<Token> {
    const s = this.#settings
    const assertion = this.assertion(pem)
    const form: Form = new Map([['grant_type', JWT_BEARER], ['assertion', assertion]])
    if (s.scopes.length > 0) form.set('scope', s.scopes.join(' '))
    for (const [name, value] of s.endpointParams) form.set(name, value)
    // The assertion is a credential for its 10 minutes: an endpoint that echoes it must not show it.
    return requestToken({ ...r, form, hidden: [...r.hidden, assertion] })
  }
}
