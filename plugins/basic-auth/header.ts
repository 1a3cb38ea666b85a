// basic_auth's Authorization value: `Basic base64(username:password)`, each
// part read for every request (files may be rotated).
import { getter } from '../auth/credentials.js'
import type { BasicAuth } from './settings.js'

export function basicValue (b: BasicAuth): () => string | Promise<string> {
  const username = getter(b.username, 'basic auth username')
  const password = getter(b.password, 'basic auth password')
  const encode = (u: string, p: string): string => 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64')
  return () => {
    const u = username()
    const p = password()
    if (typeof u === 'string' && typeof p === 'string') return encode(u, p)
    // Both read; a failure is reported for the username first, as Go reads it first.
    return Promise.allSettled([u, p]).then(([ru, rp]) => {
      if (ru.status === 'rejected') throw ru.reason
      if (rp.status === 'rejected') throw rp.reason
      return encode(ru.value, rp.value)
    })
  }
}
