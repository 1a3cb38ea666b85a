// Field helpers for the auth blocks, with yaml.v2's and prometheus/common's
// notion of a field being set: a string field counts when it is not empty.
import type { Cursor, MapCursor } from '../../src/config/cursor.js'
import { fileSourceAt, secretAt, type ValueSource } from '../../src/client/secret.js'
import { atMostOne } from '../../src/config/feature.js'

/** A mapping with only `known` keys, as yaml.v2's strict decoding into a struct wants. */
export function strictMap (c: Cursor, known: readonly string[]): MapCursor {
  const m = c.map()
  for (const key of m.keys()) {
    if (!known.includes(key)) throw m.keyCursor(key).error(`field ${key} not found in type config.plain`)
  }
  return m
}

/** Go's `len(s) > 0` on a string field: present, not null, not empty. Type errors surface here. */
export function given (m: MapCursor, key: string): boolean {
  return m.set(key) && m.at(key).string() !== ''
}

/** Fails, at the second one, if more than one of `keys` is given (Go's nonZeroCount(...) > 1). */
export function atMostOneGiven (m: MapCursor, keys: readonly string[], message: string): void {
  atMostOne(m, keys.filter((k) => given(m, k)), message)
}

export function refuseRefs (m: MapCursor, keys: readonly string[]): void {
  for (const key of keys) {
    if (given(m, key)) {
      throw m.at(key).error(`${key} needs a secret manager, which scrape-gateway (like Prometheus) does not have; use the inline or _file form`)
    }
  }
}

/**
 * The inline secret or the file, whichever is given (at most one: checked
 * before). An inline `<secret>` is refused (secretAt), the basic_auth
 * username's too: it is held as the other credentials are.
 */
export function source (m: MapCursor, inline: string, file: string, fileKey: string): ValueSource | undefined {
  if (given(m, inline)) return { kind: 'inline', value: secretAt(m.at(inline)) }
  if (given(m, file)) return fileSourceAt(m.at(file), fileKey)
  return undefined
}
