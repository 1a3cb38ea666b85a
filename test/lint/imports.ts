// `npm run lint`'s import check: no circle between two files of src/ and
// plugins/, and none between two folders (src/config -> src/scrape ->
// src/config is a circle even when no two files import each other). The
// files at the top of src/ and plugins/ (the composition root, the error
// registry, each plugin's entry) count as folders of their own. A circle
// means a folder holds another folder's concern; the fix is to move the thing
// both need, not to break the cycle with a lazy import.
//
//   npx tsx test/lint/imports.ts        exit 1 and one line per circle, or 0
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const TREES = ['src', 'plugins']

function files (dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(dir, e.name)
    if (e.isDirectory()) return files(rel)
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [rel] : []
  })
}

/** Relative imports of a file (static, type-only, re-exports and dynamic), as repo-relative .ts paths. */
function imports (file: string): string[] {
  const text = readFileSync(path.join(ROOT, file), 'utf8')
  const specs = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)'(\.{1,2}\/[^']+)'/g)].map((m) => m[1] as string)
  return specs.map((s) => path.join(path.dirname(file), s).replace(/\.js$/, '.ts'))
}

/** The circles of a directed graph: its strongly connected components with more than one node (Tarjan). */
export function circles (graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  let next = 0
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const found: string[][] = []
  const visit = (v: string): void => {
    index.set(v, next)
    low.set(v, next++)
    stack.push(v)
    onStack.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number))
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) as number, index.get(w) as number))
      }
    }
    if (low.get(v) !== index.get(v)) return
    const component: string[] = []
    for (let w = stack.pop(); w !== undefined; w = stack.pop()) {
      onStack.delete(w)
      component.push(w)
      if (w === v) break
    }
    if (component.length > 1) found.push(component.sort())
  }
  for (const v of graph.keys()) if (!index.has(v)) visit(v)
  return found
}

/** A file's folder, or the file itself when it sits at the top of src/ or plugins/. */
function room (file: string): string {
  const dir = path.dirname(file)
  return TREES.includes(dir) ? file : dir
}

function add (graph: Map<string, Set<string>>, from: string, to: string): void {
  if (from === to) return
  let edges = graph.get(from)
  if (edges === undefined) graph.set(from, edges = new Set())
  edges.add(to)
  if (!graph.has(to)) graph.set(to, new Set())
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const byFile = new Map<string, Set<string>>()
  const byFolder = new Map<string, Set<string>>()
  for (const file of TREES.flatMap(files)) {
    if (!byFile.has(file)) byFile.set(file, new Set())
    for (const target of imports(file)) {
      add(byFile, file, target)
      add(byFolder, room(file), room(target))
    }
  }
  const problems = [
    ...circles(byFile).map((c) => `file circle: ${c.join(' <-> ')}`),
    ...circles(byFolder).map((c) => `folder circle: ${c.join(' <-> ')}`),
  ]
  for (const p of problems) process.stdout.write(`${p}\n`)
  process.stdout.write(problems.length === 0 ? `imports: no circles among ${byFile.size} files\n` : '')
  process.exitCode = problems.length === 0 ? 0 : 1
}
