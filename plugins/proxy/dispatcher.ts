// A job's base dispatcher when it uses a proxy. Each request is routed by its
// origin (decided once per origin): direct (no_proxy, loopback under the
// httpproxy rules, or no proxy for its scheme); an http:// target forwarded to
// the proxy with an absolute URI, as Go does whatever the proxy's scheme; an
// https:// target through a CONNECT tunnel. Redirect hops are routed afresh.
//
// Why not undici's ProxyAgent or EnvHttpProxyAgent (lib/dispatcher/
// proxy-agent.js, env-http-proxy-agent.js in undici 7): Prometheus's proxy
// semantics are Go's, and these differ where a scrape notices. Each
// difference is pinned by a test:
// - no_proxy: ProxyAgent has none; EnvHttpProxyAgent compares its entries
//   with the host name as strings (with ports), so an IP range (`10.0.0.0/8`)
//   never matches, and it proxies localhost and loopback. Go's httpproxy
//   rules (no-proxy.ts) match CIDRs and never proxy loopback (test/proxy.test.ts
//   'no_proxy: matching targets, and loopback once no_proxy is set, go
//   direct', 'matches hosts, domains, IPs and CIDRs with optional ports').
// - http:// targets: ProxyAgent tunnels them too (proxyTunnel defaults to
//   true), and forwards them only through an http:// proxy; Go forwards them
//   with an absolute URI through either ('userinfo becomes
//   Proxy-Authorization ...': absolute URI, no tunnel; 'an https proxy is
//   verified with the job's tls_config ...': forwarded over TLS).
// - proxy_connect_header: ProxyAgent's `headers` go on forwarded requests as
//   well; Go sends them on CONNECT only ('... proxy_connect_header goes on
//   CONNECT only').
// - The target's TLS inside a tunnel: ProxyAgent opens it with a
//   buildConnector of its own and takes no connector; here it is the job's
//   (the TLS feature's, with its failure words), as for a direct connection
//   (test/tls.test.ts 'words failures inside a tunnel as precisely as direct
//   ones: the tunnel uses the TLS connector').
// - Failures: undici reports `Proxy response (407) !== 200 when HTTP
//   Tunneling`, `Proxy Authentication Required (407)` or the bare socket
//   error, none naming the proxy; here each is SG_PROXY naming it, password
//   hidden ('a proxy that answers 407 is SG_PROXY ...', 'a proxy that is not
//   listening is SG_PROXY').
// Each request tells its probe's record (ProbeDispatchOptions.probe.record)
// which way it went and through which proxy, as the proxy prints.
import type { IncomingHttpHeaders } from 'node:http'
import { Agent, Dispatcher, Pool } from 'undici'
import type { DispatcherOptions, ProbeDispatchOptions } from '../../src/client/feature.js'
import type { ProxyFacts } from '../../src/client/record.js'
import { fail } from '../../src/client/interceptor.js'
import { toRecord, type HeaderRecord } from '../../src/client/headers.js'
import { Errors } from '../../src/errors.js'
import { proxyConnector, statusLine, tunnelConnector } from './connect.js'
import type { ProxySettings } from './settings.js'
import type { ProxyUrl } from './url.js'

type Opts = Dispatcher.DispatchOptions
type Handler = Dispatcher.DispatchHandler
type Route = 'direct' | 'forward' | 'tunnel'

/** How an origin goes, decided once per origin; the target's host and port, for the policy; what a probe's record is told. */
interface Routing {
  readonly route: Route
  /**
   * Why the target policy refuses this origin through the proxy (decided
   * once per origin: the policy is the job's, fixed until a reload rebuilds
   * the client); undefined when it may go, or goes direct.
   */
  readonly refused: string | undefined
  readonly facts: ProxyFacts
}

/** Connection reuse as the core's default Agent (src/client/build.ts); the probe's deadline bounds every wait. */
const POOL_OPTIONS = { keepAliveTimeout: 60_000, keepAliveMaxTimeout: 5 * 60_000, headersTimeout: 0, bodyTimeout: 0 }

/** Origins seen per job are few; the cap only guards a job whose allowed_targets hold ranges or wildcards against unbounded growth. */
const MAX_ROUTES = 4096

/** Passes a forwarded response on, except the proxy's own 407, which is the proxy's failure. */
class ForwardHandler implements Handler {
  #refused: Error | undefined

  constructor (private readonly proxy: ProxyUrl, private readonly handler: Handler) {}

  onRequestStart (controller: Dispatcher.DispatchController, context: unknown): void {
    this.handler.onRequestStart?.(controller, context)
  }

  onResponseStart (controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders, statusMessage?: string): void {
    if (statusCode === 407) {
      // Read the body to its end so the connection to the proxy stays usable.
      this.#refused = new Errors.PROXY(`proxy ${this.proxy.redacted} answered ${statusLine(statusCode)}`)
      return
    }
    this.handler.onResponseStart?.(controller, statusCode, headers, statusMessage)
  }

  onResponseData (controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#refused === undefined) this.handler.onResponseData?.(controller, chunk)
  }

  onResponseEnd (controller: Dispatcher.DispatchController, trailers: IncomingHttpHeaders): void {
    if (this.#refused === undefined) this.handler.onResponseEnd?.(controller, trailers)
    else this.handler.onResponseError?.(controller, this.#refused)
  }

  onResponseError (controller: Dispatcher.DispatchController, error: Error): void {
    this.handler.onResponseError?.(controller, this.#refused ?? error)
  }
}

export class ProxyDispatcher extends Dispatcher {
  readonly #settings: ProxySettings
  readonly #owned: Dispatcher[] = []
  readonly #routes = new Map<string, Routing>()
  readonly #viaProxy: DispatcherOptions['viaProxy']
  readonly #forward: Pool | undefined
  readonly #tunnel: Agent | undefined
  readonly #dispatch: Dispatcher['dispatch']

  constructor (settings: ProxySettings, { connect, allowH2, connector, viaProxy }: DispatcherOptions) {
    super()
    this.#settings = settings
    this.#viaProxy = viaProxy
    // The job's connector (the TLS feature's when it has one) opens target
    // connections, direct and inside tunnels, so TLS failures are worded alike.
    const direct = new Agent({ connect: connector, allowH2, ...POOL_OPTIONS })
    this.#owned.push(direct)
    if (settings.http !== undefined) {
      // HTTP/1.1 to the proxy, as Go's transport speaks to proxies.
      this.#forward = new Pool(settings.http.origin, { connect: proxyConnector(settings.http, connect), ...POOL_OPTIONS })
      this.#owned.push(this.#forward)
    }
    if (settings.https !== undefined) {
      const proxy = settings.https
      const proxyPool = new Pool(proxy.origin, { connect: proxyConnector(proxy, connect), ...POOL_OPTIONS })
      const headers: Record<string, string | string[]> = {}
      for (const [name, values] of settings.connectHeader) headers[name] = values.map((v) => v.reveal())
      if (proxy.authorization !== undefined) headers['proxy-authorization'] = proxy.authorization.reveal()
      this.#tunnel = new Agent({ connect: tunnelConnector(proxy, proxyPool, headers, connector), allowH2, ...POOL_OPTIONS })
      this.#owned.push(proxyPool, this.#tunnel)
    }
    // compose() hands the routing step handlers of undici's current API, whichever API the caller used.
    this.#dispatch = direct.compose((dispatchDirect) => (opts, handler) => {
      try {
        return this.#send(dispatchDirect, opts, handler)
      } catch (err) {
        fail(handler, err as Error)
        return true
      }
    }).dispatch
  }

  #route (origin: string): Routing {
    let routing = this.#routes.get(origin)
    if (routing !== undefined) return routing
    const url = new URL(origin)
    const https = url.protocol === 'https:'
    const proxy = https ? this.#settings.https : url.protocol === 'http:' ? this.#settings.http : undefined
    const port = url.port !== '' ? url.port : https ? '443' : '80'
    const route = proxy === undefined || this.#settings.noProxy?.bypass(url.hostname, port) === true ? 'direct' : https ? 'tunnel' : 'forward'
    const refused = route === 'direct' ? undefined : this.#viaProxy(url.hostname.replace(/^\[(.*)\]$/, '$1'), Number(port))?.message
    routing = { route, refused, facts: this.#facts(route, proxy) }
    if (this.#routes.size >= MAX_ROUTES) this.#routes.clear()
    this.#routes.set(origin, routing)
    return routing
  }

  /** What a probe's record is told about a route (made once per origin, with the route). */
  #facts (route: Route, proxy: ProxyUrl | undefined): ProxyFacts {
    const connectHeaders = route === 'tunnel' ? this.#settings.connectHeader.map(([name]) => name) : []
    return { url: proxy?.redacted, route, authorization: route !== 'direct' && proxy?.authorization !== undefined, connectHeaders }
  }

  #send (dispatchDirect: Dispatcher['dispatch'], opts: Opts, handler: Handler): boolean {
    const origin = String(opts.origin)
    const { route, refused, facts } = this.#route(origin)
    const record = (opts as ProbeDispatchOptions).probe?.record
    if (record !== undefined) record.proxy = facts
    if (route === 'direct') return dispatchDirect(opts, handler)
    // Built per request, from the reason decided per origin: no error object is shared between requests.
    if (refused !== undefined) throw new Errors.TARGET_FORBIDDEN(refused)
    if (route === 'tunnel') return (this.#tunnel as Agent).dispatch(opts, handler)
    // Forwarded: `GET http://host:port/path` to the proxy, Host the target's.
    const proxy = this.#settings.http as ProxyUrl
    const url = new URL(origin)
    const headers: HeaderRecord = { ...toRecord(opts.headers), host: url.host }
    if (proxy.authorization !== undefined) headers['proxy-authorization'] = proxy.authorization.reveal()
    return (this.#forward as Pool).dispatch({
      ...opts,
      origin: proxy.origin,
      path: url.origin + opts.path,
      headers,
      // One constant name, so undici never reconnects on a "servername change"; the connector uses the proxy's.
      servername: proxy.hostname,
    } as Opts, new ForwardHandler(proxy, handler))
  }

  override dispatch (opts: Opts, handler: Handler): boolean {
    return this.#dispatch(opts, handler)
  }

  override async close (): Promise<void> {
    await Promise.all(this.#owned.map(async (d) => { await d.close() }))
  }

  override async destroy (): Promise<void> {
    await Promise.all(this.#owned.map(async (d) => { await d.destroy() }))
  }
}
