// Reads the Dockerfile and its .dockerignore as `docker build` does, without
// a Docker engine: for the tests that hold the image to what it runs
// (test/image.test.ts) and the Kubernetes manifests to the image
// (test/kubernetes.test.ts). Instructions are read, never executed. An
// instruction or form these readers do not know is an error, so nothing the
// tests do not understand slips through them.
import fs from 'node:fs'
import path from 'node:path'

/** A COPY (its destination absolute, in the stage's filesystem) or a RUN (with the WORKDIR it runs in). */
export type Step =
  | { kind: 'copy', line: number, from: string | undefined, sources: string[], dest: string, destIsDir: boolean }
  | { kind: 'run', line: number, command: string, workdir: string }

export interface Stage {
  /** The `AS` name, or the stage's index as Docker numbers unnamed stages. */
  name: string
  image: string
  /** The last WORKDIR, absolute ('/' when none). */
  workdir: string
  user: string | undefined
  env: Map<string, string>
  labels: Map<string, string>
  expose: string[]
  /** Exec form as written; a shell form is turned into ['/bin/sh', '-c', text], as Docker does. */
  entrypoint: string[] | undefined
  cmd: string[] | undefined
  healthcheck: string | undefined
  steps: Step[]
}

export interface Dockerfile {
  stages: Stage[]
  /** The last stage: what `docker build` without --target produces. */
  runtime: Stage
}

class DockerfileError extends Error {
  constructor (line: number, message: string) {
    super(`Dockerfile:${line}: ${message}`)
  }
}

/** Instructions with their first line number: continuations joined, comments and blank lines dropped. */
function instructions (text: string): Array<{ line: number, keyword: string, args: string }> {
  const out: Array<{ line: number, keyword: string, args: string }> = []
  let pending: { line: number, text: string } | undefined
  text.split('\n').forEach((raw, i) => {
    const trimmed = raw.trim()
    if (trimmed.startsWith('#') || (trimmed === '' && pending === undefined)) return
    const continued = trimmed.endsWith('\\')
    const part = continued ? trimmed.slice(0, -1) : trimmed
    pending = pending === undefined ? { line: i + 1, text: part } : { line: pending.line, text: `${pending.text} ${part}` }
    if (continued) return
    const m = /^(\S+)\s*(.*)$/s.exec(pending.text.trim())
    if (m !== null) out.push({ line: pending.line, keyword: (m[1] as string).toUpperCase(), args: (m[2] as string).trim() })
    pending = undefined
  })
  if (pending !== undefined) throw new DockerfileError(pending.line, 'the file ends inside a continued line')
  return out
}

/** Words as the shell-like Dockerfile grammar splits them: quotes removed, `$VAR`/`${VAR}` expanded outside single quotes. */
function words (s: string, vars: ReadonlyMap<string, string>, line: number): string[] {
  const out: string[] = []
  let cur = ''
  let inWord = false
  let quote: '"' | '\'' | undefined
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string
    if (c === '\\' && quote !== '\'' && i + 1 < s.length) {
      cur += s[++i]
      inWord = true
    } else if (quote !== undefined && c === quote) {
      quote = undefined
    } else if (quote === undefined && (c === '"' || c === '\'')) {
      quote = c
      inWord = true
    } else if (c === '$' && quote !== '\'') {
      const m = /^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::([-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/.exec(s.slice(i))
      if (m === null) {
        cur += c
      } else {
        const name = (m[1] ?? m[4]) as string
        const value = vars.get(name) ?? ''
        if (m[2] === '-') cur += value === '' ? m[3] : value
        else if (m[2] === '+') cur += value === '' ? '' : m[3]
        else cur += value
        i += m[0].length - 1
      }
      inWord = true
    } else if (quote === undefined && /\s/.test(c)) {
      if (inWord) out.push(cur)
      cur = ''
      inWord = false
    } else {
      cur += c
      inWord = true
    }
  }
  if (quote !== undefined) throw new DockerfileError(line, `unterminated ${quote} in ${JSON.stringify(s)}`)
  if (inWord) out.push(cur)
  return out
}

/** `k=v k2="v 2"` (ENV, LABEL, ARG); the legacy `ENV k v` form too. */
function pairs (s: string, vars: ReadonlyMap<string, string>, line: number): Array<[string, string]> {
  const ws = words(s, vars, line)
  const first = ws[0]
  if (first !== undefined && !first.includes('=')) return [[first, ws.slice(1).join(' ')]]
  return ws.map((w) => {
    const eq = w.indexOf('=')
    if (eq <= 0) throw new DockerfileError(line, `want key=value, got ${JSON.stringify(w)}`)
    return [w.slice(0, eq), w.slice(eq + 1)]
  })
}

function execForm (args: string, line: number): string[] | undefined {
  if (!args.startsWith('[')) return undefined
  const parsed: unknown = JSON.parse(args)
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string')) throw new DockerfileError(line, `exec form must be a JSON array of strings: ${args}`)
  return parsed as string[]
}

/**
 * The stages of a Dockerfile, with `buildArgs` as `docker build --build-arg`
 * would give them (an ARG without one takes its default).
 */
export function parseDockerfile (text: string, buildArgs: Readonly<Record<string, string>> = {}): Dockerfile {
  const stages: Stage[] = []
  const globalArgs = new Map<string, string>()
  let stage: Stage | undefined
  // What `$VAR` sees in the current stage: the ARGs it declared, then its ENV.
  let vars = new Map<string, string>()
  for (const { line, keyword, args } of instructions(text)) {
    if (keyword === 'FROM') {
      const ws = words(args, globalArgs, line).filter((w) => !w.startsWith('--platform='))
      const image = ws[0]
      if (image === undefined || (ws.length !== 1 && !(ws.length === 3 && ws[1]?.toUpperCase() === 'AS'))) throw new DockerfileError(line, `want FROM image [AS name], got ${args}`)
      if (stages.some((s) => s.name === image)) throw new DockerfileError(line, `FROM an earlier stage (${image}) is not supported by this reader`)
      stage = {
        name: ws[2] ?? String(stages.length),
        image,
        workdir: '/',
        user: undefined,
        env: new Map(),
        labels: new Map(),
        expose: [],
        entrypoint: undefined,
        cmd: undefined,
        healthcheck: undefined,
        steps: [],
      }
      stages.push(stage)
      vars = new Map()
      continue
    }
    if (keyword === 'ARG') {
      for (const w of words(args, stage === undefined ? globalArgs : vars, line)) {
        const eq = w.indexOf('=')
        const name = eq < 0 ? w : w.slice(0, eq)
        const value = buildArgs[name] ?? (eq < 0 ? (stage === undefined ? undefined : globalArgs.get(name)) : w.slice(eq + 1))
        if (stage === undefined) globalArgs.set(name, value ?? '')
        else if (!stage.env.has(name)) vars.set(name, value ?? '')
      }
      continue
    }
    if (stage === undefined) throw new DockerfileError(line, `${keyword} before the first FROM`)
    switch (keyword) {
      case 'ENV':
        for (const [k, v] of pairs(args, vars, line)) { stage.env.set(k, v); vars.set(k, v) }
        break
      case 'LABEL':
        for (const [k, v] of pairs(args, vars, line)) stage.labels.set(k, v)
        break
      case 'WORKDIR':
        stage.workdir = path.posix.resolve(stage.workdir, words(args, vars, line).join(' '))
        break
      case 'USER':
        stage.user = words(args, vars, line).join(' ')
        break
      case 'EXPOSE':
        stage.expose.push(...words(args, vars, line))
        break
      case 'ENTRYPOINT':
        stage.entrypoint = execForm(args, line) ?? ['/bin/sh', '-c', args]
        break
      case 'CMD':
        stage.cmd = execForm(args, line) ?? ['/bin/sh', '-c', args]
        break
      case 'HEALTHCHECK':
        stage.healthcheck = args
        break
      case 'RUN':
        if (args.startsWith('[') || args.startsWith('--')) throw new DockerfileError(line, 'RUN in exec form or with flags is not supported by this reader')
        stage.steps.push({ kind: 'run', line, command: args, workdir: stage.workdir })
        break
      case 'COPY': {
        const ws = execForm(args, line) ?? words(args, vars, line)
        let from: string | undefined
        while (ws[0]?.startsWith('--') === true) {
          const flag = ws.shift() as string
          if (flag.startsWith('--from=')) from = flag.slice('--from='.length)
          else if (!/^--(chown|chmod)=/.test(flag) && flag !== '--link') throw new DockerfileError(line, `COPY ${flag} is not supported by this reader`)
        }
        const dest = ws.pop()
        if (dest === undefined || ws.length === 0) throw new DockerfileError(line, `want COPY source... dest, got ${args}`)
        if (from !== undefined && !stages.some((s) => s.name === from)) throw new DockerfileError(line, `COPY --from=${from}: no earlier stage of that name`)
        const destIsDir = dest.endsWith('/') || ws.length > 1
        if (ws.length > 1 && !dest.endsWith('/')) throw new DockerfileError(line, 'COPY with several sources needs a destination ending in /')
        stage.steps.push({ kind: 'copy', line, from, sources: ws, dest: path.posix.resolve(stage.workdir, dest), destIsDir })
        break
      }
      default:
        throw new DockerfileError(line, `${keyword} is not understood by this reader (test/helpers/dockerfile.ts)`)
    }
  }
  const runtime = stages.at(-1)
  if (runtime === undefined) throw new Error('Dockerfile: no FROM')
  return { stages, runtime }
}

/** One .dockerignore line compiled: Go's filepath.Match with Docker's `**`. */
interface IgnorePattern { re: RegExp, negated: boolean }

function compilePattern (pattern: string): RegExp {
  let re = ''
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string
    if (c === '*' && pattern[i + 1] === '*') {
      i++
      // `**/` matches zero or more directories; a trailing `**` anything.
      if (pattern[i + 1] === '/') { i++; re += '(?:.*/)?' } else re += '.*'
    } else if (c === '*') {
      re += '[^/]*'
    } else if (c === '?') {
      re += '[^/]'
    } else if (c === '[') {
      const end = pattern.indexOf(']', i)
      if (end < 0) throw new Error(`.dockerignore: unterminated [ in ${pattern}`)
      re += `[${pattern.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`
      i = end
    } else {
      re += c.replace(/[.+^${}()|\\]/g, '\\$&')
    }
  }
  return new RegExp(`^${re}$`)
}

export interface BuildContext {
  /** Whether `docker build` leaves this context-relative path out (a file, or a directory and all below it). */
  ignored (relPath: string): boolean
  /** Every file `docker build` sends, context-relative, sorted. */
  files (): string[]
}

/**
 * The build context at `root` as the engine sees it after .dockerignore:
 * each pattern is matched against a path and each of its parent
 * directories, and the last pattern that matches decides (`!` keeps).
 */
export function buildContext (root: string): BuildContext {
  const file = path.join(root, '.dockerignore')
  const patterns: IgnorePattern[] = (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negated = l.startsWith('!')
      const p = path.posix.normalize((negated ? l.slice(1) : l).trim()).replace(/^\/+/, '').replace(/\/+$/, '')
      return { re: compilePattern(p), negated }
    })
  const ignored = (relPath: string): boolean => {
    const parts = path.posix.normalize(relPath).split('/')
    const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'))
    let out = false
    for (const p of patterns) {
      if (prefixes.some((prefix) => p.re.test(prefix))) out = !p.negated
    }
    return out
  }
  // A directory left out is not walked, unless a `!` pattern could bring something below it back.
  const prune = !patterns.some((p) => p.negated)
  const files = (): string[] => {
    const out: string[] = []
    const walk = (rel: string): void => {
      for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
        const r = rel === '' ? e.name : `${rel}/${e.name}`
        if (e.isDirectory()) {
          if (!(prune && ignored(r))) walk(r)
        } else if (!ignored(r)) {
          out.push(r)
        }
      }
    }
    walk('')
    return out.sort()
  }
  return { ignored, files }
}
