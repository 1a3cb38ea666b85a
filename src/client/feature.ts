// The contract between the core and the plugins that shape a job's HTTP client
// (auth, TLS, proxy, ...). A feature owns some keys of a scrape config, decodes
// and validates them once at load, and compiles them into the job's client.
//
// Layering: src/client sits on src/config. What config needs of a feature
// (its keys, decode, describe) is config's own contract, ConfigFeature in
// src/config/feature.ts; a client feature is that plus what the client needs.
// The probe (src/scrape) sits on both; plugins/ implement this contract and
// are named only by the composition root (src/server.ts).
import type { ConnectionOptions } from 'node:tls'
import type { buildConnector, Dispatcher } from 'undici'
import type { PlainFeature, SlotClaim, SlotFeature } from '../config/feature.js'
import type { TargetPolicy } from '../policy/target-policy.js'
import type { HeaderRecord } from './headers.js'
import type { ProbeRecord } from './record.js'

/**
 * Where an interceptor sits in the chain, outermost first; the order of
 * Prometheus's RoundTripper layers (prometheus/common config/http_config.go).
 */
export const Layer = {
  Headers: 10,
  CrossHostStrip: 20,
  /**
   * The job's one way to authenticate: the feature in slot `auth` (basic_auth,
   * authorization, oauth2, or a kind a plugin adds). One layer serves them
   * all, as the slot lets a job use only one.
   */
  Auth: 40,
  /**
   * Redirects are followed below the auth layer: each hop carries the headers
   * it set, the redirect layer strips credentials on cross-host hops, and it
   * asks the job's target policy about every hop (ClientBuilder.targets).
   */
  Redirect: 55,
  Transport: 60,
} as const

export type Interceptor = Dispatcher.DispatcherComposeInterceptor

/**
 * What the probe hands down with each request, beside undici's own options
 * (undici ignores keys it does not know). A layer that waits before it
 * dispatches (an oauth2 token fetch) gives up when `probe.signal` aborts;
 * once a request is on a connection, the probe aborts it through the
 * handler's controller, so layers need not watch the signal for that. The
 * signal is made on first use: most probes never need one.
 *
 * `probe.record` is the probe's record (record.ts): a layer publishes the
 * facts it alone knows into it (a redirect hop, the proxy used, the wait for
 * a token), as facts, never as text. Requests that are not a probe's (a
 * token endpoint's) have none.
 */
export interface ProbeDispatchOptions extends Dispatcher.DispatchOptions {
  readonly probe?: { readonly signal: AbortSignal, readonly record?: ProbeRecord }
  /**
   * Set by a layer that adds credentials the fixed set (Authorization,
   * Cookie, ...) does not cover: http_headers given as secrets or files. For
   * each such header (lower-case name), what a redirect hop to another host
   * carries instead: the header's other values, or undefined (none). The
   * redirect layer applies it on cross-host hops.
   */
  readonly crossHostHeaders?: Readonly<Record<string, HeaderRecord[string] | undefined>>
}

/** TLS options for connections to the job's targets (undici's `connect`). */
export type ConnectOptions = Pick<ConnectionOptions,
  'ca' | 'cert' | 'key' | 'rejectUnauthorized' | 'servername' | 'minVersion' | 'maxVersion' | 'checkServerIdentity' | 'ciphers'>

/** Opens a connection to a target (undici's connector shape). */
export type Connector = buildConnector.connector

export interface DispatcherOptions {
  connect: ConnectOptions
  allowH2: boolean
  /**
   * Connects to a target with `connect` and `allowH2` (TCP for http:, TLS for
   * https:, over `httpSocket` when given, e.g. a CONNECT tunnel). The TLS
   * feature's connector reports a failed handshake with its cause in words
   * (plugins/tls/errors.ts); prefer it to building one from `connect`. It
   * also enforces the job's target policy for the address it dials
   * (src/client/pinned-connect.ts): open every target connection with it.
   * Its HTTP/1.x connections skip a target's `100 Continue`
   * (src/client/interim-filter.ts, which needs undici's default pipelining
   * of 1); a connection a dispatcher opens itself and reads responses from
   * (to a forward proxy) gets the same with skipContinue.
   */
  connector: Connector
  /**
   * Asks the job's target policy about a request that a proxy will carry
   * (forwarded, or through a CONNECT tunnel) to `hostname:port`: the proxy
   * resolves the name, so only a target allowed by its name may go. Returns
   * the coded error to fail the request with, or undefined. A dispatcher
   * that hands requests to a proxy asks before it does; connections it makes
   * itself go through `connector`, which checks the address it dials.
   */
  viaProxy (hostname: string, port: number): Error | undefined
}

/**
 * Connect options that can change while the gateway runs (TLS files rotated
 * on disk). The job's base dispatcher is rebuilt when they do.
 */
export interface ConnectReloader {
  /**
   * Runs before every request, synchronously (a stat of local files; see
   * plugins/tls/reload.ts). Returns the new options when they changed since
   * the last call, undefined when not; throws (a coded error) to fail the
   * request, e.g. when a rotated CA file is not valid.
   */
  check (): ConnectOptions | undefined
}

/** What a feature's compile step may contribute to a job's client. */
export interface ClientBuilder {
  readonly job: string
  readonly scheme: 'http' | 'https'
  /**
   * Where the job's requests may go (src/policy/target-policy.ts): a layer
   * that sends a request somewhere the probe did not name (a redirect hop)
   * asks it first. Undefined only for a client whose one destination the
   * config itself names (an oauth2 token endpoint).
   */
  readonly targets: TargetPolicy | undefined
  readonly connect: ConnectOptions
  allowH2: boolean
  /** Adds an interceptor at `layer` (see Layer). */
  use (layer: number, interceptor: Interceptor): void
  /** Replaces the base dispatcher (a proxy feature does this). */
  setDispatcher (factory: (options: DispatcherOptions) => Dispatcher): void
  /** Replaces how connections are opened (the TLS feature does this); the base dispatcher gets it as `connector`. */
  setConnector (factory: (options: Pick<DispatcherOptions, 'connect' | 'allowH2'>) => Connector): void
  /**
   * Makes the connect options reloadable: `reloader.check()` runs before each
   * request, and when it returns new options the base dispatcher (whichever
   * feature made it) is rebuilt with them; the old one is closed once its
   * in-flight requests are done.
   */
  reloadConnect (reloader: ConnectReloader): void
  /** Runs when the job's client is closed (reload, shutdown). */
  onClose (fn: () => void | Promise<void>): void
}

/** What a feature adds to the config contract, for the job's client. */
export interface ClientHooks<S> {
  /** Load-time compile: read what must be read once, contribute to the client. */
  compile? (settings: S, client: ClientBuilder): void | Promise<void>
  /**
   * A failure of the feature's part of the connection as a coded error, in
   * the feature's words (the TLS feature: a failed handshake, SG_UPSTREAM_TLS);
   * undefined for a failure it does not know. The core's error mapping
   * (src/classify.ts) asks the job's features, so it can word what they know
   * without naming them.
   */
  describeFailure? (err: Error): Error | undefined
}

export type PlainClientFeature<S = unknown> = PlainFeature<S> & ClientHooks<S>

/** A feature that fills a slot (src/config/feature.ts SlotFeature): an auth kind, at Layer.Auth. */
export type SlotClientFeature<S = unknown, C extends SlotClaim = SlotClaim> = SlotFeature<S, C> & ClientHooks<S>

export type ClientFeature<S = unknown> = PlainClientFeature<S> | SlotClientFeature<S>
