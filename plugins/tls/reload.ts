// Rotation of tls_config files, like prometheus/common's tlsRoundTripper:
// before every request the CA, cert and key files are checked, and when their
// contents changed the job's connections are rebuilt with them. Prometheus
// reads and hashes the files on every request; here a file is re-read only
// when its stat (inode, size, mtime, ctime) changed, or while its mtime is so
// recent that a same-size rewrite within the filesystem's timestamp
// granularity could hide behind an unchanged stat (git's "racily clean").
import { readFileSync, statSync, type BigIntStats } from 'node:fs'
import type { ConnectOptions, ConnectReloader } from '../../src/client/feature.js'
import { goFileError } from '../../src/config/files.js'
import { Errors } from '../../src/errors.js'
import { connectOptions, TlsMaterialError, type TlsTexts } from './options.js'
import type { TlsSettings } from './settings.js'

/** A file whose mtime is this close to (or after) its last read is re-read even when its stat is unchanged. */
const RACY_MS = 2_000

type Part = keyof TlsTexts

/** Prometheus's runtime words for an unreadable file, and the key it comes from. */
const ROLES: Record<Part, { what: string, key: string }> = {
  ca: { what: 'CA cert', key: 'tls_config.ca_file' },
  cert: { what: 'client cert', key: 'tls_config.cert_file' },
  key: { what: 'client key', key: 'tls_config.key_file' },
}

class WatchedFile {
  #stat: BigIntStats | undefined
  #readAt = 0
  /** The contents as last read. */
  text: string

  constructor (readonly part: Part, readonly path: string, loaded: string) {
    // The stat of what load read is unknown: the first check reads the file again.
    this.text = loaded
  }

  /**
   * Brings `text` up to date; throws SG_CREDENTIALS when the file cannot be
   * read. Synchronous, like the credential files' reads (src/client/secret.ts):
   * a stat of a local file costs ~2 µs, an async one a thread-pool round trip
   * on every probe.
   */
  refresh (): void {
    try {
      const st = statSync(this.path, { bigint: true })
      if (this.#unchanged(st)) return
      const readAt = Date.now()
      this.text = readFileSync(this.path, 'utf8')
      this.#stat = st
      this.#readAt = readAt
    } catch (err) {
      const { what, key } = ROLES[this.part]
      throw new Errors.CREDENTIALS(`${key}: unable to read ${what}: unable to read file ${this.path}: ${goFileError(err, this.path)}`, { cause: err })
    }
  }

  #unchanged (st: BigIntStats): boolean {
    const last = this.#stat
    if (last === undefined) return false
    const same = st.ino === last.ino && st.dev === last.dev && st.size === last.size &&
      st.mtimeNs === last.mtimeNs && st.ctimeNs === last.ctimeNs
    return same && Number(st.mtimeNs / 1_000_000n) < this.#readAt - RACY_MS
  }
}

export class TlsFileReloader implements ConnectReloader {
  readonly #files: WatchedFile[] = []
  /** The texts the current connections were built with. */
  #applied: TlsTexts
  /** The last texts that failed to build, and why: a bad file fails every request until it changes. */
  #failed: { texts: TlsTexts, error: Error } | undefined

  constructor (private readonly settings: TlsSettings) {
    const { ca, cert, key } = settings
    this.#applied = { ca: ca?.pem, cert: cert?.pem, key: key?.pem.reveal() }
    if (ca?.source.from === 'file') this.#files.push(new WatchedFile('ca', ca.source.path, ca.pem))
    if (cert?.source.from === 'file') this.#files.push(new WatchedFile('cert', cert.source.path, cert.pem))
    if (key?.source.from === 'file') this.#files.push(new WatchedFile('key', key.source.path, key.pem.reveal()))
  }

  /** Inline-only settings never change. */
  get watching (): boolean {
    return this.#files.length > 0
  }

  check (): ConnectOptions | undefined {
    for (const f of this.#files) f.refresh()
    const texts: TlsTexts = { ...this.#applied }
    for (const f of this.#files) texts[f.part] = f.text
    if (same(texts, this.#applied)) {
      this.#failed = undefined
      return undefined
    }
    if (this.#failed !== undefined && same(texts, this.#failed.texts)) throw this.#failed.error
    let options: ConnectOptions
    try {
      options = connectOptions(this.settings, texts)
    } catch (err) {
      if (!(err instanceof TlsMaterialError)) throw err
      const key = err.about === 'ca' ? ROLES.ca.key : this.settings.cert?.source.from === 'file' ? ROLES.cert.key : ROLES.key.key
      const error = new Errors.CREDENTIALS(`${key}: ${err.message}`)
      this.#failed = { texts, error }
      throw error
    }
    this.#applied = texts
    this.#failed = undefined
    return options
  }
}

function same (a: TlsTexts, b: TlsTexts): boolean {
  return a.ca === b.ca && a.cert === b.cert && a.key === b.key
}
