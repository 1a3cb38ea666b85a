// rate_limit: a token bucket like golang.org/x/time/rate's Limiter, which
// exporter-toolkit puts in front of every request: `burst` tokens at most,
// one more every `interval`; a request without a token is refused (429).
import { performance } from 'node:perf_hooks'

export class RateLimiter {
  #tokens: number
  #at = performance.now()

  constructor (private readonly intervalMs: number, private readonly burst: number) {
    this.#tokens = burst
  }

  /** Takes a token if there is one. */
  allow (): boolean {
    const now = performance.now()
    this.#tokens = Math.min(this.burst, this.#tokens + (now - this.#at) / this.intervalMs)
    this.#at = now
    if (this.#tokens < 1) return false
    this.#tokens -= 1
    return true
  }
}
