// Skips a `100 Continue` before a target's final response, as Go's client
// does (RFC 9110 15.2: a client parses 1xx responses it did not expect).
// undici 7 never sends `Expect: 100-continue` and destroys the connection on
// any 100 it reads ('bad response', client-h1.js onHeadersComplete); 103 and
// the other interim statuses it reads and skips itself.
//
// Where: on the connection, below undici's HTTP/1 parser. That parser pulls
// (a 'readable' listener, then socket.read() until null, in Parser.readMore
// and Parser.resume), so the socket's own `read` is replaced on that one
// instance: no stream in between, and the socket stays the one the
// connectors bound their facts to (connection-facts.ts). HTTP/2 sessions read
// their socket natively and have no such refusal: a connection on which ALPN
// chose h2 is left alone.
//
// When: only at the start of a response. undici publishes
// `undici:client:sendHeaders` with the socket as each request goes out, and
// with one request in flight per connection (undici's pipelining 1, which no
// dispatcher here changes) the first bytes read after it are the response's.
// A response that does not start with an interim head is handed over at
// once, in the same read, and nothing more is looked at until the next
// request: the cost is one call per read() and per request.
//
// What: a well-formed `HTTP/1.x 1xx` head (status line, then `name: value`
// lines, each ending in CRLF, then an empty line), 101 excepted, is stepped
// over: a 100 is dropped, any other (103 Early Hints) is passed on for undici
// to skip, and the filter looks again after it. A head split across reads is
// held (read() returns null; the stream's next 'readable' comes with the next
// bytes) until it is complete. What is not such a head (`HTTP/1.1 1000`, a
// bare LF, a 101, a final status), and anything past the first
// INTERIM_LOOKAHEAD bytes of a response, is handed over unchanged: undici
// judges it as it would without the filter (a 100 among it is its 'bad
// response', 502 SG_UPSTREAM_PROTOCOL).
import diagnostics from 'node:diagnostics_channel'
import type { Socket } from 'node:net'
import type { Connector } from './feature.js'
import { reply } from './pinned-connect.js'

/**
 * The most bytes of interim heads a response may start with: undici's limit
 * for one head (its maxHeaderSize, Node's 16 KiB, which no client here
 * raises) for all of them together, as Go (from 1.24) bounds the sum of a
 * response's 1xx heads by its response header limit.
 */
export const INTERIM_LOOKAHEAD = 16 * 1024

/** statusAt: the bytes are not (or cannot become) an interim head's status line. */
const FINAL = -1
/** statusAt: too few bytes yet to tell. */
const MORE = 0

/** `HTTP/1.` then `0` or `1`, ` `, `1`, two digits, then ` ` or CR: the 13 bytes that make an interim status line. */
const STATUS_LINE_START = 13
const PREFIX = Buffer.from('HTTP/1.', 'latin1')
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1')

/**
 * An interim head the filter steps over: field names are tokens and reason
 * and field values visible characters, space, tab or obs-text (RFC 9110),
 * every line ends in CRLF; anything looser goes to undici as it came.
 * Tested only on a head that starts with an interim status line and ends at
 * its first empty line, so the delimiters keep it linear.
 */
const WELL_FORMED_HEAD = /^HTTP\/1\.[01] 1\d\d(?: [\t\x20-\x7e\x80-\xff]*)?\r\n(?:[!#$%&'*+.^_`|~0-9A-Za-z-]+:[\t\x20-\x7e\x80-\xff]*\r\n)*\r\n$/

/** Whether byte `c` may stand at offset `i` of an interim status line. */
function fits (i: number, c: number): boolean {
  switch (i) {
    case 7: return c === 0x30 || c === 0x31 // HTTP/1.0, HTTP/1.1
    case 8: return c === 0x20
    case 9: return c === 0x31
    case 10: case 11: return c >= 0x30 && c <= 0x39
    case 12: return c === 0x20 || c === 0x0d // a reason phrase, or none
    default: return c === PREFIX[i]
  }
}

/** The interim status (100..199, 101 excepted) whose status line starts at `pos`, FINAL, or MORE. */
function statusAt (buf: Buffer, pos: number): number {
  const n = buf.length - pos
  for (let i = 0; i < STATUS_LINE_START; i++) {
    if (i >= n) return MORE
    if (!fits(i, buf[pos + i] as number)) return FINAL
  }
  const code = 100 + ((buf[pos + 10] as number) - 0x30) * 10 + ((buf[pos + 11] as number) - 0x30)
  // 101 Switching Protocols ends the HTTP exchange: undici's to judge.
  return code === 101 ? FINAL : code
}

type Read = (size?: number) => unknown

/** One connection's filter: where its current response stands. */
class InterimFilter {
  /** A request went out and its response's first bytes are still being looked at. */
  #looking = false
  /** Bytes of interim heads this response has had so far (bounded by INTERIM_LOOKAHEAD). */
  #seen = 0
  /** The start of an interim head that has not ended yet, taken from the socket and not handed over. */
  #held: Buffer | undefined = undefined

  constructor (private readonly socket: Socket, private readonly read: Read) {}

  /** A request went out on the connection: the next bytes start its response. */
  responseStarts (): void {
    this.#looking = true
    this.#seen = 0
  }

  /** The socket's read(size), filtered. */
  filtered (size: number | undefined): unknown {
    // undici's parser reads everything buffered, with no size; the stream's
    // own read(0) (which only starts reading) and any sized read pass as they are.
    if (!this.#looking || size !== undefined) return this.read.call(this.socket, size)
    for (;;) {
      const chunk = this.read.call(this.socket) as Buffer | null
      if (chunk === null) return null
      const held = this.#held
      this.#held = undefined
      const out = this.#scan(held === undefined ? chunk : Buffer.concat([held, chunk]))
      if (out !== null) return out
    }
  }

  /** What of `buf` (the response's next bytes) undici gets now; the start of an unfinished interim head is held. */
  #scan (buf: Buffer): Buffer | null {
    let pos = 0
    let kept: Buffer[] | undefined
    for (;;) {
      const status = statusAt(buf, pos)
      if (status === FINAL) return this.#handOver(buf, pos, kept)
      const end = status === MORE ? -1 : buf.indexOf(HEAD_END, pos)
      if (end === -1) {
        // Unfinished: held while it can still end within the lookahead.
        if (this.#seen + buf.length - pos >= INTERIM_LOOKAHEAD) return this.#handOver(buf, pos, kept)
        this.#held = Buffer.from(buf.subarray(pos))
        return kept === undefined ? null : Buffer.concat(kept)
      }
      const next = end + HEAD_END.length
      if (this.#seen + next - pos > INTERIM_LOOKAHEAD) return this.#handOver(buf, pos, kept)
      if (!WELL_FORMED_HEAD.test(buf.toString('latin1', pos, next))) return this.#handOver(buf, pos, kept)
      // A 100 is dropped; another interim head (103) goes on to undici, which skips it.
      if (status !== 100) (kept ??= []).push(buf.subarray(pos, next))
      this.#seen += next - pos
      pos = next
      if (pos === buf.length) return kept === undefined ? null : Buffer.concat(kept)
    }
  }

  /** Everything from `pos` goes to undici unchanged, after the interim heads kept; the filter rests until the next request. */
  #handOver (buf: Buffer, pos: number, kept: Buffer[] | undefined): Buffer {
    this.#looking = false
    const rest = pos === 0 ? buf : buf.subarray(pos)
    return kept === undefined ? rest : Buffer.concat([...kept, rest])
  }
}

const filters = new WeakMap<object, InterimFilter>()

diagnostics.subscribe('undici:client:sendHeaders', (message) => {
  const socket = (message as { socket?: object }).socket
  if (socket !== undefined) filters.get(socket)?.responseStarts()
})

/** Filters the HTTP/1.x responses undici reads from `socket` (once; an h2 connection is left alone). */
export function skipContinue<T extends Socket> (socket: T): T {
  if ((socket as { alpnProtocol?: unknown }).alpnProtocol === 'h2' || filters.has(socket)) return socket
  const filter = new InterimFilter(socket, socket.read)
  filters.set(socket, filter)
  socket.read = function read (size?: number) { return filter.filtered(size) }
  return socket
}

/** `connect`, with the interim filter on every connection it hands over. */
export function skippingContinue (connect: Connector): Connector {
  return (opts, callback) => {
    connect(opts, (err, socket) => {
      if (err === null && socket !== null) skipContinue(socket)
      reply(callback, err, socket)
    })
  }
}
