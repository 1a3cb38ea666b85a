// application/x-www-form-urlencoded bodies as Go's url.Values.Encode writes
// them: keys sorted, each value QueryEscape'd (space as `+`).

/** Go's url.QueryEscape: everything but A-Z a-z 0-9 - _ . ~ is %XX-escaped, space is `+`. */
export function queryEscape (s: string): string {
  return encodeURIComponent(s).replace(/%20/g, '+').replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())
}

/** A form: one value per field, as the oauth2 token requests use it. */
export type Form = Map<string, string>

export function encodeForm (form: Form): string {
  return [...form.keys()].sort().map((k) => `${queryEscape(k)}=${queryEscape(form.get(k) as string)}`).join('&')
}
