// A real forward proxy for tests: Debian's squid, started in the foreground on
// a free 127.0.0.1 port with a throwaway config in a temp dir (no disk cache,
// its own hosts file, access log readable by the test).
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { refusedPort } from './targets.js'
import { spawnDaemon } from './daemon.js'

export interface Squid {
  /** http://127.0.0.1:PORT */
  url: string
  port: number
  /** The access log's lines so far (squid's native format). */
  accessLog (): string[]
  /** Waits until a line of the access log matches; squid logs a CONNECT tunnel only when it closes. */
  waitForLog (pattern: RegExp, timeoutMs?: number): Promise<string>
  close (): Promise<void>
}

export interface SquidOptions {
  /** Extra names squid resolves (its hosts_file), e.g. { 'metrics.test': '127.0.0.1' }. */
  hosts?: Record<string, string>
}

/** The squid binary, when installed. */
export const SQUID_BIN: string | undefined = ['/usr/sbin/squid', '/usr/local/sbin/squid'].find((p) => fs.existsSync(p))
const SQUID = SQUID_BIN ?? 'squid'

/**
 * node:test's `skip` for tests that need squid: skipped on a developer machine
 * without it, never in CI (CI=true), where .ci/run installs it and a missing
 * squid must fail loudly rather than pass by skipping.
 */
export const SKIP_WITHOUT_SQUID: string | false = SQUID_BIN === undefined && process.env.CI !== 'true'
  ? 'squid is not installed (apt-get install squid; .ci/run installs it)'
  : false

function config (dir: string, port: number): string {
  return [
    `http_port 127.0.0.1:${port}`,
    `pid_filename ${dir}/squid.pid`,
    `access_log stdio:${dir}/access.log squid`,
    `cache_log ${dir}/cache.log`,
    'cache_store_log none',
    'cache deny all',
    'cache_mem 0 MB',
    `coredump_dir ${dir}`,
    'netdb_filename none',
    'pinger_enable off',
    `hosts_file ${dir}/hosts`,
    'visible_hostname scrape-gateway-test',
    'shutdown_lifetime 0 seconds',
    // Only the test's own client; CONNECT to any port (the targets' are ephemeral).
    'acl test_client src 127.0.0.1/32',
    'http_access allow test_client',
    'http_access deny all',
    '',
  ].join('\n')
}

async function canConnect (port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => resolve(false))
  })
}

export async function startSquid (opts: SquidOptions = {}): Promise<Squid> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sg-squid-'))
  // Run as root, squid drops to its cache_effective_user (Debian: proxy), which must write here.
  fs.chmodSync(dir, 0o777)
  const hosts = Object.entries({ localhost: '127.0.0.1', ...opts.hosts }).map(([name, ip]) => `${ip} ${name}`)
  fs.writeFileSync(path.join(dir, 'hosts'), hosts.join('\n') + '\n')
  const port = await refusedPort()
  const conf = path.join(dir, 'squid.conf')
  fs.writeFileSync(conf, config(dir, port))

  const daemon = spawnDaemon(SQUID, ['-N', '-d1', '-f', conf], dir)
  const { child } = daemon

  const deadline = Date.now() + 20_000
  while (!(await canConnect(port))) {
    if (daemon.spawnError() !== undefined) {
      await daemon.close()
      throw new Error(`cannot start ${SQUID} (install Debian's squid: apt-get install squid): ${daemon.spawnError()?.message}`)
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      await daemon.close()
      throw new Error(`squid did not start on 127.0.0.1:${port}:\n${daemon.output()}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }

  const logFile = path.join(dir, 'access.log')
  const accessLog = (): string[] => {
    try {
      return fs.readFileSync(logFile, 'utf8').split('\n').filter((l) => l !== '')
    } catch {
      return []
    }
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    accessLog,
    async waitForLog (pattern, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs
      for (;;) {
        const line = accessLog().find((l) => pattern.test(l))
        if (line !== undefined) return line
        if (Date.now() > until) throw new Error(`no squid access log line matches ${pattern}; log:\n${accessLog().join('\n')}`)
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    },
    close: daemon.close,
  }
}
