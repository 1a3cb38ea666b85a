// A typed view over one node of the parsed YAML document. Every decode step
// goes through a Cursor, so every error names file:line:col and the key path
// (`scrape_configs[2].tls_config.ca_fil`) of the node it is about.
import path from 'node:path'
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type Pair, type YAMLMap } from 'yaml'
import { parseDuration } from './duration.js'
import { parseBase2Bytes } from './bytes.js'

export class ConfigError extends Error {
  constructor (
    readonly file: string,
    readonly line: number,
    readonly col: number,
    readonly keyPath: string,
    readonly detail: string
  ) {
    // Line 0: about the file as a whole (it cannot be read), not a place in it.
    super(`${line === 0 ? file : `${file}:${line}:${col}`}: ${keyPath === '' ? '' : keyPath + ': '}${detail}`)
    this.name = 'ConfigError'
  }
}

/** What every cursor of one document shares. */
export interface Source {
  readonly file: string
  readonly dir: string
  readonly doc: Document.Parsed
  readonly lines: LineCounter
}

// yaml.v2's names for node kinds, so type errors read as Prometheus's do.
function tagOf (node: Node | null): string {
  if (node === null) return '!!null'
  if (isMap(node)) return '!!map'
  if (isSeq(node)) return '!!seq'
  if (isScalar(node)) {
    const v = node.value
    if (v === null) return '!!null'
    if (typeof v === 'boolean') return '!!bool'
    if (typeof v === 'number') return Number.isInteger(v) ? '!!int' : '!!float'
    return '!!str'
  }
  return '!!unknown'
}

export class Cursor {
  readonly node: Node | null

  constructor (
    readonly src: Source,
    node: unknown,
    readonly path: string,
    /** Where to point when the node itself is absent (e.g. `key:` with no value). */
    readonly anchor: Node | null = null
  ) {
    let n = (node ?? null) as Node | null
    if (n !== null && isAlias(n)) n = (n.resolve(src.doc) ?? null) as Node | null
    this.node = n
  }

  error (detail: string): ConfigError {
    const at = this.node?.range?.[0] ?? this.anchor?.range?.[0] ?? 0
    const { line, col } = this.src.lines.linePos(at)
    return new ConfigError(this.src.file, line, col, this.path, detail)
  }

  isNull (): boolean {
    return this.node === null || (isScalar(this.node) && this.node.value === null)
  }

  /** yaml.v2's wording: a scalar's value is quoted, cut to 7 characters and `...` past 10. */
  private typeError (want: string): ConfigError {
    const tag = tagOf(this.node)
    let value = ''
    if (this.node !== null && isScalar(this.node)) {
      const text = (this.node as { source?: string }).source ?? String(this.node.value)
      value = ` \`${text.length > 10 ? text.slice(0, 7) + '...' : text}\``
    }
    return this.error(`cannot unmarshal ${tag}${value} into ${want}`)
  }

  /** A scalar as Go's yaml.v2 decodes it into a string field: its source text. */
  string (): string {
    if (this.isNull()) return ''
    if (!isScalar(this.node)) throw this.typeError('string')
    const n = this.node as { source?: string, value: unknown }
    return typeof n.value === 'string' ? n.value : (n.source ?? String(n.value))
  }

  bool (): boolean {
    if (this.isNull()) return false
    if (!isScalar(this.node) || typeof this.node.value !== 'boolean') throw this.typeError('bool')
    return this.node.value
  }

  int (): number {
    if (this.isNull()) return 0
    if (!isScalar(this.node) || typeof this.node.value !== 'number' || !Number.isInteger(this.node.value)) throw this.typeError('int')
    return this.node.value
  }

  /** A Prometheus duration, in milliseconds. */
  duration (): number {
    return this.parsed(parseDuration)
  }

  /** A Prometheus Base2Bytes size, in bytes. */
  bytes (): number {
    return this.parsed(parseBase2Bytes)
  }

  /** A path, joined to the config file's directory when relative (as Prometheus does). */
  filePath (): string {
    const p = this.string()
    return p === '' ? '' : path.resolve(this.src.dir, p)
  }

  private parsed<T> (parse: (s: string) => T): T {
    const s = this.string()
    try {
      return parse(s)
    } catch (err) {
      throw this.error((err as Error).message)
    }
  }

  list (): Cursor[] {
    if (this.isNull()) return []
    if (!isSeq(this.node)) throw this.typeError('[]' + 'string')
    return this.node.items.map((item, i) => new Cursor(this.src, item, `${this.path}[${i}]`, this.node))
  }

  stringList (): string[] {
    return this.list().map((c) => c.string())
  }

  /** A mapping; null (an empty `key:`) is an empty mapping, as in Go. */
  map (): MapCursor {
    if (this.isNull()) return new MapCursor(this.src, null, this.path, this.node ?? this.anchor)
    if (!isMap(this.node)) throw this.typeError('map')
    return new MapCursor(this.src, this.node, this.path, this.node)
  }
}

export class MapCursor {
  private readonly entries = new Map<string, { key: Node, value: Cursor }>()

  constructor (readonly src: Source, readonly node: YAMLMap | null, readonly path: string, readonly anchor: Node | null) {
    for (const pair of (node?.items ?? []) as Pair[]) {
      const keyNode = pair.key as Node
      const key = new Cursor(src, keyNode, path).string()
      const childPath = path === '' ? key : `${path}.${key}`
      this.entries.set(key, { key: keyNode, value: new Cursor(src, pair.value, childPath, keyNode) })
    }
  }

  keys (): string[] {
    return [...this.entries.keys()]
  }

  has (key: string): boolean {
    return this.entries.has(key)
  }

  /** Present and not null. */
  set (key: string): boolean {
    const e = this.entries.get(key)
    return e !== undefined && !e.value.isNull()
  }

  get (key: string): Cursor | undefined {
    return this.entries.get(key)?.value
  }

  /** A cursor for `key`, present or not; an absent key points at the mapping. */
  at (key: string): Cursor {
    return this.get(key) ?? new Cursor(this.src, null, this.path === '' ? key : `${this.path}.${key}`, this.node ?? this.anchor)
  }

  /** A cursor on the key itself (for "unknown field" errors). */
  keyCursor (key: string): Cursor {
    const e = this.entries.get(key)
    return new Cursor(this.src, e?.key ?? null, this.path === '' ? key : `${this.path}.${key}`, this.node ?? this.anchor)
  }

  error (detail: string): ConfigError {
    return new Cursor(this.src, this.node, this.path, this.anchor).error(detail)
  }
}

/**
 * The top-level map of a YAML file, parsed as yaml.v2 reads it (YAML 1.1,
 * duplicate keys refused), or a ConfigError at the first syntax error; `file`
 * names it in messages and anchors relative paths.
 */
export function parseYamlFile (text: string, file: string): MapCursor {
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, version: '1.1', uniqueKeys: true, prettyErrors: false })
  const first = doc.errors[0]
  if (first !== undefined) {
    // linePos is only filled in with prettyErrors; pos is always there.
    const at = lines.linePos(first.pos[0])
    throw new ConfigError(file, at.line, at.col, '', `yaml: ${first.message.split('\n')[0] ?? ''}`)
  }
  const src: Source = { file, dir: path.dirname(path.resolve(file)), doc, lines }
  return new Cursor(src, doc.contents, '').map()
}
