// One request to an oauth2 token endpoint and the reading of its answer, as
// golang.org/x/oauth2 does it: POST a form, read at most 1 MiB, take a JSON
// body (or a form body when the endpoint says so), and treat a non-2xx status
// or an `error` field as a failure. Every failure is SG_OAUTH2_TOKEN
// `oauth2: cannot fetch token: ...`, naming the endpoint's status when it
// answered, and never any form of a secret the request carried (the client
// secret, the token URL's query values, a JWT assertion) that the endpoint
// may echo.
import { STATUS_CODES } from 'node:http'
import type { Dispatcher } from 'undici'
import { classify, errorWords } from '../../src/classify.js'
import { Errors } from '../../src/errors.js'
import { hideSecrets, Secret, SECRET_PLACEHOLDER } from '../../src/client/secret.js'
import { encodeForm, type Form } from './form.js'

export interface Token {
  readonly accessToken: Secret
  /** As the endpoint sent it; see authorizationScheme. */
  readonly tokenType: string
  /** When it expires (ms since the epoch); undefined: never. */
  readonly expiry: number | undefined
}

export interface TokenRequest {
  readonly dispatcher: Dispatcher
  readonly url: URL
  /** The URL as messages show it (password and query values hidden). */
  readonly shownUrl: string
  readonly form: Form
  /** `Basic ...` client authentication, when the form does not carry it. */
  readonly authorization?: string
  readonly userAgent: string | undefined
  readonly signal: AbortSignal
  /**
   * Strings never to show in an error, in any form (secretForms: raw,
   * URL-encoded, JSON-escaped, base64): an endpoint that echoes the request
   * in its error body must not make the gateway hand a secret to its caller.
   */
  readonly hidden: readonly string[]
}

/** golang.org/x/oauth2 reads at most this much of the answer. */
export const MAX_TOKEN_BODY = 1 << 20
/** How much of a failed answer's body the error shows. */
const SHOWN_BODY = 512

function fetchError (detail: string, cause?: unknown): Error {
  return new Errors.OAUTH2_TOKEN(`oauth2: cannot fetch token: ${detail}`, { cause })
}

async function readBody (body: Dispatcher.ResponseData['body']): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body as AsyncIterable<Buffer>) {
    const room = MAX_TOKEN_BODY - size
    chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk)
    size += Math.min(chunk.length, room)
    if (size >= MAX_TOKEN_BODY) {
      // Like Go's LimitReader: the rest is not read.
      body.destroy()
      break
    }
  }
  return Buffer.concat(chunks)
}

interface Parsed {
  accessToken: string
  tokenType: string
  expiresIn: number
  errorCode: string
  errorDescription: string
  errorUri: string
}

function str (v: unknown, field: string): string {
  if (v === undefined || v === null) return ''
  if (typeof v !== 'string') throw new Error(`json: cannot unmarshal ${typeof v} into Go struct field tokenJSON.${field} of type string`)
  return v
}

/** `expires_in`: a number, or a numeric string (some endpoints send one); capped at MaxInt32 as Go does. */
function expiresIn (v: unknown): number {
  if (v === undefined || v === null) return 0
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN
  if (!Number.isInteger(n)) throw new Error(`json: invalid expires_in ${JSON.stringify(v)}`)
  return Math.min(n, 2 ** 31 - 1)
}

function parseJson (text: string): Parsed {
  const v: unknown = JSON.parse(text)
  if (v === null) return { accessToken: '', tokenType: '', expiresIn: 0, errorCode: '', errorDescription: '', errorUri: '' }
  if (typeof v !== 'object' || Array.isArray(v)) throw new Error(`json: cannot unmarshal ${Array.isArray(v) ? 'array' : typeof v} into Go value of type internal.tokenJSON`)
  const o = v as Record<string, unknown>
  return {
    accessToken: str(o.access_token, 'access_token'),
    tokenType: str(o.token_type, 'token_type'),
    expiresIn: expiresIn(o.expires_in),
    errorCode: str(o.error, 'error'),
    errorDescription: str(o.error_description, 'error_description'),
    errorUri: str(o.error_uri, 'error_uri'),
  }
}

function parseForm (text: string): Parsed {
  const q = new URLSearchParams(text)
  const get = (k: string): string => q.get(k) ?? ''
  const n = Number.parseInt(get('expires_in'), 10)
  return {
    accessToken: get('access_token'),
    tokenType: get('token_type'),
    expiresIn: /^[+-]?\d+$/.test(get('expires_in')) && Number.isFinite(n) ? Math.min(n, 2 ** 31 - 1) : 0,
    errorCode: get('error'),
    errorDescription: get('error_description'),
    errorUri: get('error_uri'),
  }
}

function mediaType (contentType: string | string[] | undefined): string {
  const v = Array.isArray(contentType) ? contentType[0] : contentType
  return (v ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
}

export async function requestToken (r: TokenRequest): Promise<Token> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' }
  if (r.authorization !== undefined) headers.authorization = r.authorization
  if (r.userAgent !== undefined) headers['user-agent'] = r.userAgent
  let res: Dispatcher.ResponseData
  let body: Buffer
  try {
    res = await r.dispatcher.request({
      origin: r.url.origin,
      path: r.url.pathname + r.url.search,
      method: 'POST',
      headers,
      body: encodeForm(r.form),
      signal: r.signal,
    })
  } catch (err) {
    // Whatever failed on the way (a proxy, TLS, a rotated CA file), the token fetch did.
    throw classify(err, { phase: 'via', keepCoded: false, wrap: (reason) => fetchError(`Post ${JSON.stringify(r.shownUrl)}: ${reason}`, err) })
  }
  try {
    body = await readBody(res.body)
  } catch (err) {
    throw classify(err, { phase: 'via', keepCoded: false, wrap: (reason) => fetchError(reason, err) })
  }

  const status = `${res.statusCode} ${res.statusText || (STATUS_CODES[res.statusCode] ?? '')}`.trim()
  const failed = res.statusCode < 200 || res.statusCode > 299
  const text = body.toString('utf8')
  const hide = (s: string): string => hideSecrets(s, r.hidden)
  const visible = hide(text)
  const shown = visible.length > SHOWN_BODY ? visible.slice(0, SHOWN_BODY) + '…' : visible
  const statusError = (): Error => fetchError(`${status}\nResponse: ${shown}`)
  const type = mediaType(res.headers['content-type'])
  let parsed: Parsed
  try {
    parsed = type === 'application/x-www-form-urlencoded' || type === 'text/plain' ? parseForm(text) : parseJson(text)
  } catch (err) {
    if (failed) throw statusError()
    throw fetchError(`cannot parse json: ${errorWords(err)}`, err)
  }
  // RFC 6749 wants 400 for errors, but some endpoints answer 200 with an `error` field.
  if (parsed.errorCode !== '') {
    // Hidden before quoting: quoting would escape a secret the endpoint echoed JSON-escaped once more.
    const detail = [parsed.errorCode, parsed.errorDescription, parsed.errorUri].filter((s) => s !== '').map((s) => JSON.stringify(hide(s))).join(' ')
    throw fetchError(`${status}: ${detail}`)
  }
  if (failed) throw statusError()
  if (parsed.accessToken === '') throw fetchError('server response missing access_token')
  // What would print as a hidden token cannot be one (a Secret never holds the placeholder).
  if (parsed.accessToken === SECRET_PLACEHOLDER) throw fetchError(`server response has ${JSON.stringify(SECRET_PLACEHOLDER)} as access_token`)
  return {
    accessToken: new Secret(parsed.accessToken),
    tokenType: parsed.tokenType,
    expiry: parsed.expiresIn !== 0 ? Date.now() + parsed.expiresIn * 1000 : undefined,
  }
}

/** The scheme oauth2.Token.Type() gives: bearer, mac and basic in their usual case; empty is Bearer. */
export function authorizationScheme (tokenType: string): string {
  switch (tokenType.toLowerCase()) {
    case 'bearer': return 'Bearer'
    case 'mac': return 'MAC'
    case 'basic': return 'Basic'
    case '': return 'Bearer'
    default: return tokenType
  }
}
