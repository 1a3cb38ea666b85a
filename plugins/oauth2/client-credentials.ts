// The client_credentials grant (golang.org/x/oauth2/clientcredentials):
// grant_type, scope and endpoint_params in a form; the client authenticates
// with HTTP Basic `QueryEscape(id):QueryEscape(secret)` first and, if that
// request fails in any way, once more with client_id and client_secret as
// form fields. The style that worked is kept for the token URL until the
// secret changes (Prometheus then builds a new token source, and probes
// again).
import { readValue } from '../../src/client/secret.js'
import { queryEscape } from '../../src/go-format.js'
import type { Form } from './form.js'
import type { Grant, GrantRequest } from './grant.js'
import type { ClientCredentialsGrant, OAuth2Settings } from './settings.js'
import { requestToken, type Token } from './token-request.js'

type AuthStyle = 'header' | 'params'

export class ClientCredentials implements Grant {
  readonly #clientId: string
  readonly #grant: ClientCredentialsGrant
  readonly #form: Form
  #style: AuthStyle | undefined

  constructor (settings: OAuth2Settings, grant: ClientCredentialsGrant) {
    this.#clientId = settings.clientId
    this.#grant = grant
    const form: Form = new Map([['grant_type', 'client_credentials']])
    if (settings.scopes.length > 0) form.set('scope', settings.scopes.join(' '))
    // Load refused a clash with any field but grant_type, which endpoint_params may replace.
    for (const [name, value] of settings.endpointParams) form.set(name, value)
    this.#form = form
  }

  credential (): string | Promise<string> {
    const s = this.#grant.secret
    if (s === undefined) return ''
    return s.kind === 'inline' ? s.value.reveal() : readValue(s, 'oauth2 client secret')
  }

  reset (): void {
    this.#style = undefined
  }

  #request (style: AuthStyle, secret: string, grantRequest: GrantRequest): Promise<Token> {
    const r = { ...grantRequest, hidden: [...grantRequest.hidden, secret] }
    if (style === 'header') {
      const basic = Buffer.from(`${queryEscape(this.#clientId)}:${queryEscape(secret)}`).toString('base64')
      return requestToken({ ...r, form: this.#form, authorization: `Basic ${basic}`, hidden: [...r.hidden, basic] })
    }
    const form: Form = new Map(this.#form)
    if (this.#clientId !== '') form.set('client_id', this.#clientId)
    if (secret !== '') form.set('client_secret', secret)
    return requestToken({ ...r, form })
  }

  async fetch (secret: string, r: GrantRequest): Promise<Token> {
    const known = this.#style
    if (known !== undefined) return this.#request(known, secret, r)
    let token: Token
    try {
      token = await this.#request('header', secret, r)
      this.#style = 'header'
    } catch (err) {
      if (r.signal.aborted) throw err
      token = await this.#request('params', secret, r)
      this.#style = 'params'
    }
    return token
  }
}
