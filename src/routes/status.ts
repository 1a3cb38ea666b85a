// GET /: the status page, "why is up 0?" at a glance (README "Status page"):
// the config and its last reload, the jobs, and the last probes newest first,
// failures marked, each linked to its debug report at GET /reports/ID
// (rendered then from the probe's record: src/recent-probes.ts).
//
// Server-rendered, no script: every value goes in through `html`, which
// escapes it (job names, targets and error reasons come from the config and
// from targets). The Content-Security-Policy lets nothing load or run but the
// page's own <style> (by its hash), so markup that escaping somehow let
// through could still do nothing.
import { createHash } from 'node:crypto'
import type { FastifyInstance, FastifyReply } from 'fastify'
import type { ClientFeature } from '../client/feature.js'
import type { JobConfig } from '../config/types.js'
import { formatDuration } from '../config/duration.js'
import { Errors, oneLine } from '../errors.js'
import type { GatewayMetrics } from '../metrics.js'
import type { RecentProbe, RecentProbes } from '../recent-probes.js'
import type { GatewayState } from '../state.js'
import { REVISION, VERSION } from '../version.js'
import { Html, html } from './html.js'
import { refuseOtherMethods } from './methods.js'

export interface StatusRouteOptions {
  state: GatewayState
  metrics: GatewayMetrics
  recent: RecentProbes
}

/** A job's lists (static targets, allowed_targets) show this many entries; /config has them all. */
const LIST_SHOWN = 10
/** A failure's reason shows this many characters in the table; the title attribute and the report have it all. */
const REASON_SHOWN = 160

const STYLE = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #1f2328; background: #f6f8fa; margin: 0; }
header { background: #24292f; color: #fff; padding: 10px 20px; display: flex; flex-wrap: wrap; align-items: baseline; gap: 6px 24px; }
header h1 { font-size: 18px; margin: 0; }
header .version { color: #c9d1d9; }
header nav a { color: #9ecbff; margin-right: 14px; }
main { padding: 12px 20px 24px; }
section { background: #fff; border: 1px solid #d0d7de; border-radius: 6px; margin: 12px 0; padding: 10px 14px; }
h2 { font-size: 15px; margin: 0 0 8px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 4px 8px; border-bottom: 1px solid #eaeef2; }
th { font-weight: 600; color: #57606a; background: #f6f8fa; white-space: nowrap; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
code, .mono { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 13px; }
.nowrap { white-space: nowrap; }
.muted { color: #57606a; }
.ok { color: #1a7f37; font-weight: 600; }
.bad { color: #cf222e; font-weight: 600; }
.warn { color: #9a6700; font-weight: 600; }
.banner { border-left: 4px solid #1a7f37; }
.banner.failed { border-left-color: #cf222e; background: #ffebe9; }
.banner .mono { white-space: pre-wrap; }
tr.failed td { background: #fff1f0; }
tr.failed td:first-child { box-shadow: inset 4px 0 0 #cf222e; }
tr.canceled td:first-child { box-shadow: inset 4px 0 0 #d4a72c; }
.reason { display: block; color: #82071e; font-size: 12px; }
.tag { display: inline-block; font-size: 11px; padding: 0 5px; border-radius: 8px; background: #ddf4ff; color: #0969da; margin-left: 4px; }
.counts span { margin-right: 16px; }
ul.warnings { margin: 6px 0 0; padding-left: 20px; color: #9a6700; }
`

/** The page's policy: nothing loads, runs or frames it; only the <style> above applies. */
const CSP = `default-src 'none'; style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'; ` +
  'base-uri \'none\'; form-action \'none\'; frame-ancestors \'none\''

/** A report is text with the target's words in it: never to be run, sniffed or framed. */
const REPORT_CSP = 'default-src \'none\'; frame-ancestors \'none\''

/** `2026-11-29 15:37:57Z` */
function when (ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z')
}

/** How long before `now`, in the largest unit that is not zero: `4s`, `12m`, `3h`, `2d`. */
function ago (ms: number, now: number): string {
  const s = Math.max(0, Math.round((now - ms) / 1000))
  if (s < 60) return `${s}s ago`
  if (s < 3600) return `${Math.floor(s / 60)}m ago`
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`
  return `${Math.floor(s / 86400)}d ago`
}

function duration (ms: number): string {
  return ms < 1000 ? `${ms < 10 ? ms.toFixed(2) : ms.toFixed(1)} ms` : `${(ms / 1000).toFixed(2)} s`
}

function size (bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`
}

/** The job's way to authenticate: the member of the auth slot it uses (basic_auth, authorization, oauth2, or a plugin's). */
function authKind (job: JobConfig<ClientFeature>): string {
  return job.client.find((use) => use.feature.slot === 'auth')?.feature.name ?? 'none'
}

/** A list cut at LIST_SHOWN, the rest counted. */
function list (items: readonly string[]): Html {
  if (items.length === 0) return html`<span class="muted">none</span>`
  const shown = items.slice(0, LIST_SHOWN).map((t) => html`<code>${t}</code>`)
  const more = items.length - shown.length
  return html`${shown.map((s, i) => html`${i > 0 ? html`<br>` : ''}${s}`)}${more > 0 ? html`<br><span class="muted">and ${more} more (<a href="config">/config</a> has them all)</span>` : ''}`
}

function header (): Html {
  return html`<header>
  <h1>scrape-gateway</h1>
  <span class="version">version <code>${VERSION}</code>, revision <code>${REVISION}</code></span>
  <nav><a href="metrics">/metrics</a><a href="config">/config</a><a href="sd">/sd</a><a href="-/healthy">/-/healthy</a><a href="-/ready">/-/ready</a></nav>
</header>`
}

function configSection (state: GatewayState, now: number): Html {
  const last = state.lastLoad
  const loaded = state.loadedAt
  const jobs = state.config.jobs.length
  const serving = html`<code>${state.config.file}</code>, ${jobs} ${jobs === 1 ? 'job' : 'jobs'}, loaded ${loaded === undefined ? 'never' : html`${when(loaded)} <span class="muted">(${ago(loaded, now)})</span>`}`
  const warnings = state.warnings.length === 0 ? '' : html`<ul class="warnings">${state.warnings.map((w) => html`<li>${w}</li>`)}</ul>`
  if (last?.error !== undefined) {
    return html`<section class="banner failed" id="config">
  <h2>Configuration: <span class="bad">the last reload failed</span> at ${when(last.at)} <span class="muted">(${ago(last.at, now)})</span></h2>
  <div class="mono">${last.error}</div>
  <p>The previous configuration still serves: ${serving}.</p>${warnings}
</section>`
  }
  return html`<section class="banner" id="config">
  <h2>Configuration: <span class="ok">loaded</span></h2>
  <div>${serving}.</div>${warnings}
</section>`
}

function jobsSection (state: GatewayState, probes: readonly RecentProbe[]): Html {
  const byJob = new Map<string, { ok: number, failed: number }>()
  for (const p of probes) {
    const c = byJob.get(p.summary.job) ?? { ok: 0, failed: 0 }
    if (p.summary.code === 'success') c.ok++
    else if (p.summary.code !== 'canceled') c.failed++
    byJob.set(p.summary.job, c)
  }
  const rows = state.config.jobs.map((job) => {
    const c = byJob.get(job.name)
    const recent = c === undefined
      ? html`<span class="muted">none</span>`
      : html`<span class="${c.ok > 0 ? 'ok' : 'muted'}">${c.ok} ok</span>${c.failed > 0 ? html`, <span class="bad">${c.failed} failed</span>` : ''}`
    return html`<tr>
  <td><code>${job.name}</code></td>
  <td>${job.scheme}</td>
  <td><code>${job.metricsPath}</code></td>
  <td>${authKind(job)}</td>
  <td class="num">${formatDuration(job.scrapeTimeout)}</td>
  <td>${list(job.targets)}</td>
  <td>${list(job.allowedTargets.map((r) => r.text))}</td>
  <td class="num">${job.maxConcurrentProbes ?? html`<span class="muted">default</span>`}</td>
  <td class="nowrap">${recent}</td>
</tr>`
  })
  return html`<section id="jobs">
  <h2>Jobs</h2>
  <table>
    <thead><tr><th>job</th><th>scheme</th><th>metrics_path</th><th>auth</th><th>scrape_timeout</th><th>static targets</th><th>allowed_targets</th><th>max_concurrent_probes</th><th>recent probes</th></tr></thead>
    <tbody>
${rows}
    </tbody>
  </table>
</section>`
}

function probeRow (p: RecentProbe, now: number): Html {
  const s = p.summary
  const failed = s.code !== 'success' && s.code !== 'canceled'
  const rowClass = failed ? 'failed' : s.code === 'canceled' ? 'canceled' : 'success'
  const codeClass = failed ? 'bad' : s.code === 'canceled' ? 'warn' : 'ok'
  const reason = p.reason === undefined ? '' : oneLine(p.reason)
  const shown = reason.length > REASON_SHOWN ? `${reason.slice(0, REASON_SHOWN)}…` : reason
  return html`<tr class="${rowClass}">
  <td class="nowrap">${when(s.time)} <span class="muted">${ago(s.time, now)}</span></td>
  <td><code>${s.job}</code></td>
  <td><code>${s.target}</code></td>
  <td><span class="${codeClass}">${s.code}</span>${p.debug ? html`<span class="tag">debug</span>` : ''}${reason === '' ? '' : html`<span class="reason" title="${reason}">${shown}</span>`}</td>
  <td class="num">${s.status}</td>
  <td class="num">${duration(s.durationMs)}</td>
  <td class="num">${size(s.bytes)}</td>
  <td><a href="reports/${p.id}">report</a></td>
</tr>`
}

async function countsLine (metrics: GatewayMetrics): Promise<Html> {
  const inFlight = (await metrics.inFlight.get()).values[0]?.value ?? 0
  let ok = 0
  let canceled = 0
  const failed = new Map<string, number>()
  for (const { labels, value } of (await metrics.probes.get()).values) {
    const result = String(labels.result)
    if (result === 'success') ok += value
    else if (result === 'canceled') canceled += value
    else failed.set(result, (failed.get(result) ?? 0) + value)
  }
  const failedTotal = [...failed.values()].reduce((a, b) => a + b, 0)
  const byCode = [...failed].sort((a, b) => b[1] - a[1]).map(([code, n], i) => html`${i > 0 ? ', ' : ''}${code} ${n}`)
  return html`<p class="counts"><span>in flight: <b>${inFlight}</b></span><span>since start: <span class="ok">${ok} success</span></span><span class="${failedTotal > 0 ? 'bad' : 'muted'}">${failedTotal} failed${failedTotal > 0 ? html`: ${byCode}` : ''}</span><span class="muted">${canceled} canceled</span></p>`
}

async function probesSection (recent: RecentProbes, probes: readonly RecentProbe[], metrics: GatewayMetrics, now: number): Promise<Html> {
  const { count } = recent.limits
  const body = probes.length === 0
    ? html`<tr><td colspan="8" class="muted">No probe yet. Try <code>/probe?job=JOB&amp;target=HOST:PORT</code>.</td></tr>`
    : probes.map((p) => probeRow(p, now))
  return html`<section id="probes">
  <h2>Recent probes <span class="muted">(the last ${probes.length} of at most ${count}, newest first)</span></h2>
  ${await countsLine(metrics)}
  <table>
    <thead><tr><th>time (UTC)</th><th>job</th><th>target</th><th>result</th><th>status</th><th>duration</th><th>bytes</th><th>debug report</th></tr></thead>
    <tbody>
${body}
    </tbody>
  </table>
</section>`
}

/** The status page. */
export async function renderStatusPage (state: GatewayState, metrics: GatewayMetrics, recent: RecentProbes, now = Date.now()): Promise<string> {
  const probes = recent.list()
  const page = html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>scrape-gateway ${VERSION} (${REVISION})</title>
<style>${new Html(STYLE)}</style>
</head>
<body>
${header()}
<main>
${configSection(state, now)}
${jobsSection(state, probes)}
${await probesSection(recent, probes, metrics, now)}
</main>
</body>
</html>
`
  return page.text
}

function security (reply: FastifyReply, policy: string): void {
  reply.header('content-security-policy', policy)
  reply.header('x-content-type-options', 'nosniff')
  reply.header('cache-control', 'no-store')
}

export async function statusRoutes (app: FastifyInstance, { state, metrics, recent }: StatusRouteOptions): Promise<void> {
  refuseOtherMethods(app, '/', ['GET', 'HEAD'])
  app.get('/', async (_request, reply) => {
    security(reply, CSP)
    return reply.type('text/html; charset=utf-8').send(await renderStatusPage(state, metrics, recent))
  })

  refuseOtherMethods(app, '/reports/:id', ['GET', 'HEAD'])
  app.get('/reports/:id', async (request, reply) => {
    const { id } = request.params as { id: string }
    const report = recent.report(id)
    if (report === undefined) {
      const { count } = recent.limits
      throw new Errors.NOT_FOUND(`no report ${JSON.stringify(id)}: the status page keeps the reports of the last ${count} probes (fewer when their records are large), and this one is not among them; see / for those kept, or probe again with debug=true`)
    }
    security(reply, REPORT_CSP)
    return reply.type('text/plain; charset=utf-8').send(report)
  })
}
