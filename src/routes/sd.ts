// GET /sd: every static target of every job as Prometheus's HTTP service
// discovery sees targets, already labelled to be scraped through the
// gateway, so Prometheus's whole config for the gateway is one
// http_sd_configs entry and each target is listed once, in the gateway's job.
import type { FastifyInstance } from 'fastify'
import type { GatewayConfig } from '../config/types.js'
import type { GatewayState } from '../state.js'
import { Errors } from '../errors.js'

export interface SdRouteOptions {
  state: GatewayState
  /**
   * Where Prometheus reaches the gateway (--web.external-url). Without it,
   * where the caller of /sd reached it: its Host header, over http or https
   * as it came in. Prometheus fetching /sd is the one that will scrape, so
   * that is right unless a proxy stands between them.
   */
  externalUrl?: URL
}

/** One target group of Prometheus's HTTP SD format. */
export interface TargetGroup {
  targets: string[]
  labels: Record<string, string>
}

/**
 * The URL Prometheus reaches the gateway at, from --web.external-url: http or
 * https, a host, an optional port and path prefix; no userinfo, query or
 * fragment (none of them can be put in target labels). Throws with the reason.
 */
export function parseExternalUrl (text: string): URL {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new Error(`invalid --web.external-url ${JSON.stringify(text)}: not an absolute URL`)
  }
  const why = url.protocol !== 'http:' && url.protocol !== 'https:'
    ? 'the scheme must be http or https'
    : url.username !== '' || url.password !== '' ? 'userinfo is not allowed' : url.search !== '' || url.hash !== '' ? 'a query or fragment is not allowed' : undefined
  if (why !== undefined) throw new Error(`invalid --web.external-url ${JSON.stringify(text)}: ${why}`)
  return url
}

/**
 * One group per static target of every job: the gateway as __address__ (with
 * __scheme__ and a path prefix from the external URL), /probe with the job
 * and the target as parameters, `instance` the target and `job` the gateway
 * job's name (so the series are labelled as a direct scrape labels them).
 * The target group's own labels win over job and instance, as they do in
 * Prometheus, but not over the labels that route the scrape through the
 * gateway (a `__metrics_path__` of the user's would bypass it).
 */
export function targetGroups (config: GatewayConfig, externalUrl: URL): TargetGroup[] {
  const scheme = externalUrl.protocol.slice(0, -1)
  const address = externalUrl.host
  const metricsPath = `${externalUrl.pathname.replace(/\/+$/, '')}/probe`
  const groups: TargetGroup[] = []
  for (const job of config.jobs) {
    for (const group of job.staticConfigs) {
      for (const target of group.targets) {
        groups.push({
          targets: [address],
          labels: {
            job: job.name,
            instance: target,
            ...group.labels,
            __scheme__: scheme,
            __metrics_path__: metricsPath,
            __param_job: job.name,
            __param_target: target,
          },
        })
      }
    }
  }
  return groups
}

export async function sdRoute (app: FastifyInstance, { state, externalUrl }: SdRouteOptions): Promise<void> {
  app.get('/sd', async (request, reply) => {
    const base = externalUrl ?? requestUrl(request.protocol, request.headers.host)
    return reply.type('application/json').send(JSON.stringify(targetGroups(state.config, base)))
  })
}

/** The gateway's URL as the caller reached it; SG_BAD_PARAM when its Host header is not host[:port]. */
function requestUrl (protocol: string, host: string | undefined): URL {
  const shaped = host !== undefined && /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)(?::\d{1,5})?$/.test(host)
  const url = shaped && URL.canParse(`${protocol}://${host}/`) ? new URL(`${protocol}://${host}/`) : undefined
  if (url === undefined) throw new Errors.BAD_PARAM(`the Host header ${JSON.stringify(host ?? '')} is not host[:port]; set --web.external-url`)
  return url
}
