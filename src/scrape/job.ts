// A job ready to probe: its config, its compiled client, and every part of the
// upstream request that does not depend on the probe (path, base headers).
import type { JobConfig } from '../config/types.js'
import type { ClientFeature } from '../client/feature.js'
import { buildClient, type JobClient } from '../client/build.js'
import { TargetPolicy } from '../policy/target-policy.js'
import { queryEscape } from '../go-format.js'
import { VERSION } from '../version.js'

export interface CompiledJob {
  readonly config: JobConfig<ClientFeature>
  readonly client: JobClient
  /** metrics_path + `?` + params, escaped as Go's url.URL.String() does. */
  readonly path: string
  readonly baseHeaders: Readonly<Record<string, string>>
  /** Where the job may be probed, and where its requests may go (the probe route, connector and redirect layer ask it). */
  readonly policy: TargetPolicy
}

export const USER_AGENT = `scrape-gateway/${VERSION}`

export function requestPath (metricsPath: string, params: JobConfig['params']): string {
  const url = new URL('http://h')
  url.pathname = metricsPath
  const query = params.flatMap(([k, vs]) => vs.map((v) => `${queryEscape(k)}=${queryEscape(v)}`)).join('&')
  return query === '' ? url.pathname : `${url.pathname}?${query}`
}

export async function compileJob (config: JobConfig<ClientFeature>): Promise<CompiledJob> {
  const policy = new TargetPolicy(config)
  return {
    config,
    client: await buildClient({ ...config, policy }),
    path: requestPath(config.metricsPath, config.params),
    baseHeaders: {
      accept: config.accept,
      'accept-encoding': config.enableCompression ? 'gzip' : 'identity',
      'user-agent': USER_AGENT,
    },
    policy,
  }
}
