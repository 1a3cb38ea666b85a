// authorization's Authorization value: `<type> <credentials>`, the
// credentials read for every request (files may be rotated).
import { getter, headerBytes } from '../auth/credentials.js'
import type { Authorization } from './settings.js'

function credentialsOrigin (a: Authorization): string {
  const c = a.credentials
  if (c?.kind === 'file') return `${c.key} ${c.file.path}`
  return a.from === 'authorization' ? 'authorization.credentials' : a.from
}

export function authorizationValue (a: Authorization): () => string | Promise<string> {
  const credentials = getter(a.credentials, 'authorization credentials')
  const from = credentialsOrigin(a)
  // Go's HTTP/1.1 writer trims the trailing space of "Bearer " when credentials are empty.
  const join = (c: string): string => headerBytes(c === '' ? a.type : `${a.type} ${c}`, from)
  return () => {
    const c = credentials()
    return typeof c === 'string' ? join(c) : c.then(join)
  }
}
