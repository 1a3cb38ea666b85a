// What a token source needs of an oauth2 grant (client_credentials, jwt-bearer).
import type { Dispatcher } from 'undici'
import type { Token } from './token-request.js'

/** Where and how one token fetch talks to the endpoint. */
export interface GrantRequest {
  readonly dispatcher: Dispatcher
  readonly url: URL
  /** The URL as messages show it (password and query values hidden). */
  readonly shownUrl: string
  /** What a token error must never show: the token URL's secrets, and the grant adds its own. */
  readonly hidden: readonly string[]
  readonly userAgent: string | undefined
  readonly signal: AbortSignal
}

export interface Grant {
  /**
   * The credential the grant authenticates with (client secret, signing key),
   * read for every scrape: a file may have been rotated. Rejects with
   * SG_CREDENTIALS when its file cannot be read.
   */
  credential (): string | Promise<string>
  /** Fetches a token with `credential`. Rejects with SG_OAUTH2_TOKEN, or the signal's reason. */
  fetch (credential: string, request: GrantRequest): Promise<Token>
  /** The credential changed: forget what was learnt with the old one. */
  reset (): void
}
