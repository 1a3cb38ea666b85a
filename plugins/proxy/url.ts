// A forward proxy's URL, parsed once at load. It prints as every URL that
// may carry secrets does (src/client/secret-url.ts: the password as `xxxxx`,
// as prometheus/common's URL.Redacted shows it; query values as `<secret>`)
// wherever it goes (errors, logs, /config), and its userinfo becomes the
// Proxy-Authorization Go's transport sends: `Basic base64(user:password)`,
// both unescaped.
import { Secret } from '../../src/client/secret.js'
import { redactUrl, SecretUrl } from '../../src/client/secret-url.js'

export class ProxyUrl extends SecretUrl {
  readonly protocol: 'http:' | 'https:'
  /** `scheme://host[:port]`, no userinfo: where the gateway connects. */
  readonly origin: string
  /** Without IPv6 brackets. */
  readonly hostname: string
  readonly authorization: Secret | undefined

  constructor (url: URL, written: string) {
    super(written)
    this.protocol = url.protocol as 'http:' | 'https:'
    this.origin = url.origin
    this.hostname = url.hostname.replace(/^\[(.*)\]$/, '$1')
    if (url.username !== '' || url.password !== '') {
      const user = unescape(url.username, this.shown)
      const password = unescape(url.password, this.shown)
      this.authorization = new Secret('Basic ' + Buffer.from(`${user}:${password}`).toString('base64'))
    }
  }

  /** The URL as written, password and query values hidden: how it prints. */
  get redacted (): string {
    return this.shown
  }
}

function unescape (s: string, redacted: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    throw new Error(`parse "${redacted}": invalid URL escape in userinfo`)
  }
}

function tryUrl (s: string): URL | undefined {
  try {
    return new URL(s)
  } catch {
    return undefined
  }
}

function checkScheme (url: URL, redacted: string): URL {
  if (url.protocol === 'http:' || url.protocol === 'https:') return url
  const scheme = url.protocol.slice(0, -1)
  if (scheme.startsWith('socks')) {
    throw new Error(`proxy scheme "${scheme}" is not supported yet by scrape-gateway (http and https proxies are): ${redacted}`)
  }
  throw new Error(`unsupported proxy scheme "${scheme}" in ${redacted}: want http:// or https://`)
}

/** `proxy_url`: an absolute http:// or https:// URL. Throws with the reason. */
export function parseProxyUrl (written: string): ProxyUrl {
  const url = tryUrl(written)
  if (url === undefined || url.hostname === '') {
    throw new Error(`parse "${redactUrl(written)}": invalid URL: want http://host:port or https://host:port`)
  }
  return new ProxyUrl(checkScheme(url, redactUrl(written)), written)
}

/**
 * A proxy from the environment, read the way Go's httpproxy does: a value
 * without a usable scheme (`proxy:3128`) is taken as `http://proxy:3128`; an
 * unparseable one is ignored (undefined), as Go ignores it.
 */
export function parseEnvironmentProxy (written: string): ProxyUrl | undefined {
  if (written === '') return undefined
  let url = tryUrl(written)
  let used = written
  if (url === undefined || !['http:', 'https:', 'socks5:'].includes(url.protocol)) {
    const withScheme = tryUrl('http://' + written)
    if (withScheme !== undefined) {
      url = withScheme
      used = 'http://' + written
    }
  }
  if (url === undefined || url.hostname === '') return undefined
  return new ProxyUrl(checkScheme(url, redactUrl(used)), used)
}
