// The status page's memory (README "Status page"): the last probes, newest
// first, each under an id that /reports/ID renders its debug report from.
//
// Records, rendered on demand, not reports rendered at each probe: rendering
// a report (certificates parsed, the secrets pass) costs more than the
// cheapest probe's whole CPU, and nearly none is ever read. The record is
// made anyway: keeping it costs a reference and an estimate of its size
// (figures: README "Status page").
//
// Bounded twice: at most `count` probes, and at most `bytes` of what their
// records keep alive, estimated once when a probe is added (retainedBytes);
// the oldest go first. A record holds no body byte, but it holds by
// reference what the probe's request and response carried. What the target
// sent is counted as it is: its response headers, each redirect hop's
// Location, the error's reason, and the certificate chain its connection
// presented (OpenSSL takes up to 100 KiB of one; node's objects for a
// certificate take about 3 times its DER plus 2-3 KiB). The request's headers
// are the job's own values, strings shared with the job's client rather than
// copies (credentials among them: they leave a record only through the
// report's masked views), and the caller's Accept, which node caps with the
// rest of the caller's headers at 16 KiB: they are a fixed allowance per
// request, since their size can only be read through the masking, which
// costs four times the rest of the estimate. Without the byte bound, 100
// probes of targets that send all they may could keep tens of megabytes
// alive. A record whose estimate alone passes the bound is not kept. The
// estimate errs high (a connection's certificates count once per probe that
// used it).
import { randomBytes } from 'node:crypto'
import type { DetailedPeerCertificate } from 'node:tls'
import type { ConnectionFacts } from './client/connection-facts.js'
import type { ProbeRecord, ProbeSummary } from './client/record.js'
import { renderReport } from './report/text.js'

export interface RecentProbesLimits {
  /** Probes kept at most. */
  readonly count: number
  /** Estimated bytes the kept records hold at most. */
  readonly bytes: number
}

export const RECENT_PROBES_LIMITS: RecentProbesLimits = { count: 100, bytes: 4 * 1024 * 1024 }

/** One kept probe, as the status page lists it. */
export interface RecentProbe {
  /** What /reports/ID takes: unique for the life of the process. */
  readonly id: string
  readonly summary: ProbeSummary
  /** The failure's one line (the coded error's message); undefined for a success or a cancellation. */
  readonly reason: string | undefined
  /** A debug=true probe: its caller got the report, and the body was not relayed. */
  readonly debug: boolean
  /** What its record keeps alive, estimated. */
  readonly bytes: number
}

interface Entry extends RecentProbe {
  readonly seq: number
  readonly record: ProbeRecord
}

// What the estimate counts, in bytes (from node 20's heap figures, rounded
// up): a string beyond its characters, a record with its fixed objects
// (facts, timeout, summary), a sent request with its headers object, and a
// certificate beyond its DER.
const STRING = 32
/** A header's slot in its object, beyond its name and value. */
const HEADER = 32
const RECORD = 2048
const REQUEST = 512
const CERTIFICATE = 3072
const CERTIFICATE_PER_DER_BYTE = 3

function text (s: string | undefined): number {
  return s === undefined ? 0 : STRING + s.length
}

function headerBytes (headers: Readonly<Record<string, string | string[] | undefined>> | undefined): number {
  let n = 0
  for (const name in headers) {
    const value = headers[name]
    n += HEADER + text(name)
    if (Array.isArray(value)) for (const v of value) n += text(v)
    else n += text(value)
  }
  return n
}

/** A chain's certificates, each once (a root is its own issuer). */
function chainBytes (peer: DetailedPeerCertificate | undefined, seen: Set<object>): number {
  let n = 0
  for (let c = peer; c !== undefined && !seen.has(c); c = c.issuerCertificate) {
    seen.add(c)
    n += CERTIFICATE + CERTIFICATE_PER_DER_BYTE * (c.raw?.length ?? 0) + text(c.subjectaltname)
  }
  return n
}

function connectionBytes (c: ConnectionFacts | undefined, seen: Set<object>): number {
  if (c === undefined || seen.has(c)) return 0
  seen.add(c)
  let n = STRING * (c.tried.length + (c.resolved?.length ?? 0) + (c.usable?.length ?? 0)) + text(c.name)
  if (c.tls !== undefined) n += chainBytes(c.tls.peer, seen)
  return n
}

/** What a finished record keeps alive, estimated (see the header comment). */
export function retainedBytes (record: ProbeRecord): number {
  let n = RECORD + text(record.job) + text(record.target) + text(record.dial) + text(record.url) +
    text(record.reason) + text(record.statusText) + headerBytes(record.responseHeaders) +
    text(record.proxy?.url) + text(record.token?.url)
  for (const sent of record.requests) {
    n += REQUEST + text(sent.origin) + text(sent.path)
    const r = sent.redirect
    if (r !== undefined) n += text(r.location) + text(r.next) + text(r.refused)
  }
  const seen = new Set<object>()
  return n + connectionBytes(record.connection, seen) + connectionBytes(record.attempt, seen)
}

/** The last finished probes, bounded in count and in the bytes their records hold. */
export class RecentProbes {
  /** Oldest first; ids are consecutive, so an id's place is its distance from the first. */
  readonly #entries: Entry[] = []
  #bytes = 0
  #next = 1
  /** Tells one process's ids from another's: a link from before a restart finds nothing rather than another probe. */
  readonly #prefix = randomBytes(3).toString('hex')

  constructor (readonly limits: RecentProbesLimits = RECENT_PROBES_LIMITS) {}

  /** Keeps a finished probe's record; returns the entry, or undefined when the record is not finished or too large to keep. */
  add (record: ProbeRecord): RecentProbe | undefined {
    const summary = record.summary
    if (summary === undefined) return undefined
    const bytes = retainedBytes(record)
    if (bytes > this.limits.bytes) return undefined
    const seq = this.#next++
    const entry: Entry = {
      id: `${this.#prefix}-${seq}`,
      seq,
      summary,
      reason: summary.code === 'success' || summary.code === 'canceled' ? undefined : record.reason,
      debug: record.debug,
      bytes,
      record,
    }
    this.#entries.push(entry)
    this.#bytes += bytes
    while (this.#entries.length > this.limits.count || this.#bytes > this.limits.bytes) {
      const oldest = this.#entries.shift() as Entry
      this.#bytes -= oldest.bytes
    }
    return entry
  }

  /** Newest first. */
  list (): RecentProbe[] {
    const out: RecentProbe[] = []
    for (let i = this.#entries.length - 1; i >= 0; i--) {
      const { id, summary, reason, debug, bytes } = this.#entries[i] as Entry
      out.push({ id, summary, reason, debug, bytes })
    }
    return out
  }

  get size (): number {
    return this.#entries.length
  }

  /** The estimated bytes the kept records hold. */
  get bytes (): number {
    return this.#bytes
  }

  /**
   * The debug report of a kept probe, dated at its start (a certificate's days
   * left as the probe saw them); undefined when the id is not kept (evicted,
   * another process's, or not an id).
   */
  report (id: string): string | undefined {
    const m = /^([0-9a-f]+)-([1-9][0-9]{0,15})$/.exec(id)
    if (m === null || m[1] !== this.#prefix) return undefined
    const first = this.#entries[0]
    if (first === undefined) return undefined
    const entry = this.#entries[Number(m[2]) - first.seq]
    return entry === undefined ? undefined : renderReport(entry.record, new Date(entry.summary.time))
  }
}
