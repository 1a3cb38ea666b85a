// config/kubernetes/, held together without a cluster: every manifest
// parses, the kustomization lists every file, and what must agree does,
// across the manifests, the image (the Dockerfile's USER) and the gateway
// itself (its config is loaded by the gateway's own code, with the files it
// names written under a temp root).
import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import YAML from 'yaml'
import { buildServer } from '../src/server.js'
import { parseDockerfile } from './helpers/dockerfile.js'
import { createCa } from './helpers/pki.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const DIR = path.join(ROOT, 'config', 'kubernetes')
const PKG = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }

interface Labels { [name: string]: string }
interface Selector { matchLabels?: Labels }
interface Manifest {
  apiVersion: string
  kind: string
  metadata: { name: string, namespace?: string, labels?: Labels }
  [key: string]: unknown
}
interface Kustomization {
  kind: 'Kustomization' | 'Component'
  namespace?: string
  resources?: string[]
  components?: string[]
  configMapGenerator?: Array<{ name: string, files?: string[] }>
  secretGenerator?: Array<{ name: string, files?: string[] }>
  images?: Array<{ name: string, newName?: string, newTag?: string }>
}
interface Port { name?: string, containerPort?: number, port?: number | string, targetPort?: number | string }
interface HttpProbe { httpGet: { path: string, port: number | string } }
interface SecurityContext {
  runAsNonRoot?: boolean
  runAsUser?: number
  runAsGroup?: number
  readOnlyRootFilesystem?: boolean
  allowPrivilegeEscalation?: boolean
  capabilities?: { drop?: string[], add?: string[] }
  seccompProfile?: { type: string }
}
interface Container {
  name: string
  image: string
  command?: string[]
  args?: string[]
  ports?: Port[]
  livenessProbe?: HttpProbe
  readinessProbe?: HttpProbe
  lifecycle?: { preStop?: { exec?: { command: string[] } } }
  resources?: { requests?: { cpu?: string, memory?: string }, limits?: { cpu?: string, memory?: string } }
  securityContext?: SecurityContext
  volumeMounts?: Array<{ name: string, mountPath: string, subPath?: string }>
}
type Items = Array<{ key: string, path: string }>
interface ProjectedSource {
  serviceAccountToken?: { path: string }
  configMap?: { name: string, items?: Items }
  secret?: { name: string, items?: Items }
}
interface Volume {
  name: string
  configMap?: { name: string, items?: Items }
  secret?: { secretName: string, items?: Items }
  projected?: { sources: ProjectedSource[] }
}
interface PodSpec {
  serviceAccountName?: string
  securityContext?: SecurityContext
  containers: Container[]
  volumes?: Volume[]
  terminationGracePeriodSeconds?: number
  topologySpreadConstraints?: Array<{ topologyKey: string, labelSelector?: Selector }>
}
interface Deployment extends Manifest {
  spec: { replicas?: number, selector: Selector, template: { metadata: { labels: Labels }, spec: PodSpec } }
}
interface Service extends Manifest { spec: { selector: Labels, ports: Port[] } }
interface Secret extends Manifest { data?: Labels, stringData?: Labels }
interface GatewayConfig { scrape_configs: Array<{ job_name: string }> }

/** Every file under config/kubernetes, relative, '/'-separated. */
function filesUnder (dir: string, rel = ''): string[] {
  return fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((e) => {
    const r = rel === '' ? e.name : `${rel}/${e.name}`
    return e.isDirectory() ? filesUnder(dir, r) : [r]
  })
}

const FILES = filesUnder(DIR)
const YAML_FILES = FILES.filter((f) => /\.ya?ml$/.test(f))

/** Every YAML document of every file, parsed strictly (an error in any is a failure of the first test). */
const parsed = new Map<string, unknown[]>()
const parseErrors: string[] = []
for (const file of YAML_FILES) {
  const docs = YAML.parseAllDocuments(fs.readFileSync(path.join(DIR, file), 'utf8'))
  for (const doc of docs) for (const e of [...doc.errors, ...doc.warnings]) parseErrors.push(`${file}: ${e.message}`)
  parsed.set(file, docs.map((d) => d.toJS() as unknown))
}

function kustomization (dir: string): Kustomization {
  return parsed.get(dir === '' ? 'kustomization.yaml' : `${dir}/kustomization.yaml`)?.[0] as Kustomization
}

/** The files a kustomization (and its components) takes in, relative to config/kubernetes. */
function referenced (dir = ''): { resources: string[], generated: string[], kustomizations: string[] } {
  const k = kustomization(dir)
  const join = (f: string): string => path.posix.normalize(dir === '' ? f : `${dir}/${f}`)
  const out = {
    resources: (k.resources ?? []).map(join),
    generated: [...k.configMapGenerator ?? [], ...k.secretGenerator ?? []].flatMap((g) => g.files ?? []).map((f) => join(f.replace(/^[^=]*=/, ''))),
    kustomizations: [join('kustomization.yaml')],
  }
  for (const c of k.components ?? []) {
    const sub = referenced(join(c))
    out.resources.push(...sub.resources)
    out.generated.push(...sub.generated)
    out.kustomizations.push(...sub.kustomizations)
  }
  return out
}

const ROOT_K = kustomization('')
const NAMESPACE = ROOT_K.namespace as string
const REFS = referenced()
const MANIFESTS = REFS.resources.flatMap((f) => (parsed.get(f) ?? []) as Manifest[])

function one<T extends Manifest> (kind: string): T {
  const found = MANIFESTS.filter((m) => m.kind === kind)
  assert.equal(found.length, 1, `one ${kind} in the kustomization`)
  return found[0] as T
}

const deployment = one<Deployment>('Deployment')
const pod = deployment.spec.template.spec
const podLabels = deployment.spec.template.metadata.labels
const container = pod.containers[0] as Container
const service = one<Service>('Service')
const args = container.args ?? []

function flag (name: string): string {
  const prefix = `--${name}=`
  const v = args.findLast((a) => a.startsWith(prefix))
  assert.ok(v !== undefined, `the Deployment's args set --${name}`)
  return v.slice(prefix.length)
}

/** A port as written (number or a name of the container's ports) as its number. */
function containerPort (port: number | string | undefined): number {
  if (typeof port === 'number') return port
  const named = container.ports?.find((p) => p.name === port)
  assert.ok(named?.containerPort !== undefined, `no container port named ${String(port)}`)
  return named.containerPort
}

/** Whether `selector` picks objects labelled `labels` (matchLabels only: that is all these manifests use). */
function selects (selector: Selector | Labels | undefined, labels: Labels | undefined): boolean {
  const match = (selector !== undefined && 'matchLabels' in selector ? (selector as Selector).matchLabels : selector as Labels | undefined) ?? {}
  return Object.keys(match).length > 0 && Object.entries(match).every(([k, v]) => labels?.[k] === v)
}

/** Every file the pod's container gets from its volumes: mount path → where it comes from. */
function mountedFiles (): Map<string, { volume: Volume, key: string }> {
  const files = new Map<string, { volume: Volume, key: string }>()
  const generated = new Map((ROOT_K.configMapGenerator ?? []).map((g) => [g.name, (g.files ?? []).map((f) => f.includes('=') ? f.slice(0, f.indexOf('=')) : path.posix.basename(f))]))
  const secrets = new Map(MANIFESTS.filter((m) => m.kind === 'Secret').map((s) => [s.metadata.name, Object.keys({ ...(s as Secret).data, ...(s as Secret).stringData })]))
  const keysOf = (kind: 'configMap' | 'secret', name: string, items: Items | undefined): string[] => {
    if (items !== undefined) return items.map((i) => i.path)
    const keys = kind === 'secret' ? secrets.get(name) : generated.get(name)
    assert.ok(keys !== undefined, `the ${kind} ${name} a volume names is not in the kustomization`)
    return keys
  }
  for (const mount of container.volumeMounts ?? []) {
    assert.equal(mount.subPath, undefined, 'a subPath mount never sees a ConfigMap or Secret update')
    const volume = pod.volumes?.find((v) => v.name === mount.name)
    assert.ok(volume !== undefined, `volumeMount ${mount.name}: no such volume`)
    let keys: string[] = []
    if (volume.configMap !== undefined) keys = keysOf('configMap', volume.configMap.name, volume.configMap.items)
    if (volume.secret !== undefined) keys = keysOf('secret', volume.secret.secretName, volume.secret.items)
    for (const source of volume.projected?.sources ?? []) {
      if (source.serviceAccountToken !== undefined) keys.push(source.serviceAccountToken.path)
      // kube-root-ca.crt is the one object the pod names that the kustomization does not hold: Kubernetes puts it in every namespace.
      if (source.configMap !== undefined) keys.push(...(source.configMap.name === 'kube-root-ca.crt' ? (source.configMap.items ?? []).map((i) => i.path) : keysOf('configMap', source.configMap.name, source.configMap.items)))
      if (source.secret !== undefined) keys.push(...keysOf('secret', source.secret.name, source.secret.items))
    }
    for (const key of keys) files.set(path.posix.join(mount.mountPath, key), { volume, key })
  }
  return files
}

/** The paths a gateway config names under `*_file` keys, anywhere in it. */
function fileKeys (node: unknown, out: Array<{ key: string, path: string }> = []): Array<{ key: string, path: string }> {
  if (Array.isArray(node)) for (const n of node) fileKeys(n, out)
  else if (node !== null && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k.endsWith('_file') && typeof v === 'string') out.push({ key: k, path: v })
      else fileKeys(v, out)
    }
  }
  return out
}

/** Kubernetes quantities as these manifests write them: cpu in cores (`100m`, `1`), memory in bytes (`128Mi`). */
function quantity (q: string | undefined): number {
  const m = /^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi|k|M|G)?$/.exec(q ?? '')
  assert.ok(m !== null, `quantity ${String(q)}`)
  const unit = { m: 1e-3, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, k: 1e3, M: 1e6, G: 1e9 }[m[2] ?? ''] ?? 1
  return Number(m[1]) * unit
}

const CONFIG_PATH = flag('config.file')
const CONFIG_SOURCE = (ROOT_K.configMapGenerator ?? []).flatMap((g) => g.files ?? []).find((f) => path.posix.basename(f) === path.posix.basename(CONFIG_PATH))
const CONFIG_TEXT = fs.readFileSync(path.join(DIR, CONFIG_SOURCE ?? 'missing'), 'utf8')

/**
 * The config as the pod sees it, under a temp root: every file it names
 * written where the pod would have it (a CA file a real certificate from
 * the test PKI, a token or password a placeholder), and its paths moved
 * under the root. Only the paths change; the rest is the file as shipped.
 */
function configUnderTempRoot (): { root: string, configFile: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sg-k8s-'))
  const ca = createCa('cluster CA (test)')
  fs.rmSync(path.dirname(ca.certFile), { recursive: true, force: true })
  const doc = YAML.parseDocument(CONFIG_TEXT)
  YAML.visit(doc, {
    Pair (_, pair) {
      if (!YAML.isScalar(pair.key) || !String(pair.key.value).endsWith('_file') || !YAML.isScalar(pair.value)) return
      const file = String(pair.value.value)
      const moved = path.join(root, file)
      fs.mkdirSync(path.dirname(moved), { recursive: true })
      fs.writeFileSync(moved, pair.key.value === 'ca_file' ? ca.cert : 'placeholder-for-the-test\n')
      pair.value.value = moved
    },
  })
  const configFile = path.join(root, CONFIG_PATH)
  fs.mkdirSync(path.dirname(configFile), { recursive: true })
  fs.writeFileSync(configFile, doc.toString())
  return { root, configFile }
}

describe('config/kubernetes', () => {
  test('every YAML file parses, and every manifest has an apiVersion, a kind and a name', () => {
    assert.deepEqual(parseErrors, [])
    assert.ok(MANIFESTS.length >= 10)
    for (const m of MANIFESTS) {
      assert.match(m.apiVersion ?? '', /^[\w.-]+(\/v\w+)?$/, JSON.stringify(m))
      assert.match(m.kind ?? '', /^[A-Z]\w+$/)
      assert.match(m.metadata?.name ?? '', /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/)
    }
  })

  test('the kustomization (with its components) takes in every file there, and only files that exist', () => {
    const listed = [...REFS.resources, ...REFS.generated, ...REFS.kustomizations]
    for (const f of listed) assert.ok(FILES.includes(f), `the kustomization lists ${f}, which does not exist`)
    assert.deepEqual(FILES.filter((f) => !listed.includes(f)), [], 'files no kustomization takes in')
    assert.equal(new Set(listed).size, listed.length, 'a file is listed twice')
  })

  test('one port everywhere: --web.listen-address, the container port, the Service, the probes, the NetworkPolicy', () => {
    const port = Number(/:(\d+)$/.exec(flag('web.listen-address'))?.[1])
    assert.match(flag('web.listen-address'), /^:\d+$/, 'an empty host: every IPv6 and IPv4 address of the pod')
    assert.deepEqual(container.ports?.map((p) => p.containerPort), [port])
    const servicePort = service.spec.ports[0] as Port
    assert.equal(service.spec.ports.length, 1)
    assert.equal(servicePort.name, 'http')
    assert.equal(containerPort(servicePort.targetPort), port)
    assert.equal(containerPort(container.livenessProbe?.httpGet.port), port)
    assert.equal(containerPort(container.readinessProbe?.httpGet.port), port)
    const policy = one<Manifest & { spec: { ingress: Array<{ ports: Port[] }> } }>('NetworkPolicy')
    assert.deepEqual(policy.spec.ingress.flatMap((i) => i.ports.map((p) => containerPort(p.port))), [port])
  })

  test('liveness is /-/healthy, readiness /-/ready', () => {
    assert.equal(container.livenessProbe?.httpGet.path, '/-/healthy')
    assert.equal(container.readinessProbe?.httpGet.path, '/-/ready')
  })

  test('the config\'s mount path and file name are --config.file, and every file it names is mounted', () => {
    const files = mountedFiles()
    const config = files.get(CONFIG_PATH)
    assert.ok(config?.volume.configMap !== undefined, `--config.file=${CONFIG_PATH} is no file of a ConfigMap volume`)
    assert.ok(ROOT_K.configMapGenerator?.some((g) => g.name === config.volume.configMap?.name))
    const named = fileKeys(YAML.parse(CONFIG_TEXT))
    assert.ok(named.length > 0)
    for (const { key, path: p } of named) assert.ok(files.has(p), `${key}: ${p} is no file the Deployment mounts (it has ${[...files.keys()].join(', ')})`)
    // The service-account token for in-cluster targets, projected where Kubernetes would put it.
    assert.ok(named.some((n) => n.path === '/var/run/secrets/kubernetes.io/serviceaccount/token'))
    assert.ok(named.some((n) => files.get(n.path)?.volume.secret !== undefined), 'a credential from a Secret')
  })

  test('the config passes the gateway\'s own --config.check, with the files it names in place', async (t) => {
    const { root, configFile } = configUnderTempRoot()
    t.after(() => fs.rmSync(root, { recursive: true, force: true }))
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', '--config.check', `--config.file=${configFile}`], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d })
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
    const code = await new Promise((resolve) => child.once('close', resolve))
    const jobs = (YAML.parse(CONFIG_TEXT) as GatewayConfig).scrape_configs.length
    assert.equal(code, 0, stderr)
    assert.equal(stdout, `SUCCESS: ${configFile} is valid (${jobs} jobs)\n`)
    assert.equal(stderr, '', 'no warnings (a job that allows no target is one)')
  })

  test('the pod runs as the image\'s numeric USER, non-root, read-only, with no capabilities and RuntimeDefault seccomp', () => {
    const user = parseDockerfile(fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8')).runtime.user
    const [uid, gid] = (user ?? '').split(':').map(Number)
    const effective = <K extends keyof SecurityContext>(key: K): SecurityContext[K] => container.securityContext?.[key] ?? pod.securityContext?.[key]
    assert.equal(effective('runAsUser'), uid)
    assert.equal(effective('runAsGroup'), gid)
    assert.equal(effective('runAsNonRoot'), true)
    assert.equal(effective('readOnlyRootFilesystem'), true)
    assert.equal(effective('allowPrivilegeEscalation'), false)
    assert.deepEqual(effective('capabilities'), { drop: ['ALL'] })
    assert.equal(effective('seccompProfile')?.type, 'RuntimeDefault')
    // args replace the image's CMD; a command would replace its ENTRYPOINT (node and its heap flag).
    assert.equal(container.command, undefined)
  })

  test('the image is the one package.json versions, renamed only by the kustomization', () => {
    const entry = ROOT_K.images?.find((i) => i.name === container.image)
    assert.ok(entry !== undefined, `kustomization.yaml's images: has no entry for ${container.image}`)
    assert.equal(entry.newTag, PKG.version)
  })

  test('two replicas, spread across nodes, sized (requests and limits), HPA on CPU and a PDB for the Deployment', () => {
    assert.equal(deployment.spec.replicas, 2)
    assert.ok(selects(deployment.spec.selector, podLabels))
    const spread = pod.topologySpreadConstraints ?? []
    assert.ok(spread.some((c) => c.topologyKey === 'kubernetes.io/hostname' && selects(c.labelSelector, podLabels)))
    const { requests, limits } = container.resources ?? {}
    for (const r of ['cpu', 'memory'] as const) {
      assert.ok(quantity(requests?.[r]) > 0 && quantity(requests?.[r]) <= quantity(limits?.[r]), `${r}: request ${String(requests?.[r])}, limit ${String(limits?.[r])}`)
    }
    const hpa = one<Manifest & { spec: { scaleTargetRef: { apiVersion: string, kind: string, name: string }, minReplicas: number, maxReplicas: number, metrics: Array<{ type: string, resource?: { name: string } }> } }>('HorizontalPodAutoscaler')
    assert.equal(hpa.apiVersion, 'autoscaling/v2')
    assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name })
    assert.equal(hpa.spec.minReplicas, deployment.spec.replicas)
    assert.ok(hpa.spec.maxReplicas > hpa.spec.minReplicas)
    assert.deepEqual(hpa.spec.metrics.map((m) => [m.type, m.resource?.name]), [['Resource', 'cpu']])
    const pdb = one<Manifest & { spec: { minAvailable: number, selector: Selector } }>('PodDisruptionBudget')
    assert.equal(pdb.spec.minAvailable, 1)
    assert.ok(selects(pdb.spec.selector, podLabels))
  })

  test('the grace period outlasts the preStop pause and the longest scrape a probe may be in', async (t) => {
    const { root, configFile } = configUnderTempRoot()
    t.after(() => fs.rmSync(root, { recursive: true, force: true }))
    const app = await buildServer({ configFile, logLevel: false })
    const longest = Math.max(...app.gateway.config.jobs.map((j) => j.scrapeTimeout)) / 1000
    await app.close()
    const pause = Number(container.lifecycle?.preStop?.exec?.command.at(-1) ?? 0)
    assert.deepEqual(container.lifecycle?.preStop?.exec?.command.slice(0, -1), ['sleep'])
    assert.ok((pod.terminationGracePeriodSeconds ?? 30) > pause + longest, `${String(pod.terminationGracePeriodSeconds)} s <= ${pause} s + ${longest} s`)
  })

  test('the Service, NetworkPolicy and ServiceMonitor pick the Deployment\'s pods and port; only Prometheus may call', () => {
    assert.ok(selects(service.spec.selector, podLabels))
    const policy = one<Manifest & { spec: { podSelector: Selector, policyTypes: string[], ingress: Array<{ from: Array<{ namespaceSelector?: Selector, podSelector?: Selector }> }> } }>('NetworkPolicy')
    assert.ok(selects(policy.spec.podSelector, podLabels))
    assert.deepEqual(policy.spec.policyTypes, ['Ingress'])
    const from = policy.spec.ingress.flatMap((i) => i.from)
    assert.equal(from.length, 1)
    assert.deepEqual(from[0]?.podSelector?.matchLabels, { 'app.kubernetes.io/name': 'prometheus' })
    assert.deepEqual(from[0]?.namespaceSelector?.matchLabels, { 'kubernetes.io/metadata.name': NAMESPACE })
    const monitor = one<Manifest & { spec: { selector: Selector, endpoints: Array<{ port: string, path: string }> } }>('ServiceMonitor')
    assert.ok(selects(monitor.spec.selector, service.metadata.labels))
    assert.deepEqual(monitor.spec.endpoints.map((e) => [e.port, e.path]), [[service.spec.ports[0]?.name, '/metrics']])
  })

  test('the service account: the pod\'s, bound to a role that may GET /metrics, in the kustomization\'s namespace', () => {
    const account = one<Manifest>('ServiceAccount')
    assert.equal(pod.serviceAccountName, account.metadata.name)
    const role = one<Manifest & { rules: Array<{ nonResourceURLs?: string[], verbs: string[] }> }>('ClusterRole')
    assert.deepEqual(role.rules, [{ nonResourceURLs: ['/metrics'], verbs: ['get'] }])
    const binding = one<Manifest & { roleRef: { kind: string, name: string }, subjects: Array<{ kind: string, name: string, namespace: string }> }>('ClusterRoleBinding')
    assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata.name })
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: account.metadata.name, namespace: NAMESPACE }])
  })

  test('the Probe goes to the Service, names a job of the config, and sends only targets that job allows', async (t) => {
    const probe = one<Manifest & { spec: { prober: { url: string, path?: string, scheme?: string }, module: string, targets: { staticConfig: { static: string[] } } } }>('Probe')
    const servicePort = service.spec.ports[0]?.port
    assert.ok([`${service.metadata.name}.${NAMESPACE}.svc:${String(servicePort)}`, `${service.metadata.name}.${NAMESPACE}.svc.cluster.local:${String(servicePort)}`].includes(probe.spec.prober.url), probe.spec.prober.url)
    assert.equal(probe.spec.prober.path ?? '/probe', '/probe')
    assert.equal(probe.spec.prober.scheme ?? 'http', 'http')

    const { root, configFile } = configUnderTempRoot()
    t.after(() => fs.rmSync(root, { recursive: true, force: true }))
    const app = await buildServer({ configFile, logLevel: false })
    try {
      const job = app.gateway.job(probe.spec.module)
      assert.ok(job !== undefined, `the Probe's module ${probe.spec.module} is no job of ${CONFIG_PATH}`)
      assert.ok(probe.spec.targets.staticConfig.static.length > 0)
      for (const target of probe.spec.targets.staticConfig.static) job.policy.admit(target)
      // The policy is no rubber stamp: an address the job neither lists nor covers is refused.
      assert.throws(() => job.policy.admit('192.0.2.7:8443'), { code: 'SG_TARGET_FORBIDDEN' })
    } finally {
      await app.close()
    }
  })

  test('every Secret a volume names is in the kustomization, with the keys the pod reads', () => {
    const named = (pod.volumes ?? []).flatMap((v) => [v.secret?.secretName, ...v.projected?.sources.map((s) => s.secret?.name) ?? []]).filter((n) => n !== undefined)
    assert.ok(named.length > 0)
    const secrets = MANIFESTS.filter((m) => m.kind === 'Secret') as Secret[]
    const generated = (ROOT_K.secretGenerator ?? []).map((g) => g.name)
    for (const name of named) assert.ok(secrets.some((s) => s.metadata.name === name) || generated.includes(name), `Secret ${name} is not in the kustomization`)
    // mountedFiles() fails on a volume whose ConfigMap or Secret the kustomization lacks.
    assert.ok(mountedFiles().size > 0)
  })
})

/** kubectl, where installed (it is no dependency of the project: the checks above stand without it). */
function hasKubectl (): boolean {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

describe('config/kubernetes rendered by kubectl kustomize', { skip: hasKubectl() ? false : 'kubectl is not installed' }, () => {
  test('every namespaced object lands in the namespace; the Deployment mounts the generated ConfigMap by its hashed name', () => {
    const out = execFileSync('kubectl', ['kustomize', DIR], { encoding: 'utf8' })
    const rendered = YAML.parseAllDocuments(out).map((d) => d.toJS() as Manifest)
    const clusterScoped = new Set(['ClusterRole', 'ClusterRoleBinding'])
    assert.deepEqual(rendered.filter((m) => !clusterScoped.has(m.kind) && m.metadata.namespace !== NAMESPACE).map((m) => `${m.kind}/${m.metadata.name}`), [])
    const configMap = rendered.find((m) => m.kind === 'ConfigMap' && m.metadata.name.startsWith('scrape-gateway-config-'))
    assert.ok(configMap !== undefined)
    const d = rendered.find((m) => m.kind === 'Deployment') as Deployment
    const volumes = d.spec.template.spec.volumes ?? []
    assert.ok(volumes.some((v) => v.configMap?.name === configMap.metadata.name))
    assert.equal(d.spec.template.spec.containers[0]?.image, `${container.image}:${PKG.version}`)
    assert.equal(rendered.length, MANIFESTS.length + 1, 'every manifest, and the generated ConfigMap')
  })
})
