// The redirect layer (Layer.Redirect, below the auth layer): follows 3xx the
// way Go's http.Client does for Prometheus, keeps every hop inside the job's
// target policy, and drops every credential once a hop leaves the original
// host and port.
//
// - 301, 302, 303, 307 and 308 with a Location are followed; any other status,
//   or a 3xx without Location, is the response.
// - Location is resolved against the current URL; each hop is dispatched with
//   its own origin and path, so a hop may change host, port or scheme.
// - At most 10 requests in all: the 10th redirect fails the scrape with
//   `stopped after 10 redirects`.
// - Each hop's target is checked by the job's target policy like the probe's
//   own (src/policy/target-policy.ts) before it is dispatched, and dialled
//   in the canonical form that was checked: a hop the job does not allow
//   fails the scrape with SG_REDIRECT_FORBIDDEN, and so does one whose name
//   resolves to an address the job does not allow (the connector's
//   SG_ADDRESS_FORBIDDEN, reworded here as the redirect's).
// - Each hop carries the original request's headers (as the outer layers set
//   them) plus a Referer, except from https to http.
// - Once a hop goes to a host that is neither the original host nor a
//   subdomain of it, or to another port (stricter than Go, which ignores the
//   port: another port is another server), this and every later hop go
//   without Authorization, Www-Authenticate, Cookie, Cookie2,
//   Proxy-Authorization, Proxy-Authenticate, and without the headers an outer
//   layer marked as credentials (ProbeDispatchOptions.crossHostHeaders:
//   http_headers secrets and files; Go drops only the fixed set).
// - A 3xx body is read to its end and dropped before the next hop.
// - Each redirect and what was decided about it (followed, with or without
//   credentials, or refused and why) goes into the probe's record
//   (ProbeDispatchOptions.probe.record), on the request it answered.
//
// Why not undici's own interceptors.redirect (lib/interceptor/redirect.js,
// lib/handler/redirect-handler.js in undici 7): it follows the browser's
// rules, not Go's, where they differ for a scrape. Each difference is pinned
// by a test in test/redirects.test.ts:
// - Credentials: undici drops Authorization, Cookie and Proxy-Authorization
//   whenever the origin changes (scheme too, and onto a subdomain); Go keeps
//   them for the same host or a subdomain whatever the port, and here for the
//   same host or a subdomain on the same port; past that the six headers
//   above go ('a same-host redirect keeps Authorization ...', 'what counts as
//   the same host', 'every credential header is dropped on a cross-host hop
//   ...').
// - Referer: undici sends none ('Referer', 'a same-host redirect ... sets
//   Referer').
// - The limit: past maxRedirections undici hands the 3xx on as the answer
//   (or throws a bare `max redirects`); Go fails with `stopped after 10
//   redirects` ('9 redirects (10 requests) are followed; the 10th ...').
// - A loop: undici fails at the first URL it has already requested
//   (`Redirect loop detected`); Go follows it to the limit ('a loop is
//   followed to the limit, as Go does ...').
// - 300 Multiple Choices: undici follows it, Go does not ('a 3xx without
//   Location, or a status Go does not follow, is the answer').
// - A Location that does not parse or leaves http(s): undici throws its own
//   TypeError or InvalidArgumentError; here it is SG_UPSTREAM_REDIRECT in Go's
//   words ('a Location that does not parse, or leads off http(s), ...').
import type { IncomingHttpHeaders } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Dispatcher } from 'undici'
import type { Interceptor, ProbeDispatchOptions } from '../../src/client/feature.js'
import { SCHEMED_CREDENTIAL_HEADERS, toRecord, WHOLE_CREDENTIAL_HEADERS, type HeaderRecord } from '../../src/client/headers.js'
import type { TargetPolicy } from '../../src/policy/target-policy.js'
import type { ProbeRecord } from '../../src/client/record.js'
import { Errors, isCoded } from '../../src/errors.js'
import { refererFor, sameHostOrSubdomain } from './hosts.js'

type Opts = Dispatcher.DispatchOptions
type Handler = Dispatcher.DispatchHandler
type Controller = Dispatcher.DispatchController

const FOLLOWED = new Set([301, 302, 303, 307, 308])
export const MAX_REQUESTS = 10
const CREDENTIALS = new Set([...SCHEMED_CREDENTIAL_HEADERS, ...WHOLE_CREDENTIAL_HEADERS])
/** The target policy's refusals of a hop found below this layer (a proxy's dispatcher, the connector). */
const REFUSED = new Set(['SG_TARGET_FORBIDDEN', 'SG_ADDRESS_FORBIDDEN'])

function portOf (url: URL): string {
  return url.port !== '' ? url.port : url.protocol === 'https:' ? '443' : '80'
}

/** One scrape's chain of requests. */
class Chain {
  #original: URL | undefined
  #headers: HeaderRecord | undefined
  #requests = 1
  #crossHost = false
  readonly #record: ProbeRecord | undefined

  constructor (
    readonly dispatch: Dispatcher['dispatch'],
    readonly opts: Opts,
    readonly handler: Handler,
    readonly policy: TargetPolicy
  ) {
    this.#record = (opts as ProbeDispatchOptions).probe?.record
  }

  /**
   * Tells the probe's record what became of a redirect: on the request that
   * got it, the last one the record layer (below this one) saw go out.
   */
  note (statusCode: number, location: string, next: URL | undefined, refused: Error | undefined): void {
    const sent = this.#record?.requests.at(-1)
    if (sent === undefined) return
    sent.redirect = { status: statusCode, location, next: next?.href, crossHost: this.#crossHost, refused: refused?.message }
  }

  start (): boolean {
    return this.dispatch(this.opts, new Hop(this, undefined, this.opts.method))
  }

  /** The URL of the first request; parsed only when a redirect needs it (most scrapes get a 200). */
  get original (): URL {
    this.#original ??= new URL(this.opts.path, this.opts.origin)
    return this.#original
  }

  /** The next hop for a redirect from `from`; throws a coded error when it must not be followed. */
  plan (from: Hop, statusCode: number, location: string): () => void {
    let to: URL
    try {
      to = new URL(location, from.url ?? this.original)
    } catch (err) {
      throw new Errors.UPSTREAM_REDIRECT(`failed to parse Location header ${JSON.stringify(location)}`, { cause: err })
    }
    if (this.#requests >= MAX_REQUESTS) throw new Errors.UPSTREAM_REDIRECT(`stopped after ${MAX_REQUESTS} redirects`)
    if (to.protocol !== 'http:' && to.protocol !== 'https:') {
      throw new Errors.UPSTREAM_REDIRECT(`unsupported protocol scheme ${JSON.stringify(to.protocol.slice(0, -1))} in redirect to ${to.href}`)
    }
    // What the policy checked is what is dialled: the hop's authority in
    // canonical form, set on the parsed URL (re-parsing a path that starts
    // with `//` would read it as another host).
    to.host = this.policy.admitHop(to)
    // Sticky: once the chain has left the original host (or port), it never gets credentials back.
    if (!this.#crossHost && (!sameHostOrSubdomain(to.hostname, this.original.hostname) || portOf(to) !== portOf(this.original))) {
      this.#crossHost = true
    }
    this.note(statusCode, location, to, undefined)

    this.#headers ??= toRecord(this.opts.headers)
    const headers: HeaderRecord = {}
    for (const [name, value] of Object.entries(this.#headers)) {
      const lower = name.toLowerCase()
      if (lower === 'host' || (this.#crossHost && CREDENTIALS.has(lower))) continue
      headers[name] = value
    }
    if (this.#crossHost) {
      for (const [name, value] of Object.entries((this.opts as ProbeDispatchOptions).crossHostHeaders ?? {})) {
        if (value === undefined) delete headers[name]
        else headers[name] = value
      }
    }
    // An explicit Referer of the original request is kept; otherwise the previous URL.
    if (!Object.keys(headers).some((n) => n.toLowerCase() === 'referer')) {
      const referer = refererFor(from.url ?? this.original, to)
      if (referer !== undefined) headers.referer = referer
    }
    // 301/302/303 turn anything but GET and HEAD into a GET without a body; 307/308 repeat the request.
    const keep = statusCode === 307 || statusCode === 308 || from.method === 'GET' || from.method === 'HEAD'
    const method = keep ? from.method : 'GET'
    const opts: Opts = {
      ...this.opts,
      origin: to.origin,
      path: to.pathname + to.search,
      query: undefined,
      method,
      headers,
      body: statusCode === 307 || statusCode === 308 ? this.opts.body : undefined,
    }
    return () => {
      this.#requests++
      // A scrape that ended meanwhile aborts the next hop as it starts (the
      // handler's onRequestStart), as it does any request it no longer wants.
      try {
        this.dispatch(opts, new Hop(this, to, method))
      } catch (err) {
        this.handler.onResponseError?.(from.controller as Controller, err as Error)
      }
    }
  }
}

/** One request of the chain: passes the final response on, follows a redirect. */
class Hop implements Handler {
  controller: Controller | undefined
  #next: (() => void) | undefined
  #failed: Error | undefined
  #errored = false

  /** `url` is undefined for the first request: the chain parses it only if it redirects. */
  constructor (private readonly chain: Chain, readonly url: URL | undefined, readonly method: string) {}

  onRequestStart (controller: Controller, context: unknown): void {
    this.controller = controller
    // Every hop, so an abort (the probe's deadline) reaches the request in flight.
    this.chain.handler.onRequestStart?.(controller, context)
  }

  onRequestUpgrade (controller: Controller, statusCode: number, headers: IncomingHttpHeaders, socket: Duplex): void {
    this.chain.handler.onRequestUpgrade?.(controller, statusCode, headers, socket)
  }

  onResponseStart (controller: Controller, statusCode: number, headers: IncomingHttpHeaders, statusMessage?: string): void {
    const raw = headers.location
    const location = Array.isArray(raw) ? raw[0] : raw
    if (FOLLOWED.has(statusCode) && location !== undefined && location !== '') {
      try {
        this.#next = this.chain.plan(this, statusCode, location)
      } catch (err) {
        this.#failed = err as Error
        this.chain.note(statusCode, location, undefined, this.#failed)
        controller.abort(this.#failed)
      }
      return
    }
    this.chain.handler.onResponseStart?.(controller, statusCode, headers, statusMessage)
  }

  onResponseData (controller: Controller, chunk: Buffer): void {
    if (this.#next === undefined && this.#failed === undefined) this.chain.handler.onResponseData?.(controller, chunk)
  }

  onResponseEnd (controller: Controller, trailers: IncomingHttpHeaders): void {
    if (this.#failed !== undefined) this.onResponseError(controller, this.#failed)
    else if (this.#next !== undefined) this.#next()
    else this.chain.handler.onResponseEnd?.(controller, trailers)
  }

  onResponseError (controller: Controller, error: Error): void {
    if (this.#errored) return
    this.#errored = true
    this.chain.handler.onResponseError?.(controller, this.#failed ?? this.#refusal(error) ?? error)
  }

  /** A hop the policy refused below this layer is the redirect's failure (502), not the caller's (403). */
  #refusal (error: Error): Error | undefined {
    if (this.url === undefined || !isCoded(error) || !REFUSED.has(error.code)) return undefined
    return new Errors.REDIRECT_FORBIDDEN(`redirect to ${JSON.stringify(this.url.host)}: ${error.message}`, { cause: error })
  }
}

/** Follows redirects, each hop checked by the job's target `policy`. */
export function redirectInterceptor (policy: TargetPolicy): Interceptor {
  return (dispatch) => (opts, handler) => new Chain(dispatch, opts, handler, policy).start()
}
