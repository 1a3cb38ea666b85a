// Decoding and validation of a job's proxy keys (prometheus/common ProxyConfig):
// Prometheus's messages and order (HTTPClientConfig.Validate rule 7), the proxy
// URL parsed and the environment read once, at load.
import type { MapCursor } from '../../src/config/cursor.js'
import { SECRET_PLACEHOLDER, secretAt, type Secret } from '../../src/client/secret.js'
import { NoProxy } from './no-proxy.js'
import { parseEnvironmentProxy, parseProxyUrl, type ProxyUrl } from './url.js'

export const PROXY_KEYS = ['proxy_url', 'no_proxy', 'proxy_from_environment', 'proxy_connect_header'] as const

export interface ProxySettings {
  /** Proxy for http:// targets (requests are forwarded), undefined: direct. */
  readonly http: ProxyUrl | undefined
  /** Proxy for https:// targets (CONNECT tunnel), undefined: direct. */
  readonly https: ProxyUrl | undefined
  /** Undefined: every target uses the proxy, localhost included (`proxy_url` without `no_proxy`). */
  readonly noProxy: NoProxy | undefined
  /** Sent on CONNECT only, in the order written; names lower-cased. */
  readonly connectHeader: ReadonlyArray<readonly [string, readonly Secret[]]>
  /** What /config shows. */
  readonly described: Record<string, unknown>
}

// RFC 9110 token, and a field value without CR/LF/NUL.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const FIELD_VALUE = /^[^\r\n\0]*$/

function decodeConnectHeader (job: MapCursor): Array<[string, Secret[]]> {
  const m = job.at('proxy_connect_header').map()
  return m.keys().map((name) => {
    if (!TOKEN.test(name)) throw m.keyCursor(name).error(`invalid header name ${JSON.stringify(name)}`)
    const values = m.at(name).list().map((c) => {
      if (!FIELD_VALUE.test(c.string())) throw c.error(`invalid value for header ${JSON.stringify(name)}`)
      return secretAt(c)
    })
    return [name.toLowerCase(), values]
  })
}

/** The first non-empty of the variables, upper case first (Go's getEnvAny). */
function fromEnv (names: readonly string[]): { name: string, value: string } | undefined {
  for (const name of names) {
    const value = process.env[name]
    if (value !== undefined && value !== '') return { name, value }
  }
  return undefined
}

function environmentProxy (job: MapCursor, names: readonly string[]): ProxyUrl | undefined {
  const v = fromEnv(names)
  if (v === undefined) return undefined
  try {
    return parseEnvironmentProxy(v.value)
  } catch (err) {
    throw job.at('proxy_from_environment').error(`${v.name}: ${(err as Error).message}`)
  }
}

export function decodeProxy (job: MapCursor): ProxySettings | undefined {
  // As in Go: the URL is parsed while unmarshalling, before Validate's rules.
  const written = job.at('proxy_url').string()
  let proxy: ProxyUrl | undefined
  if (written !== '') {
    try {
      proxy = parseProxyUrl(written)
    } catch (err) {
      throw job.at('proxy_url').error((err as Error).message)
    }
  }
  const environment = job.at('proxy_from_environment').bool()
  const noProxy = job.at('no_proxy').string()
  const connectHeader = decodeConnectHeader(job)

  if (connectHeader.length > 0 && !environment && proxy === undefined) {
    throw job.at('proxy_connect_header').error('if proxy_connect_header is configured, proxy_url or proxy_from_environment must also be configured')
  }
  if (environment && proxy !== undefined) {
    throw job.at('proxy_url').error('if proxy_from_environment is configured, proxy_url must not be configured')
  }
  if (environment && noProxy !== '') {
    throw job.at('no_proxy').error('if proxy_from_environment is configured, no_proxy must not be configured')
  }
  // Go's check is on the URL being absent (`proxy_url: ""` passes and means no proxy).
  if (!job.set('proxy_url') && noProxy !== '') {
    throw job.at('no_proxy').error('if no_proxy is configured, proxy_url must also be configured')
  }

  const connectDescribed = connectHeader.length === 0
    ? undefined
    : Object.fromEntries(connectHeader.map(([name, values]) => [name, values.map(() => SECRET_PLACEHOLDER)]))

  if (environment) {
    // Read once, when the job's client is built (Prometheus reads it on first use).
    const http = environmentProxy(job, ['HTTP_PROXY', 'http_proxy'])
    const https = environmentProxy(job, ['HTTPS_PROXY', 'https_proxy'])
    const list = fromEnv(['NO_PROXY', 'no_proxy'])?.value ?? ''
    return {
      http,
      https,
      noProxy: new NoProxy(list),
      connectHeader,
      described: {
        proxy_from_environment: true,
        proxy_environment: { http_proxy: http?.redacted ?? '', https_proxy: https?.redacted ?? '', no_proxy: list },
        proxy_connect_header: connectDescribed,
      },
    }
  }
  if (proxy === undefined) return undefined
  return {
    http: proxy,
    https: proxy,
    noProxy: noProxy === '' ? undefined : new NoProxy(noProxy),
    connectHeader,
    described: {
      proxy_url: proxy.redacted,
      no_proxy: noProxy === '' ? undefined : noProxy,
      proxy_connect_header: connectDescribed,
    },
  }
}
