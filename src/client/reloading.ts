// A job's base dispatcher whose connect options can change at run time (TLS
// files rotated on disk), like prometheus/common's tlsRoundTripper: before
// each request the reloader checks its sources; on a change a new dispatcher
// is built and takes every later request, and the old one is closed once the
// requests it already carries are done (undici's close() waits for them).
import { Dispatcher, errors } from 'undici'
import type { ConnectOptions, ConnectReloader } from './feature.js'
import { fail } from './interceptor.js'

type Opts = Dispatcher.DispatchOptions
type Handler = Dispatcher.DispatchHandler

export class ReloadingDispatcher extends Dispatcher {
  #current: Dispatcher
  readonly #retiring = new Set<Promise<void>>()
  #closed = false

  constructor (
    initial: Dispatcher,
    private readonly reloader: ConnectReloader,
    private readonly rebuild: (connect: ConnectOptions) => Dispatcher
  ) {
    super()
    this.#current = initial
  }

  #swap (connect: ConnectOptions): void {
    const old = this.#current
    this.#current = this.rebuild(connect)
    const closing = old.close().catch(() => {})
    this.#retiring.add(closing)
    void closing.then(() => this.#retiring.delete(closing))
  }

  // The check is synchronous, so a probe whose files did not change goes
  // straight to the current dispatcher, without a promise hop.
  override dispatch (opts: Opts, handler: Handler): boolean {
    if (this.#closed) {
      fail(handler, new errors.ClientClosedError())
      return true
    }
    let next: ConnectOptions | undefined
    try {
      next = this.reloader.check()
    } catch (err) {
      fail(handler, err as Error)
      return true
    }
    if (next !== undefined) this.#swap(next)
    return this.#current.dispatch(opts, handler)
  }

  async #shutdown (how: 'close' | 'destroy'): Promise<void> {
    this.#closed = true
    await Promise.all([how === 'close' ? this.#current.close() : this.#current.destroy(), ...this.#retiring])
  }

  override async close (): Promise<void> {
    await this.#shutdown('close')
  }

  override async destroy (): Promise<void> {
    await this.#shutdown('destroy')
  }
}
