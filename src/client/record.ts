// What happened during one probe, as facts: one ProbeRecord per probe, filled
// as the probe runs by whoever knows each fact (README "Debug report"):
// - the probe (src/scrape/probe.ts): the deadline, the response head, bytes,
//   the outcome and the phase it failed in;
// - the record layer (record-layer.ts), the innermost layer of every job's
//   client: each request as it goes to undici, one per redirect hop;
// - the connectors (pinned-connect.ts, the TLS feature's, a proxy's): one
//   ConnectionFacts per connection (connection-facts.ts): addresses, dial,
//   TLS, timings;
// - the layers: each redirect hop's status, Location and the policy's
//   decision; the proxy a request went through; the wait for an oauth2 token.
// Nobody here formats text: src/report/text.ts renders a finished record when
// asked (debug=true). Every probe gets a record, debug or not, so filling it
// stays cheap: numbers, small strings and references to objects the request
// made anyway (its headers, the response's headers, the peer certificate),
// never a body byte, never a copy.
//
// Secrets: a request's headers are held by reference, credentials included,
// and only ever leave through SentRequest's masked views (headerLines,
// toJSON, inspect), which print `Authorization: Bearer <secret>`. Everything
// else a record holds is what the gateway already prints (coded error
// messages, URLs as redactUrl shows them).
import type { IncomingHttpHeaders } from 'node:http'
import { inspect } from 'node:util'
import type { ConnectionFacts } from './connection-facts.js'
import { canonicalHeaderKey, SCHEMED_CREDENTIAL_HEADERS, toRecord, WHOLE_CREDENTIAL_HEADERS, type HeaderRecord } from './headers.js'
import { SECRET_PLACEHOLDER } from './secret.js'

/** Where a probe was when it failed. */
export type Phase =
  /** Waiting for the job's oauth2 token. */
  | 'token'
  /** Waiting for a connection that no attempt of this probe's was making (a pool's queue, a proxy's CONNECT). */
  | 'connection'
  | 'resolve'
  | 'connect'
  | 'tls'
  /** The request was sent; no response head yet. */
  | 'head'
  /** The head was in; reading the body. */
  | 'body'

/** How the deadline came about: the job's scrape_timeout, lowered by the caller's header minus the offset. */
export interface TimeoutFacts {
  readonly jobMs: number
  /** X-Prometheus-Scrape-Timeout-Seconds as the caller sent it. */
  readonly header: string | undefined
  readonly offsetMs: number
  /**
   * Which rule set the deadline (src/scrape/timeout.ts): the job's
   * scrape_timeout, the caller's header minus the offset, or the caller's
   * whole budget when the offset would leave nothing of it.
   */
  readonly from: TimeoutRule
}

export type TimeoutRule = 'job' | 'header' | 'whole header'

/** A redirect the redirect layer saw on one request, and what it decided. */
export interface RedirectFacts {
  readonly status: number
  readonly location: string
  /** The next request's URL (its authority as the target policy checked it); undefined when the hop was refused. */
  readonly next: string | undefined
  /** The next hop left the original host (or port): it carries no credentials. */
  readonly crossHost: boolean
  /** Why the hop was not made (the coded error's message). */
  readonly refused: string | undefined
}

/** The forward proxy a request was routed by (plugins/proxy). */
export interface ProxyFacts {
  /** As it prints (password `xxxxx`, query values `<secret>`); undefined: the job has no proxy for the target's scheme. */
  readonly url: string | undefined
  /** forward: an absolute-URI request to the proxy; tunnel: CONNECT; direct: no_proxy (or no proxy for the scheme) sent it past. */
  readonly route: 'forward' | 'tunnel' | 'direct'
  /** The proxy URL has userinfo: Proxy-Authorization goes to the proxy. */
  readonly authorization: boolean
  /** proxy_connect_header names (values are secrets). */
  readonly connectHeaders: readonly string[]
}

/** The wait for the job's oauth2 token (plugins/oauth2). */
export interface TokenFacts {
  /** The token URL as it prints (query values `<secret>`). */
  readonly url: string
  readonly startedAt: number
  readyAt: number | undefined
}

/** What the status page and metrics read of a finished probe. */
export interface ProbeSummary {
  /** When the probe started, ms since the epoch. */
  readonly time: number
  readonly job: string
  /** As the caller sent it. */
  readonly target: string
  /** What a probe without debug answers: 200, or the error's status. */
  readonly status: number
  /** `success`, `canceled` (the caller left) or the error code. */
  readonly code: string
  readonly durationMs: number
  /** Body bytes relayed (compressed when gzip was passed through); a debug probe relays none. */
  readonly bytes: number
}

/** `Bearer abc` → `Bearer <secret>` (the scheme is no secret); a value without a scheme is all secret. */
function schemeOnly (value: string): { shown: string, secret: string } {
  const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) +(\S.*)$/s.exec(value)
  return m === null
    ? { shown: SECRET_PLACEHOLDER, secret: value }
    : { shown: `${m[1] ?? ''} ${SECRET_PLACEHOLDER}`, secret: m[2] ?? '' }
}

function values (v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v]
}

/** One request the job's client handed to undici (the probe's, or a redirect hop's). */
export class SentRequest {
  /** performance.now() when it was dispatched. */
  readonly at = performance.now()
  /** Set by the redirect layer when this request was answered with a redirect. */
  redirect: RedirectFacts | undefined
  readonly #headers: unknown
  readonly #plainOf: Readonly<Record<string, string | string[] | undefined>> | undefined

  /**
   * `plainOf`: for each header that carries configured secrets (http_headers
   * secrets or files), the values it may show: ProbeDispatchOptions.crossHostHeaders.
   */
  constructor (
    readonly method: string,
    readonly origin: string,
    readonly path: string,
    headers: unknown,
    plainOf: Readonly<Record<string, string | string[] | undefined>> | undefined
  ) {
    this.#headers = headers
    this.#plainOf = plainOf
  }

  get url (): string {
    return this.origin + this.path
  }

  #masked (): { lines: Array<[string, string]>, secrets: string[] } {
    const lines: Array<[string, string]> = []
    const secrets: string[] = []
    const record: HeaderRecord = toRecord(this.#headers)
    for (const [name, value] of Object.entries(record)) {
      const lower = name.toLowerCase()
      const shownName = canonicalHeaderKey(lower)
      const plain = this.#plainOf !== undefined && lower in this.#plainOf ? [...values(this.#plainOf[lower])] : undefined
      for (const v of values(value)) {
        if (SCHEMED_CREDENTIAL_HEADERS.has(lower)) {
          const { shown, secret } = schemeOnly(v)
          lines.push([shownName, shown])
          secrets.push(secret)
        } else if (WHOLE_CREDENTIAL_HEADERS.has(lower)) {
          lines.push([shownName, SECRET_PLACEHOLDER])
          secrets.push(v)
        } else if (plain !== undefined) {
          // A guarded header: each plain value shows once; the rest were secrets or files.
          const i = plain.indexOf(v)
          if (i !== -1) {
            plain.splice(i, 1)
            lines.push([shownName, v])
          } else {
            lines.push([shownName, SECRET_PLACEHOLDER])
            secrets.push(v)
          }
        } else {
          lines.push([shownName, v])
        }
      }
    }
    return { lines, secrets: secrets.filter((s) => s !== '') }
  }

  /** The headers as [Name, value], credentials masked: `Authorization: Bearer <secret>`. */
  headerLines (): Array<[string, string]> {
    return this.#masked().lines
  }

  /** The values masked in headerLines, for a last pass over a text that quotes what the target sent back. */
  maskedValues (): string[] {
    return this.#masked().secrets
  }

  toJSON (): unknown {
    return { method: this.method, url: this.url, headers: this.headerLines().map(([n, v]) => `${n}: ${v}`), redirect: this.redirect }
  }

  [inspect.custom] (): string {
    return inspect(this.toJSON())
  }
}

export class ProbeRecord {
  /** ms since the epoch. */
  readonly time = Date.now()
  /** performance.now() at the start; every other instant of the record is on this clock. */
  readonly start = performance.now()
  /** Each request the client sent, in order: the probe's, then each redirect hop's. */
  readonly requests: SentRequest[] = []
  proxy: ProxyFacts | undefined
  token: TokenFacts | undefined
  /** The last connection attempt started while one of this probe's requests was being dispatched. */
  attempt: ConnectionFacts | undefined
  /** The connection the last request went out on, or the attempt that failed. */
  connection: ConnectionFacts | undefined
  /** The connection was open before this probe (keep-alive or HTTP/2). */
  reused = false

  headAt: number | undefined
  status: number | undefined
  statusText: string | undefined
  responseHeaders: IncomingHttpHeaders | undefined
  /** Body bytes as they came off the wire (after HTTP framing, before any gunzip). */
  wireBytes = 0
  /** Decoded bytes; undefined when gzip was passed through without being counted. */
  decodedBytes: number | undefined
  relayedBytes = 0
  endAt: number | undefined

  /** `success`, `canceled`, or the error's code. */
  code: string | undefined
  /** The error's one line (its message), for a failure. */
  reason: string | undefined
  /** The status a probe without debug answered, or would have. */
  httpStatus: number | undefined
  /** Where the probe was when it failed. */
  failedIn: Phase | undefined
  /** The failure came after the caller's reply had begun: its connection was cut. */
  cut = false

  constructor (
    readonly job: string,
    /** As the caller sent it. */
    readonly target: string,
    /** The canonical form the target policy allowed, which is dialled. */
    readonly dial: string,
    readonly url: string,
    readonly timeoutMs: number,
    readonly timeout: TimeoutFacts | undefined,
    readonly debug: boolean
  ) {}

  /** What the status page and metrics keep; undefined until the probe is over. */
  get summary (): ProbeSummary | undefined {
    if (this.endAt === undefined) return undefined
    return {
      time: this.time,
      job: this.job,
      target: this.target,
      status: this.httpStatus ?? 200,
      code: this.code ?? 'success',
      durationMs: this.endAt - this.start,
      bytes: this.relayedBytes,
    }
  }

  /** The leaf certificate's notAfter (seconds since the epoch) of the connection's TLS handshake, when there was one. */
  get certNotAfter (): number | undefined {
    return this.connection?.tls?.notAfter
  }

  /**
   * As data (a status page's JSON): the summary, the failure and the requests'
   * masked headers, and nothing that quotes the target (its response
   * headers may echo what it was sent): render the report for the rest.
   */
  toJSON (): unknown {
    return { ...this.summary, reason: this.reason, failedIn: this.failedIn, debug: this.debug, requests: this.requests }
  }

  [inspect.custom] (): string {
    return inspect(this.toJSON())
  }

  /** The caller left after the last byte was handed over but before it was all written: a cancellation after all. */
  callerLeft (): void {
    if (this.code === 'success') this.code = 'canceled'
  }
}
