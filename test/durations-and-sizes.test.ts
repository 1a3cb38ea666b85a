import { test } from 'node:test'
import assert from 'node:assert/strict'
import { formatDuration, parseDuration } from '../src/config/duration.js'
import { parseBase2Bytes } from '../src/config/bytes.js'
import { formatBase2Bytes, formatSeconds } from '../src/go-format.js'

const S = 1000
const M = 60 * S
const H = 60 * M
const D = 24 * H
const W = 7 * D
const Y = 365 * D

test('parseDuration accepts the Prometheus grammar', () => {
  const cases: Array<[string, number]> = [
    ['0', 0],
    ['0s', 0],
    ['0w', 0],
    ['500ms', 500],
    ['1m30s', 90 * S],
    ['1h', H],
    ['2w3d', 2 * W + 3 * D],
    ['4d1h', 4 * D + H],
    ['10y', 10 * Y],
    ['01s', S],
    ['1y1w1d1h1m1s1ms', Y + W + D + H + M + S + 1],
    ['289y', 289 * Y],
  ]
  for (const [input, ms] of cases) assert.equal(parseDuration(input), ms, input)
})

test('parseDuration rejects anything else with Prometheus messages', () => {
  const invalid = (s: string): Error => new Error(`not a valid duration string: "${s}"`)
  const cases: Array<[string, Error]> = [
    ['', new Error('empty duration string')],
    ['1s1m', invalid('1s1m')], // units out of order
    ['1h1h', invalid('1h1h')], // unit repeated
    ['-1s', invalid('-1s')],
    ['abc', invalid('abc')],
    ['5', invalid('5')], // no unit
    ['1m30', invalid('1m30')],
    ['00', invalid('00')],
    ['99999999999999999999s', invalid('99999999999999999999s')], // beyond uint64
    // Current prometheus/common names the unit when it is not one it knows.
    ['1.5s', new Error('unknown unit "." in duration "1.5s"')],
    ['1h 30m', new Error('unknown unit "h " in duration "1h 30m"')],
    ['1x', new Error('unknown unit "x" in duration "1x"')],
    ['1\ts', new Error('unknown unit "\\ts" in duration "1\\ts"')],
    // Go's Duration is int64 nanoseconds: about 292 years.
    ['294y', new Error('duration out of range')],
    ['200y10400w', new Error('duration out of range')],
    ['2562048h', new Error('duration out of range')],
  ]
  for (const [input, err] of cases) assert.throws(() => parseDuration(input), err, JSON.stringify(input))
})

test('formatDuration prints Duration.String()', () => {
  const cases: Array<[number, string]> = [
    [0, '0s'],
    [90 * S, '1m30s'],
    [W, '1w'],
    [1500, '1s500ms'],
    [Y, '1y'],
    [H, '1h'],
    [14 * D, '2w'],
    // Years and weeks only when exact.
    [3 * W + 2 * D + H, '23d1h'],
    [Y + D, '366d'],
    [-90 * S, '-1m30s'],
  ]
  for (const [ms, s] of cases) assert.equal(formatDuration(ms), s, String(ms))
  for (const s of ['1m30s', '2w', '10y', '324ms', '4d1h']) assert.equal(formatDuration(parseDuration(s)), s)
})

test('formatSeconds prints FormatFloat(d.Seconds(), \'f\', -1, 64)', () => {
  const cases: Array<[number, string]> = [
    [10000, '10'],
    [1500, '1.5'],
    [500, '0.5'],
    [14500, '14.5'],
    [1, '0.001'],
    [0, '0'],
    [Y * 100, '3153600000'],
    // Go adds whole seconds to nanoseconds/1e9; that float is not ms/1000.
    [1118, '1.1179999999999999'],
    // Never exponent notation.
    [0.0001, '0.0000001'],
  ]
  for (const [ms, s] of cases) assert.equal(formatSeconds(ms), s, String(ms))
})

test('parseBase2Bytes reads base-2 sizes in IEC and old spellings', () => {
  const cases: Array<[string, number]> = [
    ['0', 0],
    ['+0', 0],
    ['-0', 0],
    ['100B', 100],
    ['1KB', 1024],
    ['1KiB', 1024],
    ['10MiB', 10 * 1024 ** 2],
    ['1GB512MB', 1024 ** 3 + 512 * 1024 ** 2],
    ['1.5KB', 1536],
    ['.5KiB', 512],
    ['1.KiB', 1024],
    ['1.0001KB', 1024], // truncated
    ['2EiB', 2 * 1024 ** 6],
  ]
  for (const [input, n] of cases) assert.equal(parseBase2Bytes(input), n, input)
})

test('parseBase2Bytes rejects with alecthomas/units messages', () => {
  const cases: Array<[string, Error]> = [
    ['100', new Error('units: unknown unit  in 100')],
    ['1kB', new Error('units: unknown unit kB in 1kB')],
    ['', new Error('units: invalid ')],
    ['-', new Error('units: invalid -')],
    ['abc', new Error('units: invalid abc')],
    ['.KB', new Error('units: invalid .KB')],
    ['1 KB', new Error('units: unknown unit  KB in 1 KB')],
    // Both maps fail; the old map's error is the one reported.
    ['1KiB1KB', new Error('units: unknown unit KiB in 1KiB1KB')],
    ['8EB', new Error('units: overflow parsing unit')],
    // The IEC pass overflows, but the retry's error wins.
    ['8EiB', new Error('units: unknown unit EiB in 8EiB')],
    ['9999999999999999999B', new Error('units: invalid 9999999999999999999B')],
    ['-1KB', new Error('body_size_limit must not be negative')],
  ]
  for (const [input, err] of cases) assert.throws(() => parseBase2Bytes(input), err, JSON.stringify(input))
})

test('formatBase2Bytes prints Base2Bytes.String()', () => {
  const cases: Array<[number, string]> = [
    [0, '0B'],
    [100, '100B'],
    [1024, '1KiB'],
    [10485760, '10MiB'],
    [1536, '1KiB512B'],
    [1024 ** 3 + 512 * 1024 ** 2, '1GiB512MiB'],
    [2 * 1024 ** 6, '2EiB'],
    [-1024, '-1KiB'],
  ]
  for (const [n, s] of cases) assert.equal(formatBase2Bytes(n), s, String(n))
})
