// Server-rendered HTML without a template engine: `html` is a tagged template
// that escapes every value put into it, so markup can only come from the
// template's own literal text. A value is inserted as it is only when it is
// itself the result of `html` (a fragment); an array inserts each of its
// items the same way. Job names, targets and error reasons come from the
// config and from targets: the status page puts them only through here.

/** Markup made by `html`: the one kind of value inserted without escaping. */
export class Html {
  constructor (readonly text: string) {}
}

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\'': '&#39;' }

/** `s` as text in HTML: safe in an element's content and in a quoted attribute value. */
export function escapeHtml (s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c] as string)
}

export type HtmlValue = Html | string | number | undefined | readonly HtmlValue[]

function insert (value: HtmlValue): string {
  if (value instanceof Html) return value.text
  if (value === undefined) return ''
  if (typeof value === 'number') return escapeHtml(String(value))
  if (typeof value === 'string') return escapeHtml(value)
  return value.map(insert).join('')
}

export function html (strings: TemplateStringsArray, ...values: readonly HtmlValue[]): Html {
  let out = strings[0] ?? ''
  values.forEach((value, i) => { out += insert(value) + (strings[i + 1] ?? '') })
  return new Html(out)
}
