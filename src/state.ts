// The loaded configuration and the jobs compiled from it. A reload compiles
// the new config completely before swapping it in; a bad one leaves the old
// one serving. Old clients are closed after the swap, gracefully (undici's
// close() lets in-flight requests finish), in the background: a reload is
// done when the new config serves, not when the slowest old probe ends.
// close() waits for those closes too.
import type { FastifyBaseLogger } from 'fastify'
import { loadConfig } from './config/load.js'
import type { FeatureSet } from './config/feature.js'
import type { GatewayConfig } from './config/types.js'
import type { ClientFeature } from './client/feature.js'
import { compileJob, type CompiledJob } from './scrape/job.js'

/** How the last load or reload of the config file ended. */
export interface LoadOutcome {
  /** ms since the epoch. */
  readonly at: number
  /** Why it was refused (a config error: file:line, never a secret's value); undefined when it succeeded. */
  readonly error: string | undefined
}

export class GatewayState {
  #config: GatewayConfig<ClientFeature> | undefined
  #jobs = new Map<string, CompiledJob>()
  #warnings: readonly string[] = []
  /** Loads run one after another, so an older file can never be swapped in last. */
  #loading: Promise<void> = Promise.resolve()
  /** Old jobs' clients still closing after a reload (their probes in flight finish first). */
  #retiring = new Set<Promise<void>>()
  #lastLoad: LoadOutcome | undefined
  /** When the config that serves was loaded (ms since the epoch). */
  #loadedAt: number | undefined

  constructor (
    readonly file: string,
    private readonly features: FeatureSet<ClientFeature>,
    private readonly log: FastifyBaseLogger
  ) {}

  get config (): GatewayConfig<ClientFeature> {
    if (this.#config === undefined) throw new Error('configuration not loaded')
    return this.#config
  }

  job (name: string): CompiledJob | undefined {
    return this.#jobs.get(name)
  }

  /** Loads and compiles the config file, then swaps it in. Throws (keeping the old state) on any error. */
  load (): Promise<void> {
    const run = this.#loading.then(async () => {
      try {
        await this.#load()
      } catch (err) {
        this.#lastLoad = { at: Date.now(), error: (err as Error).message }
        throw err
      }
      this.#loadedAt = Date.now()
      this.#lastLoad = { at: this.#loadedAt, error: undefined }
    })
    this.#loading = run.catch(() => {})
    return run
  }

  async #load (): Promise<void> {
    const config = loadConfig(this.file, this.features)
    const jobs = new Map<string, CompiledJob>()
    try {
      for (const job of config.jobs) jobs.set(job.name, await compileJob(job))
    } catch (err) {
      await closeAll(jobs)
      throw err
    }
    const old = this.#jobs
    this.#config = config
    this.#jobs = jobs
    if (config.ignored.length > 0) {
      this.log.info({ keys: config.ignored }, 'config keys that only matter to Prometheus are ignored')
    }
    const warnings: string[] = []
    for (const [name, job] of jobs) {
      if (!job.policy.allowsNothing) continue
      const warning = `job ${JSON.stringify(name)} has neither static_configs nor allowed_targets: every target is refused (403 SG_TARGET_FORBIDDEN)`
      warnings.push(warning)
      this.log.warn({ job: name }, warning)
    }
    this.#warnings = warnings
    this.#retire(old)
  }

  #retire (jobs: Map<string, CompiledJob>): void {
    const closing: Promise<void> = closeAll(jobs)
      .catch((err: Error) => { this.log.warn({ err: err.message }, 'closing the previous configuration\'s clients failed') })
      .finally(() => { this.#retiring.delete(closing) })
    this.#retiring.add(closing)
  }

  /** The last load or reload (SIGHUP, /-/reload, --config.watch): when, and whether it was refused and why. */
  get lastLoad (): LoadOutcome | undefined {
    return this.#lastLoad
  }

  /** When the config that serves was loaded (ms since the epoch); after a refused reload, earlier than lastLoad. */
  get loadedAt (): number | undefined {
    return this.#loadedAt
  }

  /** What the loaded config allows that an operator should hear about (--config.check prints these). */
  get warnings (): readonly string[] {
    return this.#warnings
  }

  async close (): Promise<void> {
    await closeAll(this.#jobs)
    this.#jobs = new Map()
    await Promise.all(this.#retiring)
  }
}

async function closeAll (jobs: Map<string, CompiledJob>): Promise<void> {
  await Promise.all([...jobs.values()].map(async (j) => { await j.client.close() }))
}
