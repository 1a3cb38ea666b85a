// A job's oauth2 token: fetched when first needed, kept until 10 s before it
// expires (oauth2.ReuseTokenSource), fetched anew when the grant's credential
// changed on disk. Scrapes that need a token while one is being fetched wait
// for that fetch instead of starting their own.
//
// A fetch serves every scrape waiting for it, so no one scrape's deadline
// may cancel it: each waiter gives up on its own deadline, and the fetch is
// aborted when the last waiter has gone, or at a hard cap.
import { Errors } from '../../src/errors.js'
import type { Grant, GrantRequest } from './grant.js'
import type { Token } from './token-request.js'
import type { Dispatcher } from 'undici'

/** oauth2's expiryDelta: a token is renewed this long before it expires. */
export const EXPIRY_DELTA_MS = 10_000
/** No token fetch runs longer, whoever waits for it. */
export const TOKEN_FETCH_CAP_MS = 30_000

class Abandoned extends Error {
  constructor () {
    super('every scrape waiting for the token has given up')
  }
}

/** One token fetch and the scrapes waiting for it. */
class Flight {
  readonly #controller = new AbortController()
  readonly #timer: NodeJS.Timeout
  readonly promise: Promise<Token>
  /** The credential the token is fetched with (a client secret): private, so nothing prints it. */
  readonly #credential: string
  #waiters = 0
  #settled = false

  constructor (credential: string, run: (signal: AbortSignal) => Promise<Token>, capMs: number) {
    this.#credential = credential
    this.#timer = setTimeout(() => {
      this.#controller.abort(new Error(`no token within ${capMs / 1000}s`))
    }, capMs)
    this.#timer.unref()
    this.promise = run(this.#controller.signal).finally(() => {
      this.#settled = true
      clearTimeout(this.#timer)
    })
    // A fetch whose waiters have all gone still settles; nobody is left to see it.
    this.promise.catch(() => {})
  }

  /** Waits for the token, giving up when `signal` aborts (with its reason). */
  join (signal: AbortSignal | undefined): Promise<Token> {
    if (signal?.aborted === true) return Promise.reject(signal.reason)
    this.#waiters++
    return new Promise<Token>((resolve, reject) => {
      let gone = false
      const leave = (): boolean => {
        if (gone) return false
        gone = true
        this.#waiters--
        signal?.removeEventListener('abort', onAbort)
        return true
      }
      const onAbort = (): void => {
        if (!leave()) return
        if (this.#waiters === 0 && !this.#settled) this.#controller.abort(new Abandoned())
        reject(signal?.reason)
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.promise.then(
        (token) => { if (leave()) resolve(token) },
        (err: unknown) => { if (leave()) reject(err) }
      )
    })
  }

  /** Whether the fetch is for `credential`. */
  isFor (credential: string): boolean {
    return credential === this.#credential
  }

  /** Aborted (abandoned, capped, closed): new scrapes must not join it. */
  get aborted (): boolean {
    return this.#controller.signal.aborted
  }

  abort (reason: Error): void {
    this.#controller.abort(reason)
  }
}

export interface TokenSourceOptions {
  readonly dispatcher: Dispatcher
  readonly url: URL
  readonly shownUrl: string
  /** The token URL's secrets (SecretUrl.secrets). */
  readonly hidden: readonly string[]
  readonly capMs?: number
}

export class TokenSource {
  readonly #grant: Grant
  readonly #options: TokenSourceOptions
  #credential: string | undefined
  #cached: { credential: string, token: Token } | undefined
  #flight: Flight | undefined
  #closed = false

  constructor (grant: Grant, options: TokenSourceOptions) {
    this.#grant = grant
    this.#options = options
  }

  /** A valid token for one scrape. `signal` is the scrape's; `userAgent` goes on the token request. */
  async token (signal: AbortSignal | undefined, userAgent: string | undefined): Promise<Token> {
    const credential = await this.#grant.credential()
    if (this.#credential !== undefined && credential !== this.#credential) {
      // Rotated: the old token and what was learnt with the old credential go.
      this.#grant.reset()
      this.#cached = undefined
    }
    this.#credential = credential
    const cached = this.#cached
    if (cached !== undefined && cached.credential === credential && valid(cached.token)) return cached.token

    let flight = this.#flight
    if (flight === undefined || !flight.isFor(credential) || flight.aborted) {
      if (this.#closed) throw new Errors.OAUTH2_TOKEN('oauth2: cannot fetch token: the job\'s client is closed')
      flight = this.#start(credential, userAgent)
    }
    return flight.join(signal)
  }

  #start (credential: string, userAgent: string | undefined): Flight {
    const { dispatcher, url, shownUrl, hidden, capMs = TOKEN_FETCH_CAP_MS } = this.#options
    const flight = new Flight(credential, async (signal) => {
      const request: GrantRequest = { dispatcher, url, shownUrl, hidden, userAgent, signal }
      return this.#grant.fetch(credential, request)
    }, capMs)
    this.#flight = flight
    flight.promise.then((token) => {
      if (credential === this.#credential) this.#cached = { credential, token }
    }, () => {}).finally(() => {
      if (this.#flight === flight) this.#flight = undefined
    })
    return flight
  }

  /** Aborts a fetch in flight; later scrapes fail. */
  close (): void {
    this.#closed = true
    this.#flight?.abort(new Error('the job\'s client is closed'))
  }
}

/** oauth2.Token.Valid: an access token that does not expire within EXPIRY_DELTA_MS. */
function valid (token: Token): boolean {
  return token.accessToken.reveal() !== '' && (token.expiry === undefined || token.expiry - EXPIRY_DELTA_MS >= Date.now())
}
