// The debug report: a finished probe record (src/client/record.ts) as plain
// text, for `/probe?...&debug=true` (README "Debug report"). The record holds
// facts; this file alone turns them into words, only when a report is asked
// for.
//
// Secrets: the request's headers come through the record's masked view
// (`Authorization: Bearer <secret>`); URLs (a proxy, a token endpoint) are
// held as they print (redactUrl); error reasons are the coded errors' own
// messages, which never carry a secret. As a last pass, every value the
// masked view hid is removed from the whole text in every form it can take
// (hideSecrets: raw, URL-encoded, JSON-escaped, base64), so a target that
// echoes a credential in a response header or a Location cannot put it in
// the report either.
import { STATUS_CODES } from 'node:http'
import type { IncomingHttpHeaders } from 'node:http'
import { chainOf, type CertSummary } from '../client/certificates.js'
import type { ConnectionFacts } from '../client/connection-facts.js'
import type { Phase, ProbeRecord, SentRequest } from '../client/record.js'
import { canonicalHeaderKey } from '../client/headers.js'
import { hideSecrets, SECRET_PLACEHOLDER } from '../client/secret.js'
import { formatSeconds } from '../go-format.js'
import { oneLine } from '../errors.js'

const DAY_MS = 86_400_000

/** Response headers whose values are the target's credentials for the gateway (a session). */
const SECRET_RESPONSE_HEADERS = new Set(['set-cookie', 'set-cookie2'])

/** Control characters shown escaped, so a header value cannot forge a line of the report. */
function clean (s: string): string {
  // eslint-disable-next-line no-control-regex -- escaping control characters is the point
  return s.replace(/[\x00-\x08\x0a-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
}

function ms (n: number): string {
  return `${n < 10 ? n.toFixed(2) : n.toFixed(1)} ms`
}

function iso (d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

function statusWords (status: number, text: string | undefined): string {
  const words = text !== undefined && text !== '' ? text : STATUS_CODES[status] ?? ''
  return `${status} ${clean(words)}`.trim()
}

/** Where a probe failed, in words. */
function phaseWords (phase: Phase, record: ProbeRecord): string {
  const c = record.connection
  const dialled = c?.tried.at(-1)
  switch (phase) {
    case 'token': return `waiting for the oauth2 token from ${record.token?.url ?? 'the token endpoint'}`
    case 'connection':
      return record.proxy?.route === 'tunnel'
        ? `getting a connection: the CONNECT tunnel through proxy ${record.proxy.url ?? ''} did not finish`
        : 'waiting for a connection'
    case 'resolve': return `resolving ${c?.name ?? 'the target\'s name'}`
    case 'connect': return `connecting to ${dialled ?? record.dial}`
    case 'tls': return `the TLS handshake with ${dialled ?? record.dial}`
    case 'head': return 'waiting for the response head (the request was sent)'
    case 'body': return 'reading the body'
  }
}

function timeoutWords (record: ProbeRecord): string {
  const t = record.timeout
  const effective = `${formatSeconds(record.timeoutMs)}s`
  if (t === undefined) return effective
  const job = `the job's scrape_timeout is ${formatSeconds(t.jobMs)}s`
  const header = `the caller's X-Prometheus-Scrape-Timeout-Seconds ${clean(t.header ?? '')}`
  const offset = `--timeout-offset ${formatSeconds(t.offsetMs)}s`
  switch (t.from) {
    case 'header': return `${effective} (${header} minus ${offset}; ${job})`
    case 'whole header': return `${effective} (${header}, whole: ${offset} would leave nothing of it; ${job})`
    case 'job':
      if (t.header === undefined || t.header.trim() === '' || Number(t.header) === 0) return `${effective} (${job}; the caller sent no X-Prometheus-Scrape-Timeout-Seconds)`
      return `${effective} (${job}; ${header} minus ${offset} is no lower)`
  }
}

function outcomeLines (record: ProbeRecord): string[] {
  const out: string[] = []
  const code = record.code ?? 'success'
  if (code === 'success') {
    out.push(`Outcome: success (a probe without debug answers 200 with the body${record.debug ? '; this one relayed nothing' : ''})`)
  } else if (code === 'canceled') {
    out.push('Outcome: canceled (the caller went away)')
  } else {
    const status = record.cut ? 'cuts the connection after its 200 began' : `answers ${record.httpStatus ?? 502}`
    out.push(`Outcome: ${code} (a probe without debug ${status})`)
    if (record.reason !== undefined) out.push(`Reason: ${oneLine(record.reason)}`)
  }
  if (record.failedIn !== undefined) out.push(`Failed in: ${phaseWords(record.failedIn, record)}`)
  return out
}

function requestLines (record: ProbeRecord, sent: SentRequest, i: number, total: number): string[] {
  const which = total > 1 ? ` ${i + 1} of ${total} (sent at ${ms(sent.at - record.start)})` : ''
  const out = [`Request${which}: ${sent.method} ${clean(sent.url)}`]
  for (const [name, value] of sent.headerLines()) out.push(`  ${name}: ${clean(value)}`)
  const r = sent.redirect
  if (r !== undefined) {
    const answered = `  Answer: ${statusWords(r.status, undefined)}, Location: ${clean(r.location)}`
    if (r.refused !== undefined) {
      out.push(answered, `  Redirect: not followed: ${oneLine(r.refused)}`)
    } else {
      const credentials = r.crossHost ? 'another host or port: no credentials from here on' : 'the same host and port: credentials kept'
      out.push(answered, `  Redirect: followed to ${clean(r.next ?? '')} (allowed by the job's target policy; ${credentials})`)
    }
  }
  return out
}

function proxyLines (record: ProbeRecord): string[] {
  const p = record.proxy
  if (p === undefined) return ['Proxy: none']
  if (p.route === 'direct') {
    return [p.url === undefined
      ? 'Proxy: none for this scheme (the environment names no proxy for it): direct'
      : `Proxy: not used: no_proxy (or loopback) sends this target direct, past ${p.url}`]
  }
  const how = p.route === 'forward' ? 'forwarded (an absolute-URI request to the proxy)' : 'through a CONNECT tunnel'
  const out = [`Proxy: ${p.url ?? ''}, ${how}`]
  if (p.authorization) out.push(`  Proxy-Authorization: Basic ${SECRET_PLACEHOLDER}`)
  for (const name of p.connectHeaders) out.push(`  ${canonicalHeaderKey(name)}: ${SECRET_PLACEHOLDER} (proxy_connect_header, on CONNECT)`)
  return out
}

function connectionLines (record: ProbeRecord, c: ConnectionFacts | undefined): string[] {
  if (c === undefined) return ['Connection: none was made']
  const out = ['Connection:']
  if (c.proxy !== undefined) out.push(`  To the proxy: ${c.proxy}`)
  if (c.tunnel !== undefined) out.push(`  Through the CONNECT tunnel of proxy ${c.tunnel} (the proxy resolved the name)`)
  if (c.name !== undefined) {
    const resolved = c.resolved === undefined ? 'no answer' : c.resolved.join(', ')
    out.push(`  Resolved: ${c.name} to ${resolved}`)
    if (c.usable !== undefined) {
      const refused = (c.resolved ?? []).filter((a) => !(c.usable ?? []).includes(a))
      out.push(`  Allowed by the target policy: ${c.usable.join(', ')}${refused.length > 0 ? ` (refused: ${refused.join(', ')})` : ''}`)
    } else if (c.resolved !== undefined) {
      out.push('  Allowed by the target policy: none of them')
    }
  } else if (c.proxy === undefined && c.tunnel === undefined) {
    out.push('  Resolved: nothing to resolve (an IP address)')
  }
  if (c.tried.length > 1) out.push(`  Tried: ${c.tried.join(', ')}`)
  const last = c.tried.at(-1)
  if (last !== undefined) out.push(`  ${c.readyAt !== undefined ? 'Connected to' : 'Dialled'}: ${last}`)
  out.push(`  Reused: ${record.reused ? `yes, a keep-alive connection opened ${ms(record.start - (c.readyAt ?? record.start))} before this probe` : 'no'}`)
  return out
}

function certificateLines (cert: CertSummary, i: number, now: Date): string[] {
  const left = Math.floor((cert.validTo.getTime() - now.getTime()) / DAY_MS)
  const days = cert.validTo.getTime() < now.getTime()
    ? `expired ${Math.ceil((now.getTime() - cert.validTo.getTime()) / DAY_MS)} days ago`
    : `${left} days left`
  const notYet = cert.validFrom.getTime() > now.getTime() ? ' (not yet valid)' : ''
  return [
    `    [${i}] Subject: ${cert.subject.split('\n').join(', ')}`,
    `        Issuer: ${cert.issuer.split('\n').join(', ')}`,
    `        SANs: ${cert.altNames ?? 'none'}`,
    `        Not before: ${iso(cert.validFrom)}${notYet}`,
    `        Not after: ${iso(cert.validTo)} (${days})`,
  ]
}

function tlsLines (c: ConnectionFacts | undefined, now: Date): string[] {
  const t = c?.tls
  if (t === undefined) return []
  const finished = t.protocol !== undefined
  // A refused or timed-out connect on an https job: no handshake began, so there is nothing to show.
  if (!finished && c?.tcpAt === undefined && t.peer === undefined) return ['TLS: not started (no TCP connection)']
  const out = ['TLS:']
  out.push(`  Version: ${t.protocol ?? 'none (the handshake did not finish)'}`)
  if (finished) {
    out.push(`  Cipher: ${t.cipher ?? 'unknown'}`)
    out.push(`  ALPN: ${t.alpn ?? 'none (HTTP/1.1)'}`)
  }
  out.push(`  Server name sent (SNI): ${t.serverName ?? `none (${t.checkedName} is an IP address)`}`)
  out.push(`  Certificate checked against: ${t.checkedName} (from ${t.checkedFrom})`)
  const chain = chainOf(t.peer)
  if (chain.length === 0) {
    out.push('  Certificate chain: none seen')
  } else {
    out.push(finished ? '  Certificate chain (leaf first):' : '  Certificate chain the target presented (leaf first), seen before the handshake failed:')
    chain.forEach((cert, i) => { out.push(...certificateLines(cert, i, now)) })
  }
  return out
}

function timingLines (record: ProbeRecord, c: ConnectionFacts | undefined): string[] {
  const out = ['Timings (from the start of the probe):']
  if (record.token !== undefined) {
    const t = record.token
    out.push(`  oauth2 token: ${t.readyAt !== undefined ? ms(t.readyAt - t.startedAt) : 'not ready'}`)
  }
  if (c === undefined) {
    out.push('  Resolve, connect, TLS: no connection')
  } else if (record.reused) {
    out.push('  Resolve, connect, TLS: connection reused (none of them happened in this probe)')
  } else {
    const resolve = c.resolveStart === undefined
      ? c.proxy !== undefined || c.tunnel !== undefined ? 'none (the proxy resolves the name)' : 'none (an IP address)'
      : c.resolveEnd === undefined ? 'did not finish' : ms(c.resolveEnd - c.resolveStart)
    out.push(`  Resolve: ${resolve}`)
    const tcp = c.tls !== undefined ? c.tcpAt : c.readyAt
    out.push(`  Connect: ${c.connectStart === undefined ? 'not started' : tcp === undefined ? 'did not finish' : ms(tcp - c.connectStart)}`)
    if (c.tls !== undefined) {
      out.push(`  TLS handshake: ${c.tcpAt === undefined ? 'not started' : c.readyAt === undefined ? 'did not finish' : ms(c.readyAt - c.tcpAt)}`)
    }
  }
  out.push(`  First byte (response head): ${record.headAt === undefined ? 'none' : ms(record.headAt - record.start)}`)
  out.push(`  Total: ${record.endAt === undefined ? 'not over' : ms(record.endAt - record.start)}`)
  return out
}

function responseHeaderLines (headers: IncomingHttpHeaders | undefined): string[] {
  const out: string[] = []
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue
    const shown = canonicalHeaderKey(name)
    for (const v of Array.isArray(value) ? value : [value]) {
      out.push(`  ${shown}: ${SECRET_RESPONSE_HEADERS.has(name.toLowerCase()) ? SECRET_PLACEHOLDER : clean(v)}`)
    }
  }
  return out
}

function bodyLines (record: ProbeRecord): string[] {
  if (record.status === undefined) return []
  const encoding = record.responseHeaders?.['content-encoding']
  const wire = `${record.wireBytes}${encoding !== undefined ? ` (Content-Encoding: ${clean(String(encoding))})` : ''}`
  const decoded = record.decodedBytes === undefined ? 'not counted (gzip passed through as it came)' : String(record.decodedBytes)
  const relayed = record.debug ? 'none (debug)' : String(record.relayedBytes)
  return ['Body:', `  Bytes on the wire: ${wire}`, `  Bytes decoded: ${decoded}`, `  Bytes relayed: ${relayed}`]
}

/** The debug report of a finished probe. `now` dates the certificates' days left. */
export function renderReport (record: ProbeRecord, now: Date = new Date()): string {
  const c = record.connection
  const last = record.requests.at(-1)
  const sections: string[][] = [
    [
      `scrape-gateway debug report: job ${JSON.stringify(record.job)}, target ${JSON.stringify(clean(record.target))}`,
      ...outcomeLines(record),
    ],
    [
      `Started: ${iso(new Date(record.time))}`,
      `URL: ${clean(record.url)}${last !== undefined && last.url !== record.url ? ` (last request: ${clean(last.url)})` : ''}`,
      `Timeout: ${timeoutWords(record)}`,
      `Target policy: ${JSON.stringify(clean(record.target))} is allowed for job ${JSON.stringify(record.job)}; dialled as ${record.dial}` +
        `${c?.usable !== undefined ? ', at an address the policy checked' : ''}`,
    ],
    ...(record.token !== undefined ? [[`Auth: oauth2, token from ${record.token.url}`]] : []),
    ...(record.requests.length === 0
      ? [['Request: none was sent']]
      : record.requests.map((sent, i) => requestLines(record, sent, i, record.requests.length))),
    proxyLines(record),
    connectionLines(record, c),
    tlsLines(c, now),
    timingLines(record, c),
    record.status === undefined
      ? ['Response: none']
      : [`Response: ${statusWords(record.status, record.statusText)}`, ...responseHeaderLines(record.responseHeaders)],
    bodyLines(record),
  ]
  const text = sections.filter((s) => s.length > 0).map((s) => s.join('\n')).join('\n\n') + '\n'
  const masked = record.requests.flatMap((sent) => sent.maskedValues())
  return masked.length === 0 ? text : hideSecrets(text, masked)
}
