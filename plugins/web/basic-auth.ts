// basic_auth_users: checks a request's `Authorization: Basic` against bcrypt
// hashes, the way exporter-toolkit does, at the cost of a lookup once a pair
// has been checked.
//
// - bcrypt is slow on purpose (cost 10: tens of ms of CPU, on the event loop
//   with bcryptjs; figures in README "Web config"), and Prometheus sends the
//   same pair on every scrape. So the outcome for a pair is cached, as
//   exporter-toolkit caches it: a verified pair per user, and up to 100
//   refused pairs (a Prometheus with a stale password must not cost a bcrypt
//   per scrape). The cache holds HMAC-SHA256 digests under a key made at
//   start, never a password; a verified digest is compared in constant time.
// - An unknown user is compared against a dummy hash of the users' highest
//   cost and refused whatever the result: it costs what a wrong password
//   costs, so timing does not tell which users exist.
// - Concurrent requests with the same pair share one bcrypt, and bcrypts run
//   one at a time (exporter-toolkit's bcryptMtx): Prometheus's first scrapes
//   of many targets arrive together.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import bcrypt from 'bcryptjs'
import type { Secret } from '../../src/client/secret.js'

/** exporter-toolkit's cache size; refused pairs beyond it evict the oldest tenth. */
const REFUSED_CACHE = 100
/** bcrypt reads at most 72 bytes; bcryptjs would drop the rest silently, so a longer password is refused. */
const MAX_PASSWORD_BYTES = 72

export type Verdict = 'ok' | 'missing' | 'refused'

/** Go's http.Request.BasicAuth: `Basic` (any case), strict base64, user and password split at the first colon. */
function parseBasicAuth (header: string | undefined): { user: string, password: string } | undefined {
  if (header === undefined || header.length < 6 || header.slice(0, 6).toLowerCase() !== 'basic ') return undefined
  const b64 = header.slice(6)
  if (b64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) return undefined
  const text = Buffer.from(b64, 'base64').toString('utf8')
  const colon = text.indexOf(':')
  if (colon < 0) return undefined
  return { user: text.slice(0, colon), password: text.slice(colon + 1) }
}

export class BasicAuthUsers {
  readonly #users: ReadonlyMap<string, Secret>
  readonly #key = randomBytes(32)
  /** user → digest of the pair that verified. */
  readonly #verified = new Map<string, Buffer>()
  /** digests (hex) of refused pairs, oldest first. */
  readonly #refused = new Set<string>()
  readonly #checking = new Map<string, Promise<boolean>>()
  /** The bcrypt running now: the next waits for it. */
  #queue: Promise<unknown> = Promise.resolve()
  readonly #dummy: Promise<string>

  constructor (users: ReadonlyMap<string, Secret>) {
    this.#users = users
    const cost = Math.max(4, ...[...users.values()].map((h) => bcrypt.getRounds(h.reveal())))
    // Made once, at start, off the request path (bcryptjs yields between rounds).
    this.#dummy = users.size === 0 ? Promise.resolve('') : bcrypt.hash(randomBytes(16).toString('hex'), cost)
  }

  /** Resolves once the dummy hash exists, so the first unknown user costs no more than later ones. */
  async ready (): Promise<void> {
    await this.#dummy
  }

  async check (authorization: string | undefined): Promise<Verdict> {
    const pair = parseBasicAuth(authorization)
    if (pair === undefined) return 'missing'
    if (Buffer.byteLength(pair.password) > MAX_PASSWORD_BYTES) return 'refused'
    // Length-prefixed, so no two (user, password) pairs share an input.
    const digest = createHmac('sha256', this.#key).update(`${pair.user.length}:${pair.user}${pair.password}`).digest()
    const verified = this.#verified.get(pair.user)
    if (verified !== undefined && timingSafeEqual(verified, digest)) return 'ok'
    const id = digest.toString('hex')
    if (this.#refused.has(id)) return 'refused'
    let pending = this.#checking.get(id)
    if (pending === undefined) {
      pending = this.#compare(pair.user, pair.password, digest, id)
      this.#checking.set(id, pending)
      void pending.finally(() => this.#checking.delete(id))
    }
    return (await pending) ? 'ok' : 'refused'
  }

  async #compare (user: string, password: string, digest: Buffer, id: string): Promise<boolean> {
    const hash = this.#users.get(user)
    const run = this.#queue.then(async () => bcrypt.compare(password, hash?.reveal() ?? await this.#dummy))
    this.#queue = run.catch(() => {})
    const ok = (await run) && hash !== undefined
    if (ok) {
      this.#verified.set(user, digest)
    } else {
      if (this.#refused.size >= REFUSED_CACHE) {
        let drop = Math.ceil(REFUSED_CACHE / 10)
        for (const old of this.#refused) {
          if (drop-- === 0) break
          this.#refused.delete(old)
        }
      }
      this.#refused.add(id)
    }
    return ok
  }
}
