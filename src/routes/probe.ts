// GET /probe?job=J&target=T: the gateway's one real route. `module=J` is
// taken for `job=J`, as the Prometheus Operator's Probe sends it, and a target
// may be a URL that names what the job scrapes anyway (an Operator Ingress
// target). With `debug=true` the probe runs exactly as without (same checks,
// caps, client and limits), its body is read and dropped, and the answer is
// the probe's record as text (src/report/text.ts), 200 whatever the outcome,
// as blackbox_exporter's debug=true answers. What is refused before a probe
// starts (a bad parameter, an unknown job, a target the policy refuses, a
// full gateway) keeps its status and one-line error: there is no probe to
// report on, and the line says all there is.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Errors } from '../errors.js'
import { targetOfUrl } from '../config/target.js'
import type { JobConfig } from '../config/types.js'
import type { GatewayState } from '../state.js'
import type { GatewayMetrics } from '../metrics.js'
import { Probe } from '../scrape/probe.js'
import { renderReport } from '../report/text.js'
import { acceptsGzip } from '../scrape/accept-encoding.js'
import { effectiveTimeout, TIMEOUT_HEADER } from '../scrape/timeout.js'
import type { RecentProbes } from '../recent-probes.js'
import { refuseOtherMethods } from './methods.js'

export interface ProbeRouteOptions {
  state: GatewayState
  metrics: GatewayMetrics
  /** Subtracted from the caller's scrape timeout header, like blackbox_exporter's --timeout-offset. */
  timeoutOffsetMs: number
  /** Probes in flight at most: every probe holds sockets and buffers, so their number is bounded too. */
  maxConcurrentProbes: number
  /**
   * Probes of one job in flight at most, unless the job sets max_concurrent_probes:
   * below the global cap, so one job's hanging targets cannot take every slot.
   */
  maxConcurrentProbesPerJob: number
  /** Where each finished probe's record goes, for the status page (debug ones too: they are probes, counted as any other). */
  recent: RecentProbes
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set once job and target are known, so error lines and logs can name them. */
    probe?: { job: string, target: string }
  }
}

/** A parameter given at most once; undefined when absent or empty. */
function optionalParam (query: Record<string, unknown>, name: string): string | undefined {
  const v = query[name]
  if (v === undefined || v === '') return undefined
  if (typeof v !== 'string') throw new Errors.BAD_PARAM(`${name} parameter must be given once`)
  return v
}

/**
 * The job's name: `job`, or `module` as the Prometheus Operator's Probe sends
 * it (blackbox_exporter's name for the same thing). Both given and different
 * is refused: which one was meant cannot be guessed.
 */
function jobParam (query: Record<string, unknown>): string {
  const job = optionalParam(query, 'job')
  const module = optionalParam(query, 'module')
  if (job !== undefined && module !== undefined && job !== module) {
    throw new Errors.BAD_PARAM(`job ${JSON.stringify(job)} and module ${JSON.stringify(module)} differ: module is another name for job; give one`)
  }
  const name = job ?? module
  if (name === undefined) throw new Errors.BAD_PARAM('Job parameter is missing')
  return name
}

function targetParam (query: Record<string, unknown>): string {
  const target = optionalParam(query, 'target')
  if (target === undefined) throw new Errors.BAD_PARAM('Target parameter is missing')
  return target
}

/** The host[:port] a target names: itself, or the one inside a URL the job would scrape anyway (src/config/target.ts). */
function hostPort (target: string, job: JobConfig): string {
  try {
    return targetOfUrl(target, job.scheme, job.metricsPath) ?? target
  } catch (err) {
    throw new Errors.BAD_TARGET((err as Error).message)
  }
}

/** `debug`: absent or `false` is a normal probe, `true` a debug report; anything else is refused. */
function debugParam (query: Record<string, unknown>): boolean {
  const v = query.debug
  if (v === undefined || v === 'false') return false
  if (v === 'true') return true
  if (typeof v !== 'string') throw new Errors.BAD_PARAM('debug parameter must be given once')
  throw new Errors.BAD_PARAM(`debug parameter must be true or false, got ${JSON.stringify(v)}`)
}

function headerString (v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v
}

export async function probeRoute (app: FastifyInstance, opts: ProbeRouteOptions): Promise<void> {
  const { state, metrics, timeoutOffsetMs, maxConcurrentProbes, maxConcurrentProbesPerJob, recent } = opts
  let inFlight = 0
  // Keyed by job name, not held in the compiled job: a probe started before a
  // reload still holds its sockets after it, so it keeps counting against the
  // job of the same name (whose cap is read from the config current at each
  // admission). An entry is removed at 0, so jobs dropped by a reload leave nothing.
  const inFlightByJob = new Map<string, number>()

  // Fastify would answer HEAD by running the GET handler (a full authenticated
  // scrape, the caller held until the body ends): refuse it like the other methods.
  refuseOtherMethods(app, '/probe', ['GET'])

  app.get('/probe', { exposeHeadRoute: false }, async (request: FastifyRequest, reply: FastifyReply) => {
    const query = request.query as Record<string, unknown>
    const jobName = jobParam(query)
    const target = targetParam(query)
    const debug = debugParam(query)
    const job = state.job(jobName)
    if (job === undefined) throw new Errors.UNKNOWN_JOB(JSON.stringify(jobName))
    request.probe = { job: jobName, target }
    // 400 or 403 before any DNS lookup or connection; what is dialled is the canonical form that was checked.
    const dial = job.policy.admit(hostPort(target, job.config))
    const timeoutHeader = headerString(request.headers[TIMEOUT_HEADER])
    const deadline = effectiveTimeout(job.config.scrapeTimeout, timeoutHeader, timeoutOffsetMs)

    // The job's cap first: a job at its cap is refused for its own reason even when the gateway is full too.
    const jobCap = job.config.maxConcurrentProbes ?? maxConcurrentProbesPerJob
    const jobInFlight = inFlightByJob.get(jobName) ?? 0
    if (jobInFlight >= jobCap) {
      reply.header('retry-after', '1')
      const why = job.config.maxConcurrentProbes === undefined ? '--probe.max-concurrency-per-job' : 'the job\'s max_concurrent_probes'
      throw new Errors.TOO_MANY_PROBES(`${jobCap} probes of job ${JSON.stringify(jobName)}`, why)
    }
    if (inFlight >= maxConcurrentProbes) {
      reply.header('retry-after', '1')
      throw new Errors.TOO_MANY_PROBES(`${maxConcurrentProbes} probes`, '--probe.max-concurrency')
    }
    const probe = new Probe(job, dial, deadline.ms, {
      sent: target,
      timeout: { jobMs: job.config.scrapeTimeout, header: timeoutHeader, offsetMs: timeoutOffsetMs, from: deadline.from },
      debug,
    })
    const started = process.hrtime.bigint()
    inFlight++
    inFlightByJob.set(jobName, jobInFlight + 1)
    metrics.inFlight.inc()
    reply.raw.once('close', () => {
      inFlight--
      const left = (inFlightByJob.get(jobName) ?? 1) - 1
      if (left === 0) inFlightByJob.delete(jobName)
      else inFlightByJob.set(jobName, left)
      const finished = reply.raw.writableFinished
      probe.cancel()
      void probe.done.then(({ bytes, error, record }) => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9
        // A debug probe's reply is the report, sent after the probe: the probe's own outcome counts.
        if (!debug && !finished) record.callerLeft()
        const result = record.code ?? 'success'
        metrics.inFlight.dec()
        metrics.probes.inc({ job: jobName, result })
        metrics.duration.observe({ job: jobName }, seconds)
        metrics.bodyBytes.inc({ job: jobName }, bytes)
        // The target's own certificate: after a redirect the last handshake may be another host's.
        const notAfter = record.requests.length === 1 ? record.certNotAfter : undefined
        if (notAfter !== undefined) metrics.observeTargetCertificate(jobName, target, notAfter, 10 * job.config.scrapeInterval)
        const line = { job: jobName, target, status: reply.statusCode, durationMs: Math.round(seconds * 1000), bytes, result, ...(debug ? { debug } : {}) }
        if (error !== undefined) request.log.warn({ ...line, err: error.message }, 'probe failed')
        else request.log.info(line, result === 'success' ? 'probe' : 'probe canceled by the caller')
        recent.add(record)
      })
    })

    if (debug) {
      // Decoded here whatever the caller accepts, so the report counts decoded bytes (and the limit applies to them, as always).
      await probe.start(request.headers.accept, false).then(() => { probe.discard() }, () => {})
      const { record } = await probe.done
      return reply.code(200).type('text/plain; charset=utf-8').send(renderReport(record))
    }
    const head = await probe.start(request.headers.accept, acceptsGzip(request.headers['accept-encoding']))
    // The first byte is ready: from here on the probe writes the body itself
    // (a failure now cuts the connection), so fastify steps aside.
    reply.hijack()
    const out: Record<string, string> = {}
    if (head.contentType !== undefined) out['content-type'] = head.contentType
    if (head.contentEncoding !== undefined) out['content-encoding'] = head.contentEncoding
    if (head.contentLength !== undefined) out['content-length'] = head.contentLength
    reply.raw.writeHead(200, out)
    probe.relay(reply.raw)
  })
}
