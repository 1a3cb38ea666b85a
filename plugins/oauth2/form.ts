// application/x-www-form-urlencoded bodies as Go's url.Values.Encode writes
// them: keys sorted, each value QueryEscape'd (space as `+`).
import { queryEscape } from '../../src/go-format.js'

/** A form: one value per field, as the oauth2 token requests use it. */
export type Form = Map<string, string>

export function encodeForm (form: Form): string {
  return [...form.keys()].sort().map((k) => `${queryEscape(k)}=${queryEscape(form.get(k) as string)}`).join('&')
}
