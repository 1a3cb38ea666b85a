// URLs that carry secrets: a proxy_url's password, and credentials in a
// query (`token_url: https://idp/token?client_secret=...`, `?api_key=...`).
// Wherever such a URL is printed (errors, logs, /config) it is printed by
// redactUrl: the password as `xxxxx`, as prometheus/common's URL.Redacted
// prints it, and every query value (and a fragment) as `<secret>`, which
// Prometheus prints as written (README "Where the gateway differs from
// Prometheus"). The parts are split as Go's url.Parse and the WHATWG parser
// split them, so what is hidden is what a request would carry.
import { inspect } from 'node:util'
import { SECRET_PLACEHOLDER } from './secret.js'

/** What a URL's password prints as (Go's url.URL.Redacted). */
const PASSWORD_PLACEHOLDER = 'xxxxx'

interface UrlParts {
  /** Everything before the query: scheme, authority, path. */
  readonly base: string
  /** `scheme://`, when the base has userinfo. */
  readonly scheme: string | undefined
  /** The userinfo as written, when there is one (the text before the authority's last `@`). */
  readonly userinfo: string | undefined
  /** The base after the userinfo's `@`. */
  readonly hostAndPath: string
  /** After `?`, as written; undefined without `?`. */
  readonly query: string | undefined
  /** After `#`, as written; undefined without `#`. */
  readonly fragment: string | undefined
}

// The authority ends at the first `/` after `//`; in it the userinfo ends at the last `@`.
const USERINFO = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^/]*)@(.*)$/s

function split (written: string): UrlParts {
  const hash = written.indexOf('#')
  const beforeHash = hash === -1 ? written : written.slice(0, hash)
  const mark = beforeHash.indexOf('?')
  const base = mark === -1 ? beforeHash : beforeHash.slice(0, mark)
  const m = USERINFO.exec(base)
  return {
    base,
    scheme: m?.[1],
    userinfo: m?.[2],
    hostAndPath: m?.[3] ?? base,
    query: mark === -1 ? undefined : beforeHash.slice(mark + 1),
    fragment: hash === -1 ? undefined : written.slice(hash + 1),
  }
}

/** The password of a userinfo as written (after its first `:`), or undefined. */
function passwordOf (userinfo: string | undefined): string | undefined {
  const colon = userinfo?.indexOf(':') ?? -1
  return colon === -1 ? undefined : userinfo?.slice(colon + 1)
}

/** A query's `&`-separated parameters as [key, value]; a parameter without `=` is all value (a bare token). */
function params (query: string | undefined): Array<[string | undefined, string]> {
  if (query === undefined || query === '') return []
  return query.split('&').filter((p) => p !== '').map((p) => {
    const eq = p.indexOf('=')
    return eq === -1 ? [undefined, p] : [p.slice(0, eq), p.slice(eq + 1)]
  })
}

/** Percent-decoding as a query is decoded (`+` is a space); what does not decode is taken as written. */
function unescape (s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '))
  } catch {
    return s
  }
}

/**
 * `written` as it may be printed: `scheme://user:xxxxx@host/path?key=<secret>&bare=<secret>#<secret>`.
 * Keys, the user name, host and path are shown; an empty value stays empty
 * (`?key=`), as an empty Secret prints empty. Anything that is not a URL is
 * treated by the same rules (it is printed in the error that says so).
 */
export function redactUrl (written: string): string {
  const { base, scheme, userinfo, hostAndPath, query, fragment } = split(written)
  const colon = userinfo?.indexOf(':') ?? -1
  let out = colon === -1 || userinfo === undefined
    ? base
    : `${scheme ?? ''}${userinfo.slice(0, colon)}:${PASSWORD_PLACEHOLDER}@${hostAndPath}`
  if (query !== undefined) {
    out += '?' + query.split('&').map((p) => {
      const eq = p.indexOf('=')
      if (p === '' || eq === p.length - 1) return p
      return eq === -1 ? SECRET_PLACEHOLDER : `${p.slice(0, eq + 1)}${SECRET_PLACEHOLDER}`
    }).join('&')
  }
  if (fragment !== undefined) out += '#' + (fragment === '' ? '' : SECRET_PLACEHOLDER)
  return out
}

/**
 * Why `written` cannot be used: it holds what redactUrl prints in place of a
 * secret (a URL copied from /config or from an error), which Prometheus would
 * send as the password or the query value. Undefined when there is no such part.
 */
function urlPlaceholderProblem (written: string): string | undefined {
  const { userinfo, query } = split(written)
  const password = passwordOf(userinfo)
  if (password !== undefined && unescape(password) === PASSWORD_PLACEHOLDER) {
    return `the password is "${PASSWORD_PLACEHOLDER}", what scrape-gateway (like Prometheus) prints in place of a URL's password, ` +
      'not a password: write the real one (a URL copied from /config has none)'
  }
  for (const [key, value] of params(query)) {
    if (unescape(value) !== SECRET_PLACEHOLDER) continue
    const which = key === undefined ? 'a query value' : `the query value of ${JSON.stringify(unescape(key))}`
    return `${which} is "${SECRET_PLACEHOLDER}", what scrape-gateway prints in place of a URL's query values, ` +
      'not a value: write the real one (a URL copied from /config has none)'
  }
  return undefined
}

/**
 * The secret parts of `written` (its password, its query values), as
 * written, decoded, and as the WHATWG parser re-encodes them for the request:
 * what a server that echoes the request may show of them.
 */
function urlSecrets (written: string): string[] {
  const { userinfo, query } = split(written)
  const raw = [passwordOf(userinfo), ...params(query).map(([, v]) => v)]
  try {
    const url = new URL(written)
    raw.push(url.password, ...params(url.search.slice(1)).map(([, v]) => v))
  } catch {
    // Not a URL: only what is written can be echoed.
  }
  const found = raw.flatMap((s) => s === undefined ? [] : [s, unescape(s)])
  return [...new Set(found.filter((s) => s !== ''))]
}

/** A URL that may carry secrets: it prints as redactUrl shows it, everywhere; reveal() gives it as written. */
export class SecretUrl {
  readonly #written: string
  /** As it prints. */
  readonly shown: string

  /** Throws (a plain Error, for the caller to place) when `written` holds a placeholder: see urlPlaceholderProblem. */
  constructor (written: string) {
    const problem = urlPlaceholderProblem(written)
    if (problem !== undefined) throw new Error(problem)
    this.#written = written
    this.shown = redactUrl(written)
  }

  reveal (): string {
    return this.#written
  }

  /** The secret parts of the URL, for texts that may echo a request to it (urlSecrets). */
  secrets (): string[] {
    return urlSecrets(this.#written)
  }

  toString (): string {
    return this.shown
  }

  toJSON (): string {
    return this.shown
  }

  [Symbol.toPrimitive] (): string {
    return this.shown
  }

  [inspect.custom] (): string {
    return this.shown
  }
}
