// The log: lines shaped as promslog writes them (logfmt by default, or json),
// parsed back by a logfmt reader written from the format, not from the
// encoder; and the destination's batching: info lines in batches, a warning
// at once (with what came before it), the rest at close. A real file stands
// in for stdout.
import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pino from 'pino'
import { logDestination, logfmtLine, RECORD_OPTIONS, type LogFormat } from '../src/log.js'
import { startGateway } from './helpers/gateway.js'
import { eventually } from './helpers/eventually.js'
import { metricsHandler, refusedPort, startHttpTarget } from './helpers/targets.js'

/**
 * One logfmt line as key → value: `key=value` pairs separated by spaces; a
 * key or value is bare (up to a space or `=`), or quoted with JSON's escapes.
 */
function parseLogfmt (line: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = []
  let i = 0
  const token = (stops: string): string => {
    if (line[i] === '"') {
      let end = i + 1
      while (line[end] !== '"') end += line[end] === '\\' ? 2 : 1
      const text = JSON.parse(line.slice(i, end + 1)) as string
      i = end + 1
      return text
    }
    const start = i
    while (i < line.length && !stops.includes(line[i] as string)) i++
    return line.slice(start, i)
  }
  while (i < line.length) {
    const key = token(' =')
    assert.equal(line[i], '=', `a key without =, at ${i} of ${line}`)
    i++
    const value = token(' ')
    pairs.push([key, value])
    assert.ok(i === line.length || line[i] === ' ', `junk after a value, at ${i} of ${line}`)
    i++
  }
  return pairs
}

/** A JSON record as logfmt has it: nested objects as dotted keys, every value a string (an array as its JSON). */
function flattened (record: Record<string, unknown>, prefix = ''): Array<[string, string]> {
  return Object.entries(record).flatMap(([key, value]): Array<[string, string]> => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return flattened(value as Record<string, unknown>, `${prefix}${key}.`)
    return [[`${prefix}${key}`, typeof value === 'string' ? value : JSON.stringify(value)]]
  })
}

function tmpFile (): string {
  return path.join(mkdtempSync(path.join(os.tmpdir(), 'sg-log-')), 'out.log')
}

function lines (file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l !== '')
}

/** Logs through a real pino shaped as the gateway's (redaction included) into `format`'s destination; returns the lines. */
function logged (format: LogFormat, write: (log: pino.Logger) => void): string[] {
  const file = tmpFile()
  const fd = openSync(file, 'w')
  const destination = logDestination(fd, format)
  const log = pino({ ...RECORD_OPTIONS, level: 'debug', redact: { paths: ['headers.authorization'], censor: '<secret>' } }, destination.stream)
  write(log)
  destination.close()
  closeSync(fd)
  return lines(file)
}

const TRICKY = [
  '', ' ', 'a b', 'say "hi"', 'k=v', '=', '"', 'line1\nline2', 'tab\there', 'cr\rlf', 'C:\\dir\\file', 'ends with \\', '\\"',
  'ünïcödé', 'emoji 🎉', 'nbsp\u00a0x', 'zero\u200bwidth', 'sep\u2028x', 'nul\u0000x', 'esc\u001b[0m', 'del\u007f',
  'a value longer than forty-two characters, "quoted", with = and \\ and\nnewline',
  '<secret>', 'plain-value_1.2:3/4',
]

describe('log lines', () => {
  test('logfmt and json carry the same fields, and logfmt values parse back to the same strings', () => {
    const fields: Record<string, unknown> = { n: 12, f: 1.5, t: true, no: false, nil: null, list: [1, 'two', { three: 3 }] }
    TRICKY.forEach((value, i) => { fields[`v${i}`] = value })
    const write = (log: pino.Logger): void => {
      log.child({ reqId: 'req-7' }).info({ ...fields, err: { type: 'Error', message: 'boom "x"', stack: 'Error: boom\n    at f (a.js:1:2)' } }, 'probe')
      // Odd keys too: one with a space, one with =, and one that needs escapes.
      log.warn({ 'a key': 1, 'k=': 2, 'q"\n': 3 }, 'odd keys')
    }
    const json = logged('json', write).map((l) => JSON.parse(l) as Record<string, unknown>)
    const logfmt = logged('logfmt', write).map(parseLogfmt)
    assert.equal(json.length, 2)
    assert.equal(logfmt.length, 2)
    for (let i = 0; i < 2; i++) {
      const fromJson = new Map(flattened(json[i] as Record<string, unknown>))
      const fromLogfmt = new Map(logfmt[i])
      // The time is read at each write; the rest is the same record.
      fromJson.delete('time')
      fromLogfmt.delete('time')
      assert.deepEqual(fromLogfmt, fromJson)
    }
    assert.equal(new Map(logfmt[0]).get('v3'), 'say "hi"')
    assert.equal(new Map(logfmt[0]).get('v7'), 'line1\nline2')
    assert.equal(new Map(logfmt[0]).get('err.stack'), 'Error: boom\n    at f (a.js:1:2)')
    assert.equal(new Map(logfmt[0]).get('list'), '[1,"two",{"three":3}]')
    assert.equal(new Map(logfmt[1]).get('q"\n'), '3')
  })

  test('promslog\'s keys and words: time (RFC 3339, UTC, milliseconds), level as a word, msg; in logfmt in that order', () => {
    const write = (log: pino.Logger): void => {
      log.debug('d')
      log.info({ job: 'j' }, 'i')
      log.warn('w')
      log.error('e')
    }
    const before = Date.now()
    const logfmt = logged('logfmt', write).map(parseLogfmt)
    const json = logged('json', write).map((l) => JSON.parse(l) as Record<string, unknown>)
    const after = Date.now()
    assert.deepEqual(logfmt.map((pairs) => pairs.slice(0, 3).map(([k]) => k)), Array(4).fill(['time', 'level', 'msg']))
    assert.deepEqual(logfmt.map((pairs) => new Map(pairs).get('level')), ['DEBUG', 'INFO', 'WARN', 'ERROR'])
    assert.deepEqual(json.map((r) => r.level), ['DEBUG', 'INFO', 'WARN', 'ERROR'])
    assert.deepEqual(json.map((r) => Object.keys(r).sort()), [['level', 'msg', 'time'], ['job', 'level', 'msg', 'time'], ['level', 'msg', 'time'], ['level', 'msg', 'time']],
      'no pid or hostname: promslog writes neither')
    const times = [...logfmt.map((pairs) => new Map(pairs).get('time')), ...json.map((r) => r.time)]
    for (const time of times) {
      assert.match(String(time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
      const ms = Date.parse(String(time))
      assert.ok(ms >= before - 1 && ms <= after, `${String(time)} is when it was written`)
    }
  })

  test('a line that is not a JSON object passes through logfmt as it came', () => {
    for (const line of ['not json\n', '{"unterminated":"x\n', '{"a":{"b":1}\n', '{"a":"b" "c"}\n', '']) assert.equal(logfmtLine(line), line)
    // A record without time, level or msg (not pino's shape) is still written field by field.
    assert.equal(logfmtLine('{"a":"x y","b":{"c":1}}\n'), 'a="x y" b.c=1\n')
    assert.equal(logfmtLine('{"msg":"m","a":1}\n'), 'msg=m a=1\n')
  })

  test('redaction applies in both formats', () => {
    for (const format of ['logfmt', 'json'] as const) {
      const [line] = logged(format, (log) => { log.info({ headers: { authorization: 'Bearer hunter2', accept: '*/*' } }, 'sent') })
      assert.ok(line !== undefined)
      assert.ok(!line.includes('hunter2'), line)
      const fields = new Map(format === 'json' ? flattened(JSON.parse(line) as Record<string, unknown>) : parseLogfmt(line))
      assert.equal(fields.get('headers.authorization'), '<secret>')
      assert.equal(fields.get('headers.accept'), '*/*')
    }
  })
})

describe('a real gateway\'s probe lines', () => {
  for (const format of ['logfmt', 'json'] as const) {
    test(`${format}: one line per probe with job, target, status, duration, bytes and result`, async (t) => {
      const body = 'up 1\n'
      const target = await startHttpTarget(metricsHandler(body))
      const down = `127.0.0.1:${await refusedPort()}`
      const file = tmpFile()
      const fd = openSync(file, 'w')
      const gw = await startGateway(`scrape_configs:
  - job_name: "kube state"
    static_configs: [{ targets: ['${target.host}', '${down}'] }]
`, { logLevel: 'info', logFormat: format, logFd: fd })
      t.after(async () => {
        await gw.close()
        await target.close()
        closeSync(fd)
      })
      assert.equal((await gw.probe('kube state', target.host)).status, 200)
      assert.equal((await gw.probe('kube state', down)).status, 502)
      const parse = (line: string): Map<string, string> =>
        new Map(format === 'json' ? flattened(JSON.parse(line) as Record<string, unknown>) : parseLogfmt(line))
      let probes: Array<Map<string, string>> = []
      await eventually(async () => {
        probes = lines(file).map(parse).filter((f) => f.get('job') === 'kube state')
        assert.equal(probes.length, 2)
      })
      const [ok, failed] = [probes.find((p) => p.get('msg') === 'probe'), probes.find((p) => p.get('msg') === 'probe failed')]
      assert.ok(ok !== undefined && failed !== undefined, JSON.stringify(probes.map((p) => [...p])))
      assert.equal(ok.get('level'), 'INFO')
      assert.equal(ok.get('target'), target.host)
      assert.equal(ok.get('status'), '200')
      assert.equal(ok.get('bytes'), String(body.length))
      assert.equal(ok.get('result'), 'success')
      assert.match(ok.get('durationMs') ?? '', /^\d+$/)
      assert.equal(failed.get('level'), 'WARN')
      assert.equal(failed.get('target'), down)
      assert.equal(failed.get('status'), '502')
      assert.equal(failed.get('result'), 'SG_UPSTREAM_CONNECT')
      assert.match(failed.get('err') ?? '', /\S/)
      if (format === 'logfmt') {
        const raw = lines(file).find((l) => l.includes('msg=probe '))
        assert.ok(raw?.includes(' job="kube state" '), raw)
      }
    })
  }
})

describe('the destination', () => {
  for (const format of ['logfmt', 'json'] as const) {
    test(`${format}: info lines wait for a batch; a warning writes them and itself at once; close writes the rest`, () => {
      const file = tmpFile()
      const fd = openSync(file, 'w')
      const destination = logDestination(fd, format)
      const log = pino({ ...RECORD_OPTIONS, level: 'info' }, destination.stream)
      const messages = (): string[] => lines(file).map((l) => format === 'json' ? (JSON.parse(l) as { msg: string }).msg : new Map(parseLogfmt(l)).get('msg') as string)
      log.info('first probe')
      log.info('second probe')
      assert.deepEqual(messages(), [], 'short info lines are batched')
      log.warn('probe failed')
      assert.deepEqual(messages(), ['first probe', 'second probe', 'probe failed'])
      log.info('third probe')
      assert.deepEqual(messages().length, 3)
      destination.close()
      assert.deepEqual(messages(), ['first probe', 'second probe', 'probe failed', 'third probe'])
      closeSync(fd)
    })
  }

  test('a batch is written once it reaches 4 KiB', () => {
    const file = tmpFile()
    const fd = openSync(file, 'w')
    const destination = logDestination(fd)
    const log = pino({ ...RECORD_OPTIONS, level: 'info' }, destination.stream)
    for (let i = 0; i < 100; i++) log.info({ job: 'kube-state-metrics', target: '10.0.0.7:8443', i }, 'probe')
    const written = lines(file).length
    assert.ok(written > 0 && written < 100, `${written} of 100 lines written before close`)
    destination.close()
    assert.equal(lines(file).length, 100)
    closeSync(fd)
  })
})
