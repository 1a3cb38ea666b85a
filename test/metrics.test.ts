// The gateway's own /metrics: promtool's lint is clean on a real gateway,
// build_info says what runs, the runtime families are the chosen ones, and
// the certificate-expiry gauge appears, updates and goes stale. Every
// assertion reads a real scrape over HTTP.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { X509Certificate } from 'node:crypto'
import os from 'node:os'
import path from 'node:path'
import { PerformanceObserver } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { GatewayMetrics } from '../src/metrics.js'
import { REVISION_ENV, gitCommit, revisionOf } from '../src/version.js'
import { startGateway } from './helpers/gateway.js'
import { get } from './helpers/client.js'
import { eventually } from './helpers/eventually.js'
import { metricsHandler, refusedPort, startHttpTarget, startHttpsTarget, type Target } from './helpers/targets.js'
import { createCa } from './helpers/pki.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/** Debian's prometheus package ships it; CI installs that package (.ci/run). */
const PROMTOOL = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p))
const SKIP_PROMTOOL = PROMTOOL === undefined && process.env.CI !== 'true' ? 'no promtool (apt-get install prometheus)' : false

/** `promtool check metrics` on an exposition: its exit status and everything it printed. */
function promtoolCheck (exposition: string): { status: number | null, output: string } {
  if (PROMTOOL === undefined) throw new Error('no promtool (apt-get install prometheus)')
  const run = spawnSync(PROMTOOL, ['check', 'metrics'], { input: exposition, encoding: 'utf8' })
  return { status: run.status, output: run.stdout + run.stderr }
}

/** A sample line's name, labels (as written) and value. */
interface Sample { name: string, labels: string, value: number }

function samples (exposition: string): Sample[] {
  return exposition.split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((line) => {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line)
    assert.ok(m, `not a sample line: ${line}`)
    return { name: m[1] as string, labels: m[2] ?? '', value: Number(m[3]) }
  })
}

/** Each family's TYPE. */
function types (exposition: string): Map<string, string> {
  return new Map([...exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1] as string, m[2] as string]))
}

/** The value of one series, or undefined when the scrape has none. */
function value (exposition: string, name: string, labels = ''): number | undefined {
  return samples(exposition).find((s) => s.name === name && s.labels === labels)?.value
}

/** GatewayMetrics behind a real /metrics, as src/routes/ops.ts serves it. */
async function serve (metrics: GatewayMetrics, onScrape?: () => void): Promise<{ target: Target, scrape: () => Promise<string> }> {
  const target = await startHttpTarget((_req, res) => {
    onScrape?.()
    void metrics.registry.metrics().then((body) => {
      res.setHeader('content-type', metrics.registry.contentType)
      res.end(body)
    })
  })
  const scrape = async (): Promise<string> => {
    const seen = await get(`${target.url}/metrics`)
    assert.equal(seen.status, 200)
    return seen.body.toString()
  }
  return { target, scrape }
}

const RUNTIME_FAMILIES = [
  'process_cpu_user_seconds_total', 'process_cpu_system_seconds_total', 'process_cpu_seconds_total',
  'process_start_time_seconds', 'process_resident_memory_bytes', 'process_open_fds', 'process_max_fds',
  'nodejs_heap_size_total_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_external_memory_bytes',
  'nodejs_eventloop_lag_p50_seconds', 'nodejs_eventloop_lag_p90_seconds', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_eventloop_lag_max_seconds',
  'nodejs_active_resources', 'nodejs_gc_runs_total', 'nodejs_gc_duration_seconds_total',
]

const GATEWAY_FAMILIES = [
  'scrape_gateway_probes_total', 'scrape_gateway_probe_duration_seconds', 'scrape_gateway_probe_body_bytes_total',
  'scrape_gateway_probes_in_flight', 'scrape_gateway_config_last_reload_successful',
  'scrape_gateway_config_last_reload_success_timestamp_seconds', 'scrape_gateway_jobs', 'scrape_gateway_build_info',
  'scrape_gateway_target_tls_not_after_seconds',
]

/** What a real gateway's /metrics says after a probe that succeeded and one that failed. */
async function gatewayMetrics (t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const target = await startHttpTarget(metricsHandler('# TYPE up gauge\nup 1\n'))
  const refused = `127.0.0.1:${await refusedPort()}`
  const gw = await startGateway(`
scrape_configs:
  - job_name: node
    static_configs: [{ targets: ['${target.host}', '${refused}'] }]
`)
  t.after(async () => { await gw.close(); await target.close() })
  assert.equal((await gw.probe('node', target.host)).status, 200)
  assert.equal((await gw.probe('node', refused)).status, 502)
  let text = ''
  await eventually(async () => {
    const seen = await get(`${gw.url}/metrics`)
    assert.equal(seen.status, 200)
    text = seen.body.toString()
    assert.equal(value(text, 'scrape_gateway_probes_total', '{job="node",result="success"}'), 1)
    assert.equal(value(text, 'scrape_gateway_probes_total', '{job="node",result="SG_UPSTREAM_CONNECT"}'), 1)
  })
  return text
}

test('promtool check metrics is clean on a real gateway\'s /metrics', { skip: SKIP_PROMTOOL }, async (t) => {
  const text = await gatewayMetrics(t)
  const checked = promtoolCheck(text)
  assert.deepEqual(checked, { status: 0, output: '' })
  // The check sees what it is given: the same scrape with one gauge named like a counter fails it.
  const spoiled = promtoolCheck(text + '# HELP spoiled_total A gauge that promtool refuses.\n# TYPE spoiled_total gauge\nspoiled_total 1\n')
  assert.notEqual(spoiled.status, 0)
  assert.match(spoiled.output, /spoiled_total non-counter metrics should not have "_total" suffix/)
})

test('/metrics holds the gateway\'s families and the chosen runtime ones, typed as their names say', async (t) => {
  const text = await gatewayMetrics(t)
  const typed = types(text)
  const expected = [...GATEWAY_FAMILIES, ...RUNTIME_FAMILIES.filter((f) => process.platform === 'linux' || !f.includes('_fds'))]
  assert.deepEqual([...typed.keys()].sort(), expected.sort())
  // promtool's rule, checked here too where there is no promtool: counters end in _total, nothing else does.
  for (const [name, type] of typed) assert.equal(name.endsWith('_total'), type === 'counter', `${name} is a ${type}`)
  // Each family has a sample, apart from those whose labels come with an
  // event: no TLS target was probed, and a young process may not have
  // collected garbage yet.
  const waiting = ['scrape_gateway_target_tls_not_after_seconds', 'nodejs_gc_runs_total', 'nodejs_gc_duration_seconds_total']
  const sampled = new Set(samples(text).map((s) => s.name.replace(/_(bucket|sum|count)$/, '')))
  for (const name of expected.filter((f) => !waiting.includes(f))) assert.ok(sampled.has(name), `${name} has no sample`)
  assert.ok((value(text, 'process_open_fds') ?? 0) > 0 || process.platform !== 'linux')
  assert.ok((value(text, 'process_cpu_seconds_total') ?? 0) > 0)
})

test('scrape_gateway_build_info says the version, the commit and the Node.js that runs', async (t) => {
  const text = await gatewayMetrics(t)
  const info = samples(text).filter((s) => s.name === 'scrape_gateway_build_info')
  assert.equal(info.length, 1)
  assert.equal(info[0]?.value, 1)
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }
  // The commit as git itself tells it (safe.directory: the checkout may belong to another user).
  const given = process.env[REVISION_ENV]?.trim() ?? ''
  const git = spawnSync('git', ['-c', 'safe.directory=*', '-C', ROOT, 'rev-parse', '--show-toplevel', 'HEAD'], { encoding: 'utf8' })
  const [top, head] = git.status === 0 ? git.stdout.trim().split('\n') : []
  // Only a .git at the package's root counts (src/version.ts).
  const revision = given !== '' ? given : top === ROOT && head !== undefined ? head : 'unknown'
  assert.equal(info[0]?.labels, `{version="${pkg.version}",revision="${revision}",nodejs_version="${process.version}"}`)
})

test('the certificate gauge: a series appears, updates, and drops after its stale window', async (t) => {
  let now = 1_000
  const metrics = new GatewayMetrics({ now: () => now })
  const { target, scrape } = await serve(metrics)
  t.after(async () => { await target.close() })
  const name = 'scrape_gateway_target_tls_not_after_seconds'
  const staleAfterMs = 10 * 15_000 // ten 15 s scrape intervals
  const expiry = Date.UTC(2031, 0, 1) / 1000

  assert.equal(samples(await scrape()).filter((s) => s.name === name).length, 0)
  metrics.observeTargetCertificate('kube', '10.0.0.7:8443', expiry, staleAfterMs)
  metrics.observeTargetCertificate('kube', '[::1]:8443', expiry + 1, staleAfterMs)
  let text = await scrape()
  assert.equal(value(text, name, '{job="kube",target="10.0.0.7:8443"}'), expiry)
  assert.equal(value(text, name, '{job="kube",target="[::1]:8443"}'), expiry + 1)

  // A renewed certificate: the same series takes the new value.
  now += 60_000
  metrics.observeTargetCertificate('kube', '10.0.0.7:8443', expiry + 86_400, staleAfterMs)
  text = await scrape()
  assert.equal(samples(text).filter((s) => s.name === name).length, 2)
  assert.equal(value(text, name, '{job="kube",target="10.0.0.7:8443"}'), expiry + 86_400)

  // [::1] was last seen at 1000: there until 1000 + window, gone from then on.
  now = 1_000 + staleAfterMs - 1
  assert.equal(value(await scrape(), name, '{job="kube",target="[::1]:8443"}'), expiry + 1)
  now = 1_000 + staleAfterMs
  text = await scrape()
  assert.equal(value(text, name, '{job="kube",target="[::1]:8443"}'), undefined)
  assert.equal(value(text, name, '{job="kube",target="10.0.0.7:8443"}'), expiry + 86_400)
  now = 61_000 + staleAfterMs
  assert.equal(samples(await scrape()).filter((s) => s.name === name).length, 0)

  // Not a number: nothing is recorded.
  metrics.observeTargetCertificate('kube', '10.0.0.8:8443', Number.NaN, staleAfterMs)
  assert.equal(samples(await scrape()).filter((s) => s.name === name).length, 0)

  if (SKIP_PROMTOOL === false) {
    metrics.observeTargetCertificate('kube', '10.0.0.7:8443', expiry, staleAfterMs)
    assert.deepEqual(promtoolCheck(await scrape()), { status: 0, output: '' })
  }
})

test('a certificate series never observed again leaves memory, not only the exposition', async (t) => {
  let now = 0
  const metrics = new GatewayMetrics({ now: () => now })
  const { target, scrape } = await serve(metrics)
  t.after(async () => { await target.close() })
  const name = 'scrape_gateway_target_tls_not_after_seconds'
  metrics.observeTargetCertificate('kube', 'old:443', 100, 1_000)
  // Another target of the job is probed after old's window, and nothing scraped in between.
  now = 5_000
  metrics.observeTargetCertificate('kube', 'new:443', 200, 1_000)
  // The test's clock may go back (the gateway's cannot): a series only
  // hidden at scrape time would be back now; one dropped from memory is not.
  now = 0
  const text = await scrape()
  assert.equal(value(text, name, '{job="kube",target="old:443"}'), undefined)
  assert.equal(value(text, name, '{job="kube",target="new:443"}'), 200)
})

test('a reload that shortens a job\'s interval: its new window holds at once', async (t) => {
  let now = 0
  const metrics = new GatewayMetrics({ now: () => now })
  const { target, scrape } = await serve(metrics)
  t.after(async () => { await target.close() })
  const name = 'scrape_gateway_target_tls_not_after_seconds'
  metrics.observeTargetCertificate('kube', 'a:443', 1, 10 * 60_000) // scrape_interval 1m: stale at 600000
  now = 1_000
  metrics.observeTargetCertificate('kube', 'b:443', 2, 10 * 3_000) // reloaded to 3s: stale at 31000
  now = 31_000
  const text = await scrape()
  assert.equal(value(text, name, '{job="kube",target="b:443"}'), undefined)
  assert.equal(value(text, name, '{job="kube",target="a:443"}'), 1)
})

test('forgetJobsExcept drops the certificate series of jobs gone from the config', async (t) => {
  const metrics = new GatewayMetrics({ now: () => 0 })
  const { target, scrape } = await serve(metrics)
  t.after(async () => { await target.close() })
  const name = 'scrape_gateway_target_tls_not_after_seconds'
  metrics.observeTargetCertificate('kept', 'a:443', 1, 60_000)
  metrics.observeTargetCertificate('removed', 'b:443', 2, 60_000)
  metrics.forgetJobsExcept(['kept', 'never-probed'])
  const text = await scrape()
  assert.deepEqual(samples(text).filter((s) => s.name === name).map((s) => s.labels), ['{job="kept",target="a:443"}'])
})

test('every garbage collection is counted, also when node reports several at once', async (t) => {
  const metrics = new GatewayMetrics()
  let observed = 0
  let largestBatch = 0
  let observedAtScrape = 0
  const observer = new PerformanceObserver((list) => {
    observed += list.getEntries().length
    largestBatch = Math.max(largestBatch, list.getEntries().length)
  })
  observer.observe({ entryTypes: ['gc'] })
  // The scrape and the test's count are read in the same turn: both observers hear of a collection in one.
  const { target, scrape } = await serve(metrics, () => { observedAtScrape = observed })
  t.after(async () => { observer.disconnect(); await target.close() })
  const runs = (text: string): number => samples(text).filter((s) => s.name === 'nodejs_gc_runs_total').reduce((sum, s) => sum + s.value, 0)

  const before = runs(await scrape())
  const observedBefore = observedAtScrape
  // Garbage within single turns, until a turn has several collections
  // (about 50 MB a turn; the young generation is 16 to 32 MiB by default).
  for (let turn = 0; turn < 40; turn++) {
    if (largestBatch > 1) break // the observer's callback has seen a turn of several
    let garbage: unknown[][] = []
    for (let i = 0; i < 100_000; i++) garbage.push(new Array(64).fill(i))
    garbage = []
    await new Promise((resolve) => setImmediate(resolve))
  }
  const after = runs(await scrape())
  assert.ok(largestBatch > 1, 'no turn had more than one collection: the test proves nothing')
  assert.equal(after - before, observedAtScrape - observedBefore)
})

test('event-loop delay: a blocked loop shows in the maximum since the previous scrape', async (t) => {
  const metrics = new GatewayMetrics()
  const { target, scrape } = await serve(metrics)
  t.after(async () => { await target.close() })
  await scrape()
  await new Promise((resolve) => setTimeout(resolve, 30))
  const until = Date.now() + 300
  while (Date.now() < until) { /* blocks the loop */ }
  await new Promise((resolve) => setTimeout(resolve, 30))
  const text = await scrape()
  assert.ok((value(text, 'nodejs_eventloop_lag_max_seconds') ?? 0) >= 0.25, text)
  for (const p of [50, 90, 99]) assert.ok((value(text, `nodejs_eventloop_lag_p${p}_seconds`) ?? -1) >= 0)
})

/** A git repository made by git itself, with one commit. */
function gitRepo (): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sg-git-'))
  const git = (...args: string[]): string => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'init.defaultBranch=main', ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' } }).trim()
  git('init', '-q')
  writeFileSync(path.join(dir, 'f'), 'x')
  git('add', 'f')
  git('commit', '-q', '-m', 'one')
  return dir
}

const NO_GIT = spawnSync('git', ['--version']).status !== 0 && process.env.CI !== 'true' ? 'no git' : false

test('the revision is read from .git as git reads it: branch, packed refs, detached HEAD, worktree', { skip: NO_GIT }, () => {
  const dir = gitRepo()
  const git = (...args: string[]): string => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' } }).trim()
  const first = git('rev-parse', 'HEAD')
  assert.equal(gitCommit(dir), first) // a loose ref
  git('pack-refs', '--all')
  assert.equal(existsSync(path.join(dir, '.git', 'refs', 'heads', 'main')), false)
  assert.equal(gitCommit(dir), first) // from packed-refs
  writeFileSync(path.join(dir, 'f'), 'y')
  git('commit', '-q', '-am', 'two')
  const second = git('rev-parse', 'HEAD')
  assert.notEqual(second, first)
  assert.equal(gitCommit(dir), second) // a loose ref again, beside the packed one it overrides
  git('checkout', '-q', '--detach', first)
  assert.equal(gitCommit(dir), first) // detached
  git('checkout', '-q', 'main')
  const tree = path.join(mkdtempSync(path.join(os.tmpdir(), 'sg-git-tree-')), 'wt')
  git('worktree', 'add', '-q', '-b', 'side', tree, first)
  assert.equal(gitCommit(tree), first) // .git is a file; the branch lives in the main repository
  assert.equal(gitCommit(dir), second)
})

test('the revision: the environment first, then .git, then unknown; a broken .git is no answer', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sg-git-made-'))
  assert.equal(revisionOf({}, dir), 'unknown')
  assert.equal(revisionOf({ [REVISION_ENV]: ' 0123abc \n' }, dir), '0123abc')
  const id = 'a'.repeat(40)
  mkdirSync(path.join(dir, '.git', 'refs', 'heads'), { recursive: true })
  writeFileSync(path.join(dir, '.git', 'HEAD'), 'ref: refs/heads/main\n')
  assert.equal(revisionOf({ [REVISION_ENV]: '   ' }, dir), 'unknown') // blank is unset; the branch has no commit yet
  writeFileSync(path.join(dir, '.git', 'packed-refs'), `# pack-refs with: peeled fully-peeled sorted\n${'b'.repeat(40)} refs/heads/mainline\n${id} refs/heads/main\n^${'c'.repeat(40)}\n`)
  assert.equal(revisionOf({ [REVISION_ENV]: '' }, dir), id)
  // A symbolic ref to a symbolic ref, within git's depth.
  writeFileSync(path.join(dir, '.git', 'HEAD'), 'ref: refs/heads/alias\n')
  writeFileSync(path.join(dir, '.git', 'refs', 'heads', 'alias'), 'ref: refs/heads/main\n')
  assert.equal(gitCommit(dir), id)
  // A SHA-256 repository's ids.
  writeFileSync(path.join(dir, '.git', 'HEAD'), `${'d'.repeat(64)}\n`)
  assert.equal(gitCommit(dir), 'd'.repeat(64))
  // Names that lead out of the repository, and what is not an id, are no answer.
  writeFileSync(path.join(dir, 'outside'), `${id}\n`)
  for (const head of ['ref: refs/../../outside\n', 'ref: /etc/passwd\n', 'not a commit\n', '']) {
    writeFileSync(path.join(dir, '.git', 'HEAD'), head)
    assert.equal(gitCommit(dir), undefined, JSON.stringify(head))
  }
  // A loop of symbolic refs ends.
  writeFileSync(path.join(dir, '.git', 'HEAD'), 'ref: refs/heads/alias\n')
  writeFileSync(path.join(dir, '.git', 'refs', 'heads', 'main'), 'ref: refs/heads/alias\n')
  assert.equal(gitCommit(dir), undefined)
  // A root that is not a directory (stat fails with ENOTDIR, not ENOENT).
  assert.equal(gitCommit(path.join(dir, 'outside')), undefined)
  // A .git file that points nowhere.
  const pointer = mkdtempSync(path.join(os.tmpdir(), 'sg-git-file-'))
  writeFileSync(path.join(pointer, '.git'), 'gitdir: ../does-not-exist\n')
  assert.equal(gitCommit(pointer), undefined)
})

test('a TLS probe sets scrape_gateway_target_tls_not_after_seconds{job,target} to the target leaf\'s notAfter; a plain one sets none', async (t) => {
  const ca = createCa('metrics cert CA')
  const leaf = ca.issue({ cn: 'metrics cert target', days: 12 })
  const secure = await startHttpsTarget(leaf, metricsHandler('cert_target_up 1\n'))
  const plain = await startHttpTarget(metricsHandler('plain_target_up 1\n'))
  const gw = await startGateway(`
scrape_configs:
  - job_name: tls
    scheme: https
    tls_config: { ca_file: ${ca.certFile} }
    static_configs: [{ targets: ['${secure.host}'] }]
  - job_name: plain
    static_configs: [{ targets: ['${plain.host}'] }]
`)
  t.after(async () => {
    await gw.close()
    await secure.close()
    await plain.close()
    rmSync(path.dirname(ca.certFile), { recursive: true, force: true })
  })
  assert.equal((await gw.probe('tls', secure.host)).status, 200)
  assert.equal((await gw.probe('plain', plain.host)).status, 200)
  const expected = Math.floor(Date.parse(new X509Certificate(leaf.cert).validTo) / 1000)
  await eventually(async () => {
    const text = await (await fetch(`${gw.url}/metrics`)).text()
    const lines = text.split('\n').filter((l) => l.startsWith('scrape_gateway_target_tls_not_after_seconds{'))
    assert.deepEqual(lines, [`scrape_gateway_target_tls_not_after_seconds{job="tls",target="${secure.host}"} ${expected}`])
  })
})
