// --config.watch: the config is reloaded when its file's content changes, the
// way SIGHUP reloads it (the same reload, the same log lines and metrics; a
// bad file is refused and the old config keeps serving).
//
// What counts is the content: its SHA-256 is compared with that of the last
// content tried, so a touch, an identical rewrite or an event for another
// file of the directory does nothing, and a bad file is tried once, not again
// until its content changes (Prometheus's auto-reload compares a checksum
// too). Every way a file is replaced is caught by watching directories, not
// the file: an editor's or an atomic write renames a new inode over the path
// (a watch on the old inode would never fire again), and a Kubernetes
// ConfigMap volume swaps a symlink (`config.yml -> ..data/config.yml`, with
// `..data` renamed over by a new `..data -> ..<timestamp>` link). So the
// config path's directory is watched, and the directory of the file it
// resolves to when that is elsewhere (a symlink to a file edited in place),
// re-resolved after every check. fs.watch is not everywhere (some network
// and container filesystems never report a change, and a watch can fail for
// want of inotify watches): a periodic check catches what it misses. Events
// come in bursts (a write is a truncate and writes; a ConfigMap swap is
// several renames): the file is read once the burst has settled (a directory
// that never settles is still checked by the interval).
import { createHash } from 'node:crypto'
import { realpathSync, watch, type FSWatcher } from 'node:fs'
import path from 'node:path'
import type { FastifyBaseLogger } from 'fastify'
import { FILE_LIMITS, readBoundedFile } from './config/bounded-file.js'

/** The fallback check's period: a change fs.watch missed is picked up within this. */
const CHECK_INTERVAL_MS = 10_000
/** How long a burst of events must be quiet before the file is read. */
const SETTLE_MS = 100

export interface ConfigWatchOptions {
  /** The config file, as given to --config.file. */
  file: string
  /** contentHash(file) read before the running config was loaded: a change made during that load is still seen. */
  loaded: string
  /** The reload SIGHUP runs; it logs its own failure and throws it. */
  reload: () => Promise<void>
  log: FastifyBaseLogger
  /** The periodic check's period (default 10 s). */
  intervalMs?: number
}

/** The SHA-256 of the file's content, or what kept it from being read (a reload of it fails with the same cause). */
export function contentHash (file: string): string {
  try {
    return createHash('sha256').update(readBoundedFile(file, FILE_LIMITS.pem)).digest('hex')
  } catch (err) {
    return `unreadable: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`
  }
}

export class ConfigWatch {
  readonly #file: string
  readonly #reload: () => Promise<void>
  readonly #log: FastifyBaseLogger
  readonly #intervalMs: number
  /** The hash of the content last tried, good or bad. */
  #last: string
  /** Watched directories, by path. */
  readonly #watchers = new Map<string, FSWatcher>()
  /** Directories that could not be watched, so each is warned about once. */
  readonly #unwatchable = new Set<string>()
  readonly #interval: NodeJS.Timeout
  #settle: NodeJS.Timeout | undefined
  /** The check under way; one at a time, and an event during it asks for one more. */
  #checking: Promise<void> | undefined
  #again = false
  #closed = false

  constructor (options: ConfigWatchOptions) {
    this.#file = path.resolve(options.file)
    this.#reload = options.reload
    this.#log = options.log
    this.#last = options.loaded
    this.#intervalMs = options.intervalMs ?? CHECK_INTERVAL_MS
    this.#watchDirectories()
    this.#interval = setInterval(() => { this.#check('interval') }, this.#intervalMs)
    this.#interval.unref()
  }

  /** Stops watching; resolves once a reload already under way has finished. */
  async close (): Promise<void> {
    this.#closed = true
    clearInterval(this.#interval)
    clearTimeout(this.#settle)
    for (const watcher of this.#watchers.values()) watcher.close()
    this.#watchers.clear()
    await this.#checking
  }

  /** An event in a watched directory: the file is checked once events stop for SETTLE_MS. */
  readonly #changed = (): void => {
    if (this.#closed) return
    clearTimeout(this.#settle)
    this.#settle = setTimeout(() => { this.#check('event') }, SETTLE_MS)
    this.#settle.unref()
  }

  #check (cause: 'event' | 'interval'): void {
    if (this.#closed) return
    if (this.#checking !== undefined) {
      this.#again = true
      return
    }
    this.#checking = this.#run(cause).finally(() => { this.#checking = undefined })
  }

  async #run (cause: 'event' | 'interval'): Promise<void> {
    do {
      this.#again = false
      this.#watchDirectories()
      const hash = contentHash(this.#file)
      if (hash === this.#last) {
        // The interval's check is silent: it runs all the time.
        if (cause === 'event') this.#log.debug({ file: this.#file }, 'config file unchanged; not reloading')
        continue
      }
      this.#last = hash
      this.#log.info({ file: this.#file }, 'config file changed; reloading')
      try {
        await this.#reload()
      } catch {
        // Logged by the reload, and counted in its metrics; tried again when the content changes.
      }
    } while (this.#again && !this.#closed)
  }

  /** Watches the config path's directory and that of the file it resolves to; drops directories no longer either. */
  #watchDirectories (): void {
    const wanted = new Set([path.dirname(this.#file)])
    try {
      wanted.add(path.dirname(realpathSync(this.#file)))
    } catch {
      // Missing right now: its directory is watched, which is where it will reappear.
    }
    for (const [dir, watcher] of this.#watchers) {
      if (wanted.has(dir)) continue
      watcher.close()
      this.#watchers.delete(dir)
    }
    for (const dir of wanted) {
      if (this.#watchers.has(dir) || this.#closed) continue
      try {
        // persistent: false, so a watch never keeps the process alive.
        const watcher = watch(dir, { persistent: false }, this.#changed)
        // The directory was removed (a ConfigMap's old timestamped one): dropped, and watched again if it is wanted again.
        watcher.on('error', () => {
          watcher.close()
          if (this.#watchers.get(dir) === watcher) this.#watchers.delete(dir)
        })
        this.#watchers.set(dir, watcher)
        this.#unwatchable.delete(dir)
      } catch (err) {
        if (this.#unwatchable.has(dir)) continue
        this.#unwatchable.add(dir)
        this.#log.warn({ dir, err: (err as Error).message }, `cannot watch the config file's directory; checking it every ${this.#intervalMs / 1000}s instead`)
      }
    }
  }
}
