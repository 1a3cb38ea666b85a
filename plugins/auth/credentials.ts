// Credential values for the Authorization header (basic_auth, authorization):
// read on every request, since a file may have been rotated, and checked
// for what Go's transport would refuse to send.
import { invalidHeaderValue, utf8HeaderValue } from '../../src/client/headers.js'
import { readValue, type ValueSource } from '../../src/client/secret.js'
import { Errors } from '../../src/errors.js'

/** A value getter that stays synchronous for inline values (the common hot path). */
export function getter (src: ValueSource | undefined, what: string): () => string | Promise<string> {
  if (src === undefined) return () => ''
  if (src.kind === 'inline') {
    const v = src.value
    return () => v.reveal()
  }
  return () => readValue(src, what)
}

/**
 * The header value as the bytes Go would send (see utf8HeaderValue). A control
 * character (a credentials file of two lines) fails the scrape in Prometheus
 * too; here it names the credentials, never their content, instead of
 * surfacing as a connection error.
 */
export function headerBytes (value: string, from: string): string {
  if (invalidHeaderValue(value)) {
    throw new Errors.CREDENTIALS(`${from}: net/http: invalid header field value for "Authorization" (control character in the credentials)`)
  }
  return utf8HeaderValue(value)
}
