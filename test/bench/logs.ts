// What the gateway peer logged at --log.level=warn, counted for the report's
// notes: one file per gateway process (with --gateway-processes, the
// launcher's own lines too). Reads both of the gateway's formats, JSON and
// logfmt, with pino's numeric levels or promslog's words; any other line is
// counted as it is.
import { existsSync, readFileSync } from 'node:fs'

/** The fields a note names: level, message, the probe's result and error. */
interface Fields { level: string, msg: string, result: string | undefined, err: string | undefined }

const LEVELS: Readonly<Record<string, string>> = { 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' }

function levelName (level: unknown): string {
  if (typeof level === 'number') return LEVELS[level] ?? `level ${level}`
  return typeof level === 'string' ? level.toLowerCase() : 'level ?'
}

/** `key=bare key="json \"string\""`: the pairs of a logfmt line, or undefined when it is not one. */
export function parseLogfmt (line: string): Map<string, string> | undefined {
  const text = line.trim()
  const pairs = new Map<string, string>()
  const pair = /\s*([^\s="]+|"(?:[^"\\]|\\.)*")=("(?:[^"\\]|\\.)*"|[^\s"]*)/y
  let m: RegExpExecArray | null
  while ((m = pair.exec(text)) !== null) {
    const unquote = (s: string): string => (s.startsWith('"') ? JSON.parse(s) as string : s)
    pairs.set(unquote(m[1]!), unquote(m[2]!))
    if (pair.lastIndex === text.length) return pairs
  }
  return undefined
}

function fieldsOf (line: string): Fields | undefined {
  if (line.startsWith('{')) {
    try {
      const j = JSON.parse(line) as { level?: unknown, msg?: string, result?: string, err?: unknown }
      const err = typeof j.err === 'object' && j.err !== null ? (j.err as { message?: string }).message : j.err
      return { level: levelName(j.level), msg: j.msg ?? '', result: j.result, err: err === undefined ? undefined : String(err) }
    } catch {
      return undefined
    }
  }
  const pairs = parseLogfmt(line)
  if (pairs === undefined || !pairs.has('level')) return undefined
  return { level: levelName(pairs.get('level')), msg: pairs.get('msg') ?? '', result: pairs.get('result'), err: pairs.get('err') ?? pairs.get('err.message') }
}

/** The note's key of one line: `warn "probe failed" result=canceled`, with the error unless the probe was canceled. */
export function logKey (line: string): string {
  const f = fieldsOf(line)
  if (f === undefined) return `\`${line.slice(0, 160)}\``
  return `${f.level} "${f.msg}"${f.result !== undefined ? ` result=${f.result}` : ''}` +
    (f.result === 'canceled' || f.err === undefined ? '' : ` (${f.err.slice(0, 120)})`)
}

/** Counts of the lines of `texts` by level, message and result ('probe failed' result=canceled ...), the 8 most frequent. */
export function countLogLines (texts: readonly string[]): string[] {
  const counts = new Map<string, number>()
  for (const text of texts) {
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue
      const key = logKey(line)
      counts.set(key, (counts.get(key) ?? 0) + 1)
    }
  }
  return [...counts].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([key, n]) =>
    `${n}× ${key}${key.includes('result=canceled') ? ' — wrk closes its connections mid-response when each period ends' : ''}`)
}

/** The counts over the log files that exist (a process that never started has none). */
export function summarizeLogs (files: readonly string[]): string[] {
  return countLogLines(files.filter((f) => existsSync(f)).map((f) => readFileSync(f, 'utf8')))
}
