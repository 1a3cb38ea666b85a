// N copies of one server program behind one listening port, for the bench's
// --gateway-processes: how far the gateway's throughput grows with processes
// on one machine, without a flag in the gateway. Each process runs the
// program exactly as the single-process peer does (same node flags, same
// arguments, same --web.listen-address); only the port is shared:
//
// - cluster:    node:cluster with SCHED_NONE. The launcher is the cluster
//               primary: it binds the one listening socket and hands it to
//               every worker, and the kernel gives each new connection to
//               whichever worker accepts first. Connections never pass
//               through the primary (SCHED_RR would accept every one there
//               and send it on over IPC). Node 20 and 22.
// - cluster-rr: node:cluster with SCHED_RR, Node's default on Linux: the
//               primary accepts and deals connections out in turn.
// - reuseport:  N plain processes, each binding its own socket with
//               SO_REUSEPORT (listen's reusePort, Node >= 22.12 / 23.1; added
//               by the reuse-port.mjs preload, since the gateway has no such
//               flag), and the kernel hashes each new connection to one of
//               them. The launcher only starts and stops them.
//
// A plain .mjs run by the gateway's own node binary (no tsx), so that the
// launcher, counted with its workers, weighs what a bare node process does.
//
//   node launcher.mjs '{"processes":2,"sharing":"cluster","execArgv":[…],"main":"dist/src/main.js",
//                      "args":[…],"logPrefix":"DIR/gateway-1","readyFile":"DIR/gateway-1.ready.json"}'
//
// Each process writes stdout and stderr to LOGPREFIX.process-I.log, as the
// single process writes to its own log. Once every process listens, the
// launcher writes READYFILE: {"pids":[…]}. A process that exits while the
// launcher is not stopping makes the launcher stop the others and exit 1: a
// peer that lost a process must not be measured as if it had them all.
// SIGTERM or SIGINT: each process gets SIGTERM (once: the gateway stops
// gracefully on the first and dies on a second), and the launcher exits when
// they have.
import cluster from 'node:cluster'
import { fork } from 'node:child_process'
import { closeSync, openSync, renameSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const SHARINGS = ['cluster', 'cluster-rr', 'reuseport']
const spec = JSON.parse(process.argv[2] ?? '{}')
if (!Number.isInteger(spec.processes) || spec.processes < 1 || !SHARINGS.includes(spec.sharing) || typeof spec.main !== 'string' ||
  !Array.isArray(spec.args) || !Array.isArray(spec.execArgv) || typeof spec.logPrefix !== 'string' || typeof spec.readyFile !== 'string') {
  process.stderr.write(`launcher: bad spec ${process.argv[2]}\n`)
  process.exit(2)
}

/** Node >= 22.12 on the 22 line, >= 23.1 after it: where listen() knows reusePort. */
function hasReusePort () {
  const [major, minor] = process.versions.node.split('.').map(Number)
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12)
}

if (spec.sharing === 'reuseport' && !hasReusePort()) {
  // Older nodes ignore the option: the second process would fail with EADDRINUSE, or worse, not be asked.
  process.stderr.write(`launcher: reuseport needs listen's reusePort (node >= 22.12 or >= 23.1); this is node ${process.version}\n`)
  process.exit(2)
}

const say = (s) => process.stderr.write(`launcher: ${s}\n`)

/** What each started process is: its index (1-based), pid, and whether it has exited. */
const procs = []
const listening = new Set()
let stopping = false

function writeReady () {
  const tmp = `${spec.readyFile}.tmp`
  writeFileSync(tmp, JSON.stringify({ pids: procs.map((p) => p.pid) }) + '\n')
  renameSync(tmp, spec.readyFile)
}

function onListening (index) {
  if (listening.has(index)) return
  listening.add(index)
  if (listening.size === spec.processes) writeReady()
}

function onExit (p, code, signal) {
  p.exited = true
  if (!stopping) {
    say(`process ${p.index} (pid ${p.pid}) exited (${signal ?? `code ${code}`}), see ${logOf(p.index)}; stopping the others`)
    stop(1)
    return
  }
  if (procs.every((q) => q.exited)) process.exit(process.exitCode ?? 0)
}

const logOf = (index) => `${spec.logPrefix}.process-${index}.log`

/** stdout and stderr to the process's own log file; the IPC channel cluster and the preload need. */
function stdioOf (index) {
  const fd = openSync(logOf(index), 'a')
  return { fd, stdio: ['ignore', fd, fd, 'ipc'] }
}

function startCluster () {
  // Frozen at the first setupPrimary() or fork(): set before both.
  cluster.schedulingPolicy = spec.sharing === 'cluster' ? cluster.SCHED_NONE : cluster.SCHED_RR
  cluster.on('listening', (worker) => onListening(worker.id))
  for (let index = 1; index <= spec.processes; index++) {
    const { fd, stdio } = stdioOf(index)
    cluster.setupPrimary({ exec: spec.main, args: spec.args, execArgv: spec.execArgv, stdio })
    const worker = cluster.fork()
    closeSync(fd)
    // cluster numbers workers from 1 in fork order: worker.id is the index.
    const p = { index: worker.id, pid: worker.process.pid, exited: false, kill: (sig) => worker.process.kill(sig) }
    procs.push(p)
    worker.process.once('exit', (code, signal) => onExit(p, code, signal))
  }
}

function startReusePort () {
  const preload = fileURLToPath(new URL('./reuse-port.mjs', import.meta.url))
  for (let index = 1; index <= spec.processes; index++) {
    const { fd, stdio } = stdioOf(index)
    const child = fork(spec.main, spec.args, { execArgv: [...spec.execArgv, '--import', preload], stdio })
    closeSync(fd)
    const p = { index, pid: child.pid, exited: false, kill: (sig) => child.kill(sig) }
    procs.push(p)
    child.on('message', (m) => { if (m?.benchListening === true) onListening(index) })
    child.once('exit', (code, signal) => onExit(p, code, signal))
  }
}

function stop (code) {
  if (stopping) return
  stopping = true
  process.exitCode = code
  for (const p of procs) {
    if (!p.exited) p.kill('SIGTERM')
  }
  if (procs.every((p) => p.exited)) process.exit(code)
  // The bench stops the launcher's whole process group after its own grace period; this is for a launcher stopped alone.
  setTimeout(() => {
    for (const p of procs) if (!p.exited) p.kill('SIGKILL')
    process.exit(code)
  }, 5000).unref()
}

// The bench signals the whole process group: the workers have the SIGTERM already, and a second one
// would cut their graceful stop short. Forward it only to those still up after a moment (a launcher
// stopped on its own).
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    if (stopping) return
    stopping = true
    process.exitCode = 0
    if (procs.every((p) => p.exited)) process.exit(0)
    setTimeout(() => { stopping = false; stop(0) }, 1000).unref()
  })
}

if (spec.sharing === 'reuseport') startReusePort()
else startCluster()
