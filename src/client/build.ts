// Compiles a job's client features into one undici dispatcher, once at load:
// an Agent (or what a feature puts in its place) composed with the features'
// interceptors in Prometheus's layer order. When a feature makes the connect
// options reloadable (TLS files), the base dispatcher is rebuilt on a change.
// A job's target policy is enforced here for every connection, whichever
// feature built the connector: the connector the base dispatcher gets dials
// only addresses the policy checked (pinned-connect.ts), and every HTTP/1.x
// connection it hands over skips a target's `100 Continue` (interim-filter.ts).
// Every client's innermost layer tells a probe's record what each request
// sent (record-layer.ts).
import { Agent, buildConnector, type Dispatcher } from 'undici'
import type { JobConfig } from '../config/types.js'
import type { TargetPolicy } from '../policy/target-policy.js'
import type { ClientBuilder, ClientFeature, ConnectOptions, ConnectReloader, Connector, DispatcherOptions, Interceptor } from './feature.js'
import { ReloadingDispatcher } from './reloading.js'
import { pinnedConnector } from './pinned-connect.js'
import { skippingContinue } from './interim-filter.js'
import { recordLayer } from './record-layer.js'

/**
 * What a client is built from: a job's name, scheme and client features, and
 * its target policy (a token endpoint's client has none: the config names
 * its one destination).
 */
export type ClientSpec = Pick<JobConfig<ClientFeature>, 'name' | 'scheme' | 'client'> & { readonly policy?: TargetPolicy }

export interface JobClient {
  readonly dispatcher: Dispatcher
  /** A failure worded by the job's features that know it (ClientFeature.describeFailure), or undefined. */
  describeFailure (err: Error): Error | undefined
  close (): Promise<void>
}

/** Keep-alive like Prometheus's transport (idle conns are kept); capped by the server's own hint. */
const KEEP_ALIVE_MS = 60_000

function defaultDispatcher ({ connector, allowH2 }: DispatcherOptions): Dispatcher {
  return new Agent({
    connect: connector,
    allowH2,
    keepAliveTimeout: KEEP_ALIVE_MS,
    keepAliveMaxTimeout: 5 * 60_000,
    // The probe's own deadline bounds every wait; these are a backstop.
    headersTimeout: 0,
    bodyTimeout: 0,
  })
}

function defaultConnector ({ connect, allowH2 }: Pick<DispatcherOptions, 'connect' | 'allowH2'>): Connector {
  return buildConnector({ ...connect, allowH2 })
}

export async function buildClient (job: ClientSpec): Promise<JobClient> {
  const layers: Array<{ layer: number, seq: number, interceptor: Interceptor }> = []
  const closers: Array<() => void | Promise<void>> = []
  let factory = defaultDispatcher
  let connectorFactory = defaultConnector
  let reloader: ConnectReloader | undefined
  const connect: ConnectOptions = {}
  const { policy } = job
  const builder: ClientBuilder = {
    job: job.name,
    scheme: job.scheme,
    targets: policy,
    connect,
    allowH2: false,
    use: (layer, interceptor) => { layers.push({ layer, seq: layers.length, interceptor }) },
    setDispatcher: (f) => { factory = f },
    setConnector: (f) => { connectorFactory = f },
    reloadConnect: (r) => { reloader = r },
    onClose: (fn) => { closers.push(fn) },
  }
  for (const { feature, settings } of job.client) await feature.compile?.(settings, builder)

  const { allowH2 } = builder
  const viaProxy = policy === undefined ? () => undefined : policy.viaProxy.bind(policy)
  const baseFor = (options: ConnectOptions): Dispatcher => {
    const connector = connectorFactory({ connect: options, allowH2 })
    return factory({
      connect: options,
      allowH2,
      // Outermost, so it sees the connection undici reads: inside a CONNECT
      // tunnel too (the proxy's dispatcher opens the target's TLS with it).
      connector: skippingContinue(policy === undefined ? connector : pinnedConnector(connector, policy)),
      viaProxy,
    })
  }
  const first = baseFor({ ...connect })
  const base = reloader === undefined ? first : new ReloadingDispatcher(first, reloader, baseFor)
  // compose(a, b): b sees the request first, so the innermost layer goes first:
  // the record layer, which sees each request as it goes to undici.
  const ordered = layers.sort((x, y) => y.layer - x.layer || x.seq - y.seq).map((l) => l.interceptor)
  const dispatcher = base.compose([recordLayer, ...ordered])
  const features = job.client.map(({ feature }) => feature)
  return {
    dispatcher,
    describeFailure (err) {
      for (const feature of features) {
        const described = feature.describeFailure?.(err)
        if (described !== undefined) return described
      }
      return undefined
    },
    async close () {
      await base.close()
      for (const fn of closers) await fn()
    },
  }
}
