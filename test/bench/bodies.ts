// The exposition bodies the target serves: kube-state-metrics-like text from
// test/helpers/targets.ts exposition(), sized to ~100 KB / 1 MB / 10 MB, each
// written as FILE and FILE.gz (what nginx's gzip_static serves).
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import { exposition } from '../helpers/targets.js'

export interface Body {
  /** As given on the command line: '100k', '1m', '10m'. */
  label: string
  /** The target's path for it: /metrics-100k. */
  path: string
  series: number
  /** Bytes of the identity body. */
  bytes: number
  /** Bytes of its gzip (level 6, as client libraries and gzip(1) default). */
  gzipBytes: number
}

/** '100k' -> 100,000; '1m' -> 1,000,000 (the sizes of the issue are decimal KB/MB). */
export function parseSize (label: string): number {
  const m = /^(\d+(?:\.\d+)?)([km]?)b?$/i.exec(label.trim())
  if (m === null) throw new Error(`invalid size ${JSON.stringify(label)}: want e.g. 100k, 1m, 10m`)
  const unit = m[2]?.toLowerCase() === 'm' ? 1_000_000 : m[2]?.toLowerCase() === 'k' ? 1_000 : 1
  const bytes = Math.round(Number(m[1]) * unit)
  if (bytes < 200) throw new Error(`size ${label} is too small`)
  return bytes
}

/** Series count whose exposition is closest to `bytes` (two secant steps: line length barely varies). */
function render (bytes: number): { text: string, series: number } {
  let series = Math.max(1, Math.round(bytes / 110))
  let text = exposition(series)
  for (let i = 0; i < 2 && Math.abs(text.length - bytes) > bytes * 0.005; i++) {
    series = Math.max(1, Math.round(series * bytes / text.length))
    text = exposition(series)
  }
  return { text, series }
}

export function writeBodies (dir: string, labels: readonly string[]): Body[] {
  return labels.map((label) => {
    const { text, series } = render(parseSize(label))
    const name = `metrics-${label.toLowerCase()}`
    const raw = Buffer.from(text)
    const gz = gzipSync(raw)
    writeFileSync(path.join(dir, name), raw)
    writeFileSync(path.join(dir, `${name}.gz`), gz)
    return { label, path: `/${name}`, series, bytes: raw.length, gzipBytes: gz.length }
  })
}
