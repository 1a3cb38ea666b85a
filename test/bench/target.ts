// The https scrape target: nginx when it is installed (it costs the target
// least CPU), the Node server of node-target.ts otherwise. Both demand the
// bearer token and serve FILE or FILE.gz by Accept-Encoding.
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { TargetKind } from './options.js'
import { nginxVersion, startNginxTarget } from './nginx.js'
import { freePort, portOpen, startChild, waitReady, type Child } from './procs.js'
import type { NodeTargetConfig } from './node-target.js'
import { tsxCommand } from './gateway.js'

export interface BenchTarget {
  /** 'nginx 1.22.1' or 'node v20.x https' */
  kind: string
  /** '127.0.0.1:PORT' */
  host: string
  port: number
  child: Child
  stop(): Promise<void>
}

export interface TargetOptions {
  dir: string
  root: string
  certFile: string
  keyFile: string
  token: string
  repoRoot: string
}

export async function startTarget (kind: TargetKind, o: TargetOptions): Promise<BenchTarget> {
  const version = nginxVersion()
  if (kind === 'nginx' && version === undefined) throw new Error('--target=nginx, but /usr/sbin/nginx is not installed')
  if (kind !== 'node' && version !== undefined) {
    const dir = path.join(o.dir, 'nginx-target')
    mkdirSync(dir)
    const n = await startNginxTarget({ ...o, dir })
    return { kind: `nginx ${version} (worker_processes 1, gzip_static)`, host: `127.0.0.1:${n.port}`, port: n.port, child: n.child, stop: n.stop }
  }
  const port = await freePort()
  const config: NodeTargetConfig = { port, root: o.root, certFile: o.certFile, keyFile: o.keyFile, token: o.token }
  const log = path.join(o.dir, 'node-target.log')
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'node-target.ts')
  const [cmd, ...args] = tsxCommand(o.repoRoot)
  const child = startChild('node target', cmd!, [...args, script, JSON.stringify(config)], { cwd: o.repoRoot, log })
  await waitReady(child, portOpen(port), log)
  return { kind: `node ${process.version} https server (one process)`, host: `127.0.0.1:${port}`, port, child, stop: async () => child.stop() }
}
