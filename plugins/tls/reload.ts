// Rotation of tls_config files, like prometheus/common's tlsRoundTripper:
// before every request the CA, cert and key files are checked, and when their
// contents changed the job's connections are rebuilt with them. Prometheus
// reads and hashes the files on every request; here a stat tells whether a
// file may have changed (src/client/fresh-file.ts).
import { FreshFile } from '../../src/client/fresh-file.js'
import type { ConnectOptions, ConnectReloader } from '../../src/client/feature.js'
import { goFileError } from '../../src/config/files.js'
import { FILE_LIMITS } from '../../src/config/bounded-file.js'
import { Errors } from '../../src/errors.js'
import { connectOptions, TlsMaterialError, type TlsTexts } from './options.js'
import type { TlsSettings } from './types.js'

type Part = keyof TlsTexts

/** Prometheus's runtime words for an unreadable file, and the key it comes from. */
const ROLES: Record<Part, { what: string, key: string }> = {
  ca: { what: 'CA cert', key: 'tls_config.ca_file' },
  cert: { what: 'client cert', key: 'tls_config.cert_file' },
  key: { what: 'client key', key: 'tls_config.key_file' },
}

class WatchedFile {
  readonly #file: FreshFile
  /** The contents as last read. */
  text: string

  constructor (readonly part: Part, readonly path: string, loaded: string) {
    this.#file = new FreshFile(path, loaded, FILE_LIMITS.pem)
    this.text = loaded
  }

  /** Brings `text` up to date; throws SG_CREDENTIALS when the file cannot be read. */
  refresh (): void {
    try {
      this.text = this.#file.read()
    } catch (err) {
      const { what, key } = ROLES[this.part]
      throw new Errors.CREDENTIALS(`${key}: unable to read ${what}: unable to read file ${this.path}: ${goFileError(err, this.path)}`, { cause: err })
    }
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
