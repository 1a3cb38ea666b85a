// How the gateway's log lines look and where they go.
//
// Shape: as Prometheus 3 and its exporters log through prometheus/common's
// promslog, whose default style is log/slog's own (its TextHandler for
// `--log.format=logfmt`, the default, its JSONHandler for `json`): keys
// `time`, `level`, `msg`, in that order in logfmt; levels as upper-case words
// (`INFO`, `WARN`, `ERROR`, `DEBUG`); time as RFC 3339 with milliseconds
// (slog's text layout; always UTC here, `2026-01-02T15:04:05.123Z`). In
// logfmt a value is quoted, with JSON's string escapes, when slog would quote
// it (empty, or holding a space, `"`, `=` or a character that is not
// printable), and a nested object is flattened into dotted keys
// (`err.message=…`), as slog writes a group. promslog's `source` (file:line)
// is left out: pino would have to capture a stack per line for it.
// Both formats carry the same fields: pino builds every record as JSON (its
// redaction, serializers and child bindings included), and the logfmt
// destination re-encodes that line (its cost, measured: README "Metrics", logs).
//
// Destination: stdout, in batches. The gateway logs one line per probe;
// written one by one, each is a write(2) of its own, which costs more than
// the line itself. sonic-boom's asynchronous mode is no cure on 2 cores: its
// writes go through the thread pool. So info lines are written synchronously
// once 4 KiB has gathered, and at least every 250 ms; a warning or an error
// goes out at once, with what came before it; whatever is left goes at close
// or exit.
import pino, { type LoggerOptions } from 'pino'

export const LOG_FORMATS = ['logfmt', 'json'] as const
export type LogFormat = typeof LOG_FORMATS[number]

const BATCH_BYTES = 4096
const FLUSH_MS = 250
/** pino's level number for warn: from here on, a line is written at once. */
const URGENT_LEVEL = 40

/** The second `isoTime` last formatted, and its text up to the seconds. */
let second = Number.NaN
let secondText = ''

/**
 * pino's `timestamp`: `,"time":"2026-01-02T15:04:05.123Z"`. Date's
 * toISOString on every line (pino.stdTimeFunctions.isoTime) made a JSON line
 * a quarter dearer, measured; the text up to the second is made once a second.
 */
function isoTime (): string {
  const now = Date.now()
  const s = Math.floor(now / 1000)
  if (s !== second) {
    second = s
    secondText = new Date(s * 1000).toISOString().slice(0, 19)
  }
  const ms = now - s * 1000
  return `,"time":"${secondText}.${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z"`
}

/**
 * The pino options that shape a record the promslog way (the rest, level,
 * redaction and stream, are the caller's). No pid or hostname: promslog
 * writes neither.
 */
export const RECORD_OPTIONS = {
  base: undefined,
  messageKey: 'msg',
  timestamp: isoTime,
  formatters: { level: (label: string) => ({ level: label.toUpperCase() }) },
} satisfies LoggerOptions

// Secrets never reach the log, whatever a log call is handed.
const REDACT = [
  'req.headers.authorization', 'req.headers.cookie', 'req.headers["proxy-authorization"]',
  'headers.authorization', 'headers.cookie', 'headers["proxy-authorization"]',
]

/** The gateway's pino options: the promslog record, redaction, and the batching destination; false without one (tests). */
export function loggerOptions (level: string | false, destination: LogDestination | undefined): LoggerOptions & { stream: Destination } | false {
  if (level === false || destination === undefined) return false
  return { ...RECORD_OPTIONS, level, redact: { paths: REDACT, censor: '<secret>' }, stream: destination.stream }
}

/** pino sets `lastLevel` on a destination that asks for it (pino.metadata) before each write. */
interface Destination {
  readonly [key: symbol]: boolean
  lastLevel: number
  write (line: string): void
}

export interface LogDestination {
  readonly stream: Destination
  /** Writes what is buffered and stops the timer (the app's close). */
  close (): void
}

export function logDestination (fd = 1, format: LogFormat = 'logfmt'): LogDestination {
  const boom = pino.destination({ dest: fd, sync: true, minLength: BATCH_BYTES })
  const flush = (): void => {
    try {
      boom.flushSync()
    } catch {
      // Not ready yet, or stdout is gone: nothing to do about it here.
    }
  }
  const encode = format === 'logfmt' ? logfmtLine : (line: string) => line
  const stream: Destination = {
    [Symbol.for('pino.metadata')]: true,
    lastLevel: 0,
    write (line: string): void {
      boom.write(encode(line))
      if (this.lastLevel >= URGENT_LEVEL) flush()
    },
  }
  const timer = setInterval(flush, FLUSH_MS)
  timer.unref()
  process.on('exit', flush)
  return {
    stream,
    close () {
      clearInterval(timer)
      process.removeListener('exit', flush)
      flush()
    },
  }
}

/**
 * One of pino's JSON lines as a logfmt line: `time=… level=INFO msg=probe job=…`.
 * It walks pino's text rather than JSON.parse-ing it and writing the object
 * out again (cheaper, measured: README "Metrics", logs): a string value is
 * copied bare when nothing in it needs quoting, or else kept as its JSON
 * literal, whose quotes and escapes are logfmt's too (`"a\nb"`; so a
 * backslash, which slog leaves bare, is quoted here); only a nested object or
 * an array is parsed. A line the walk cannot read (not a JSON object) passes
 * as it came.
 */
export function logfmtLine (json: string): string {
  try {
    return walk(json)
  } catch {
    return json
  }
}

function walk (json: string): string {
  const end = json.lastIndexOf('}')
  if (json.charCodeAt(0) !== OPEN_BRACE || end === -1 || json.slice(end + 1).trim() !== '') throw new SyntaxError('not a JSON object')
  let time = ''
  let level = ''
  let msg = ''
  let rest = ''
  let i = 1
  while (i < end) {
    if (json.charCodeAt(i) !== QUOTE) throw new SyntaxError('a key must be a string')
    const keyEnd = stringEnd(json, i)
    const plainKey = bare(json, i + 1, keyEnd)
    const name = plainKey ? json.slice(i + 1, keyEnd) : JSON.parse(json.slice(i, keyEnd + 1)) as string
    const key = plainKey ? name : quoted(name)
    i = keyEnd + 2 // past `":`
    let field: string
    const c = json.charCodeAt(i)
    if (c === QUOTE) {
      const valueEnd = stringEnd(json, i)
      field = `${key}=${bare(json, i + 1, valueEnd) ? json.slice(i + 1, valueEnd) : json.slice(i, valueEnd + 1)}`
      i = valueEnd + 1
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      const valueEnd = compositeEnd(json, i)
      field = flattened('', name, JSON.parse(json.slice(i, valueEnd)))
      i = valueEnd
    } else {
      let valueEnd = json.indexOf(',', i)
      if (valueEnd === -1 || valueEnd > end) valueEnd = end
      field = `${key}=${json.slice(i, valueEnd)}`
      i = valueEnd
    }
    if (i !== end && json.charCodeAt(i) !== COMMA) throw new SyntaxError('a value must end at a comma or the last brace')
    i++
    if (key === 'time') time = field
    else if (key === 'level') level = field
    else if (key === 'msg') msg = field
    else if (field !== '') rest += ` ${field}`
  }
  // slog's order: time, level, msg, then the record's own keys as pino wrote them.
  return `${spaced(spaced(spaced(time, level), msg), rest.slice(1))}\n`
}

function spaced (a: string, b: string): string {
  return a === '' ? b : b === '' ? a : `${a} ${b}`
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const EQUALS = 0x3d
const COMMA = 0x2c
const OPEN_BRACE = 0x7b
const OPEN_BRACKET = 0x5b
const CLOSE_BRACE = 0x7d
const CLOSE_BRACKET = 0x5d

/** The index of the quote that closes the JSON string opening at `start`. */
function stringEnd (json: string, start: number): number {
  for (let q = json.indexOf('"', start + 1); q !== -1; q = json.indexOf('"', q + 1)) {
    let b = q - 1
    while (json.charCodeAt(b) === BACKSLASH) b--
    if ((q - 1 - b) % 2 === 0) return q // an even run of backslashes escapes each other, not the quote
  }
  throw new SyntaxError('unterminated string')
}

/** The index just past the object or array opening at `start`. */
function compositeEnd (json: string, start: number): number {
  let depth = 0
  for (let i = start; i < json.length; i++) {
    const c = json.charCodeAt(i)
    if (c === QUOTE) i = stringEnd(json, i)
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++
    else if ((c === CLOSE_BRACE || c === CLOSE_BRACKET) && --depth === 0) return i + 1
  }
  throw new SyntaxError('unterminated object')
}

/** A nested object as a group, its keys written with the group's name before them (`err.message=…`); an array as its JSON. */
function flattened (out: string, key: string, value: unknown): string {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const inner in value) out = flattened(out, `${key}.${inner}`, (value as Record<string, unknown>)[inner])
    return out
  }
  const text = typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value)
  return `${out === '' ? '' : `${out} `}${quoted(key)}=${quoted(text)}`
}

/**
 * slog's needsQuoting: empty, or a space (any Unicode white space), `"`, `=`,
 * or a character that is not printable (a control, format, private-use or
 * unassigned one, a lone surrogate). A backslash alone is left as it is.
 */
const NEEDS_QUOTES = /[\s"=\p{C}\p{Z}]/u

function quoted (s: string): string {
  return s === '' || NEEDS_QUOTES.test(s) ? JSON.stringify(s) : s
}

/**
 * Whether the JSON string text json[from, to) can be written bare: not empty,
 * no escape in it, and nothing slog would quote. Printable ASCII is checked
 * by code (the common case, and cheaper than a regular expression on a slice).
 */
function bare (json: string, from: number, to: number): boolean {
  if (from === to) return false
  for (let i = from; i < to; i++) {
    const c = json.charCodeAt(i)
    if (c > 0x7e) return !json.slice(from, to).includes('\\') && !NEEDS_QUOTES.test(json.slice(from, to))
    if (c <= 0x20 || c === QUOTE || c === EQUALS || c === BACKSLASH) return false
  }
  return true
}
