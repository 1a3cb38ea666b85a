// Rotation of the server's certificate, key and client CA files without a
// restart. exporter-toolkit reads them on every handshake (GetCertificate,
// GetConfigForClient); here a stat tells whether a file may have changed
// (src/client/fresh-file.ts: at most once per event-loop turn, the content
// read again only when the stat changed), checked when a connection arrives
// and before its handshake starts, so every connection accepted after a
// change is served with it. A change that does not make a usable pair (the
// key written before the certificate, a file missing during a swap) keeps
// the previous context and is logged once; the next connection tries again.
import type { FastifyBaseLogger } from 'fastify'
import type tls from 'node:tls'
import { FreshFile } from '../../src/client/fresh-file.js'
import { goFileError } from '../../src/config/files.js'
import { FILE_LIMITS } from '../../src/config/bounded-file.js'
import { secureContextOptions, type WebTlsTexts } from './tls-options.js'
import type { WebTls } from './types.js'

type Part = keyof WebTlsTexts

const KEYS: Record<Part, string> = { cert: 'cert_file', key: 'key_file', clientCa: 'client_ca_file' }

export class ServerCertReloader {
  readonly #files: Array<{ part: Part, file: FreshFile }> = []
  #applied: WebTlsTexts
  /** What last failed, so a bad state is tried and logged once, not per connection. */
  #failed: string | undefined
  #failedTexts: WebTlsTexts | undefined

  constructor (
    private readonly settings: WebTls,
    private readonly apply: (options: tls.SecureContextOptions) => void,
    private readonly log: FastifyBaseLogger
  ) {
    const { cert, key, clientCa } = settings
    this.#applied = { cert: cert.pem, key: key.pem.reveal(), clientCa: clientCa?.pem }
    if (cert.from === 'file') this.#files.push({ part: 'cert', file: new FreshFile(cert.path, cert.pem, FILE_LIMITS.pem) })
    if (key.from === 'file') this.#files.push({ part: 'key', file: new FreshFile(key.path, key.pem.reveal(), FILE_LIMITS.pem) })
    if (clientCa?.from === 'file') this.#files.push({ part: 'clientCa', file: new FreshFile(clientCa.path, clientCa.pem, FILE_LIMITS.pem) })
  }

  /** Inline-only material never changes. */
  get watching (): boolean {
    return this.#files.length > 0
  }

  /** Brings the server's context up to date with the files; never throws. */
  check (): void {
    const texts: WebTlsTexts = { ...this.#applied }
    for (const { part, file } of this.#files) {
      try {
        texts[part] = file.read()
      } catch (err) {
        this.#fail(`tls_server_config.${KEYS[part]}: ${goFileError(err, file.path)}`)
        return
      }
    }
    if (same(texts, this.#applied) || (this.#failedTexts !== undefined && same(texts, this.#failedTexts))) return
    let options: tls.SecureContextOptions
    try {
      options = secureContextOptions(this.settings, texts)
    } catch (err) {
      this.#fail(`tls_server_config: ${(err as Error).message}`)
      this.#failedTexts = texts
      return
    }
    this.apply(options)
    this.#applied = texts
    this.#failed = undefined
    this.#failedTexts = undefined
    this.log.info('web config: TLS certificate files changed; new connections use them')
  }

  #fail (message: string): void {
    if (this.#failed === message) return
    this.#failed = message
    this.log.warn({ err: message }, 'web config: TLS certificate files changed but cannot be used; the previous certificate stays in use')
  }
}

function same (a: WebTlsTexts, b: WebTlsTexts): boolean {
  return a.cert === b.cert && a.key === b.key && a.clientCa === b.clientCa
}
