// The Docker image, held to what it runs, without a Docker engine: the
// Dockerfile is read (test/helpers/dockerfile.ts), each stage's filesystem is
// laid out in a temp dir from its COPY and RUN lines, and the runtime stage's
// ENTRYPOINT and CMD run as written, as PID 1 of a PID namespace of their own
// (unshare(1), as root), and are probed on IPv4 and IPv6.
import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import YAML from 'yaml'
import { get } from './helpers/client.js'
import { buildContext, parseDockerfile, type Dockerfile, type Stage } from './helpers/dockerfile.js'
import { eventually } from './helpers/eventually.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const DOCKERFILE = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8')
const PKG = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  name: string, version: string, description: string, license: string, devDependencies: Record<string, string>
}
const image = parseDockerfile(DOCKERFILE)
const runtime = image.runtime

function flag (args: readonly string[], name: string): string | undefined {
  const prefix = `--${name}=`
  return args.findLast((a) => a.startsWith(prefix))?.slice(prefix.length)
}

function listenPort (address: string): number {
  const m = /:(\d+)$/.exec(address)
  assert.ok(m !== null, `--web.listen-address=${address} has no port`)
  return Number(m[1])
}

const cmd = runtime.cmd ?? []
const CMD_LISTEN = flag(cmd, 'web.listen-address')
const CMD_CONFIG = flag(cmd, 'config.file')

describe('Dockerfile', () => {
  test('runtime: node 22 bookworm-slim, a numeric non-root USER, no HEALTHCHECK, exec-form ENTRYPOINT with the semi-space flag', () => {
    assert.equal(runtime.image, 'node:22-bookworm-slim')
    assert.match(runtime.user ?? '', /^\d+:\d+$/, 'USER uid:gid, both numeric, so runAsNonRoot can verify it')
    assert.notEqual(runtime.user?.split(':')[0], '0')
    for (const stage of image.stages) assert.equal(stage.healthcheck, undefined, `stage ${stage.name} has a HEALTHCHECK`)
    // Exec form: node itself is PID 1 and gets the signals (a shell form would be ['/bin/sh', '-c', …]).
    assert.deepEqual(runtime.entrypoint, ['node', '--max-semi-space-size=2', 'dist/src/main.js'])
    assert.ok(CMD_CONFIG?.startsWith('/'), 'CMD names the config by its absolute image path')
    // An empty host: every IPv4 and IPv6 address.
    assert.match(CMD_LISTEN ?? '', /^:\d+$/)
  })

  test('OCI labels and SCRAPE_GATEWAY_REVISION: from package.json and the build args', () => {
    const labels = runtime.labels
    assert.equal(labels.get('org.opencontainers.image.title'), PKG.name)
    assert.equal(labels.get('org.opencontainers.image.description'), PKG.description)
    assert.equal(labels.get('org.opencontainers.image.licenses'), PKG.license)
    assert.equal(labels.get('org.opencontainers.image.version'), PKG.version, 'ARG VERSION defaults to package.json\'s version')
    assert.equal(labels.get('org.opencontainers.image.revision'), '')
    assert.equal(runtime.env.get('NODE_ENV'), 'production')

    const built = parseDockerfile(DOCKERFILE, { SCRAPE_GATEWAY_REVISION: '0123abcd', SOURCE_URL: 'https://example.com/scrape-gateway', VERSION: '9.9.9' }).runtime
    assert.equal(built.labels.get('org.opencontainers.image.revision'), '0123abcd')
    assert.equal(built.env.get('SCRAPE_GATEWAY_REVISION'), '0123abcd')
    assert.equal(built.labels.get('org.opencontainers.image.source'), 'https://example.com/scrape-gateway')
    assert.equal(built.labels.get('org.opencontainers.image.version'), '9.9.9')
  })

  test('production dependencies only, installed in a stage of their own; the runtime stage runs nothing', () => {
    assert.deepEqual(runtime.steps.filter((s) => s.kind === 'run'), [])
    const modules = runtime.steps.find((s) => s.kind === 'copy' && s.dest === path.posix.join(runtime.workdir, 'node_modules'))
    assert.ok(modules?.kind === 'copy' && modules.from !== undefined, 'node_modules is copied from a build stage')
    const from = image.stages.find((s) => s.name === modules.from) as Stage
    const installs = from.steps.filter((s) => s.kind === 'run').map((s) => s.command)
    assert.deepEqual(installs.filter((c) => /^npm ci\b/.test(c) && !/(^|\s)--omit=dev(\s|$)/.test(c)), [], `stage ${from.name} installs dev dependencies`)
    assert.equal(installs.filter((c) => /^npm ci\b/.test(c)).length, 1)
  })

  test('EXPOSE, the CMD\'s listen port and the default config\'s self job agree', () => {
    const port = listenPort(CMD_LISTEN ?? '')
    assert.deepEqual(runtime.expose, [String(port)])
    // The README's first probe (job self at localhost and 127.0.0.1) must work in the image as built.
    // (COPY config/scrape-gateway.yml puts it at the same path under WORKDIR as in the context.)
    const configPath = CMD_CONFIG ?? ''
    assert.ok(configPath.startsWith(runtime.workdir + '/'))
    const config = YAML.parse(fs.readFileSync(path.join(ROOT, path.posix.relative(runtime.workdir, configPath)), 'utf8')) as ImageConfig
    const self = config.scrape_configs.find((j) => j.job_name === 'self')
    assert.deepEqual(self?.static_configs?.flatMap((s) => s.targets), [`localhost:${port}`, `127.0.0.1:${port}`])
  })

  test('.dockerignore: every file the COPY lines read is sent, and nothing else is', () => {
    const context = buildContext(ROOT)
    const sources = image.stages.flatMap((s) => s.steps).flatMap((s) => s.kind === 'copy' && s.from === undefined ? s.sources : [])
    for (const source of sources) {
      assert.ok(fs.existsSync(path.join(ROOT, source)), `COPY ${source}: no such file in the context`)
      assert.equal(context.ignored(source), false, `COPY ${source}, which .dockerignore leaves out`)
    }
    const read = (file: string): boolean => sources.some((s) => file === path.posix.normalize(s) || file.startsWith(path.posix.normalize(s) + '/'))
    // The engine always gets the Dockerfile and .dockerignore, whatever .dockerignore says.
    const unread = context.files().filter((f) => !read(f) && f !== 'Dockerfile')
    assert.deepEqual(unread, [], 'sent to the engine but read by no COPY: add them to .dockerignore')
    for (const kept of ['.git/HEAD', 'test/image.test.ts', 'test/bench/results/latest.md', '.ci/run', 'node_modules/yaml/package.json',
      'dist/src/main.js', 'coverage/lcov.info', 'README.md', 'config/README.md', '.scratch/x', 'config/kubernetes/kustomization.yaml']) {
      assert.equal(context.ignored(kept), true, `${kept} is sent to the engine`)
    }
  })
})

interface ImageConfig { scrape_configs: Array<{ job_name: string, static_configs?: Array<{ targets: string[] }> }> }

/** A log line's fields, in either --log.format (logfmt, quoted values in JSON's escapes; or json): the CMD sets none. */
function logFields (line: string): Record<string, unknown> {
  if (line.startsWith('{')) return JSON.parse(line) as Record<string, unknown>
  const fields: Record<string, unknown> = {}
  for (const m of line.matchAll(/([^\s=]+)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
    const value = m[2] as string
    fields[m[1] as string] = value.startsWith('"') ? JSON.parse(value) : value
  }
  return fields
}

/** Where stage `name`'s filesystem root is laid out. */
function stageRoot (dir: string, name: string): string {
  return path.join(dir, `stage-${name}`)
}

/** The image path `p` (absolute) inside a laid-out root. */
function inRoot (root: string, p: string): string {
  return path.join(root, ...p.split('/'))
}

/**
 * Lays out every stage under `dir` as `docker build` would fill it, and
 * returns the runtime stage's root. COPY copies, from the context (minus
 * what .dockerignore leaves out) or from an earlier stage's root. RUN: the
 * full `npm ci` (compiler and all, for the build) becomes a link to the
 * project's node_modules, installed from the same lockfile; `npm ci
 * --omit=dev` runs as written, offline from npm's cache (these tests make no
 * traffic off 127.0.0.1), so the runtime gets the production dependencies
 * and nothing else, as in the image; `npm run build` runs as written. Any
 * other RUN fails the test until this function is taught what it does.
 */
function layOut (df: Dockerfile, dir: string): string {
  const context = buildContext(ROOT)
  for (const stage of df.stages) {
    const root = stageRoot(dir, stage.name)
    fs.mkdirSync(root, { recursive: true })
    for (const step of stage.steps) {
      if (step.kind === 'copy') {
        const from = step.from === undefined ? ROOT : stageRoot(dir, step.from)
        for (const source of step.sources) {
          const src = step.from === undefined ? path.join(ROOT, source) : inRoot(from, path.posix.resolve('/', source))
          const dest = inRoot(root, step.dest)
          const target = fs.statSync(src).isDirectory() || !step.destIsDir ? dest : path.join(dest, path.basename(src))
          fs.mkdirSync(path.dirname(target), { recursive: true })
          fs.cpSync(src, target, {
            recursive: true,
            verbatimSymlinks: true,
            filter: (s) => step.from !== undefined || !context.ignored(path.relative(ROOT, s).split(path.sep).join('/')),
          })
        }
        continue
      }
      const cwd = inRoot(root, step.workdir)
      fs.mkdirSync(cwd, { recursive: true })
      if (/^npm ci\b/.test(step.command) && !/\s--omit=dev(\s|$)/.test(step.command)) {
        fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(cwd, 'node_modules'))
      } else if (/^npm (ci|run build)\b/.test(step.command)) {
        execFileSync('/bin/sh', ['-c', step.command], {
          cwd,
          stdio: ['ignore', 'pipe', 'pipe'],
          env: {
            PATH: process.env.PATH,
            HOME: process.env.HOME,
            ...(process.env.npm_config_cache !== undefined ? { npm_config_cache: process.env.npm_config_cache } : {}),
            npm_config_offline: 'true',
            npm_config_update_notifier: 'false',
          },
        })
      } else {
        assert.fail(`Dockerfile:${step.line}: RUN ${step.command}: test/image.test.ts does not know what this does; teach layOut()`)
      }
    }
  }
  return stageRoot(dir, df.runtime.name)
}

/** Whether `port` is free on every address, as the CMD's empty host needs it. */
async function portFree (port: number): Promise<boolean> {
  const server = net.createServer()
  return await new Promise((resolve) => {
    server.once('error', () => resolve(false))
    server.listen({ port, host: '::', ipv6Only: false }, () => server.close(() => resolve(true)))
  })
}

async function freePort (): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen({ port: 0, host: '::', ipv6Only: false }, resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** unshare(1) can make a PID namespace here (it needs root, or user namespaces, which this does not ask for). */
function canUnshare (): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false
  try {
    execFileSync('unshare', ['--pid', '--fork', '--mount-proc', 'true'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** The host pid of unshare's forked child (PID 1 of the new namespace), once it exists. */
async function namespaceInit (unsharePid: number): Promise<number> {
  let pid = 0
  await eventually(async () => {
    const tasks = fs.readdirSync(`/proc/${unsharePid}/task`)
    const children = tasks.flatMap((t) => fs.readFileSync(`/proc/${unsharePid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter((c) => c !== ''))
    assert.equal(children.length, 1, 'unshare has forked its child')
    pid = Number(children[0])
    // The child has exec'd node (before that it is still a copy of unshare).
    assert.equal(fs.readlinkSync(`/proc/${pid}/exe`), fs.realpathSync(process.execPath))
  }, 10_000)
  return pid
}

describe('the image\'s ENTRYPOINT and CMD, run on the laid-out runtime stage', () => {
  test('serve on 127.0.0.1 and [::1], probe themselves as job self, and as PID 1 exit 0 on SIGTERM', async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sg-image-'))
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
    const root = layOut(image, dir)
    const workdir = inRoot(root, runtime.workdir)
    for (const dev of Object.keys(PKG.devDependencies)) {
      assert.equal(fs.existsSync(path.join(workdir, 'node_modules', dev)), false, `the runtime stage holds the dev dependency ${dev}`)
    }

    // The command exactly as the image runs it, but for two things. `node` is
    // the Node running this test (the image's is Node 22; CI runs this file on
    // 20 and 22). Arguments that are absolute image paths (the CMD's
    // --config.file) point into the laid-out root. The listen address stays
    // as the CMD has it, unless its port is taken on this machine (a gateway
    // left running by `npm start`): then it moves to a free port, and so do
    // the self job's targets in the laid-out copy of the config, so the probe
    // below still reaches the gateway itself.
    const [bin, ...rest] = [...runtime.entrypoint ?? [], ...cmd]
    assert.equal(bin, 'node')
    let args = rest.map((a) => a.replace(/^(--[\w.-]+=)?(\/.*)$/, (whole, prefix: string | undefined, p: string) =>
      fs.existsSync(inRoot(root, p)) ? `${prefix ?? ''}${inRoot(root, p)}` : whole))
    const configFile = flag(args, 'config.file') as string
    assert.equal(configFile, inRoot(root, CMD_CONFIG as string))
    let port = listenPort(CMD_LISTEN as string)
    if (!(await portFree(port))) {
      const moved = await freePort()
      t.diagnostic(`port ${port} is taken here: the gateway listens on :${moved} and job self's targets move with it`)
      args = args.map((a) => a === `--web.listen-address=${CMD_LISTEN as string}` ? `--web.listen-address=:${moved}` : a)
      const doc = YAML.parseDocument(fs.readFileSync(configFile, 'utf8'))
      const jobs = doc.toJS() as ImageConfig
      const i = jobs.scrape_configs.findIndex((j) => j.job_name === 'self')
      doc.setIn(['scrape_configs', i, 'static_configs'], [{ targets: [`localhost:${moved}`, `127.0.0.1:${moved}`] }])
      fs.writeFileSync(configFile, doc.toString())
      port = moved
    }
    const jobs = (YAML.parse(fs.readFileSync(configFile, 'utf8')) as ImageConfig).scrape_configs.length

    const pid1 = canUnshare()
    assert.ok(pid1 || process.env.CI !== 'true', 'CI runs as root, where unshare --pid must work')
    if (!pid1) t.diagnostic('unshare --pid is not available (it needs root): the gateway runs as an ordinary process, so its SIGTERM handler is tested but not as PID 1')
    // The image's environment (its ENV), and PATH for unshare; nothing of this process's.
    const env = { ...Object.fromEntries(runtime.env), PATH: process.env.PATH }
    const argv = pid1 ? ['unshare', '--pid', '--fork', '--mount-proc', '--', process.execPath, ...args] : [process.execPath, ...args]
    const child = spawn(argv[0] as string, argv.slice(1), { cwd: workdir, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d })
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
    const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })))
    const gateway = pid1 ? await namespaceInit(child.pid as number) : child.pid as number
    t.after(() => {
      // Only what this test started, by pid: the gateway, then unshare.
      for (const pid of [gateway, child.pid as number]) {
        try { process.kill(pid, 'SIGKILL') } catch { /* already gone */ }
      }
    })
    if (pid1) {
      const nspid = /^NSpid:\s+(.*)$/m.exec(fs.readFileSync(`/proc/${gateway}/status`, 'utf8'))?.[1]?.split(/\s+/)
      assert.equal(nspid?.at(-1), '1', 'the gateway is PID 1 of its namespace')
    }

    const v4 = `http://127.0.0.1:${port}`
    const v6 = `http://[::1]:${port}`
    await eventually(async () => {
      assert.equal(child.exitCode, null, `the gateway exited early: ${stderr}`)
      assert.equal((await get(`${v4}/-/ready`)).status, 200)
    }, 20_000)
    for (const base of [v4, v6]) {
      for (const endpoint of ['/-/healthy', '/-/ready']) {
        const r = await get(`${base}${endpoint}`)
        assert.equal(r.status, 200, `${base}${endpoint}: ${r.error ?? r.body.toString()}`)
      }
    }
    for (const target of [`localhost:${port}`, `127.0.0.1:${port}`]) {
      const r = await get(`${v4}/probe?job=self&target=${encodeURIComponent(target)}`)
      assert.equal(r.status, 200, `${target}: ${r.body.toString()}`)
      assert.match(r.body.toString(), new RegExp(`^scrape_gateway_jobs ${jobs}$`, 'm'))
    }

    process.kill(gateway, 'SIGTERM')
    const exit = await exited
    assert.deepEqual(exit, { code: 0, signal: null }, stderr)
    const lines = stdout.trim().split('\n').map(logFields)
    assert.equal(lines.find((l) => l.msg === 'scrape-gateway started')?.config, configFile, stdout)
    assert.equal(lines.find((l) => l.msg === 'shutting down')?.signal, 'SIGTERM', stdout)
  })
})
