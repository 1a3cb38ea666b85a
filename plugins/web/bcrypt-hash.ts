// basic_auth_users values are bcrypt hashes, checked at load as
// exporter-toolkit checks them (golang.org/x/crypto/bcrypt's Cost, with its
// messages), then for what bcryptjs can compare: a hash it cannot use would
// refuse every password at request time instead of at start.

const MIN_COST = 4
const MAX_COST = 31
/** `$2a$10$` + 22 characters of salt + 31 of hash; bcryptjs compares 60-character hashes only. */
const USABLE = /^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/

/** Throws Go's or our message when `hash` is not a bcrypt hash the gateway can check. */
export function checkBcryptHash (hash: string): void {
  // Go: bcrypt.Cost → newFromHash (minHashSize 59), decodeVersion, decodeCost.
  if (hash.length < 59) throw new Error('crypto/bcrypt: hashedSecret too short to be a bcrypted password')
  if (hash[0] !== '$') throw new Error(`crypto/bcrypt: bcrypt hashes must start with '$', but hashedSecret started with '${hash[0] as string}'`)
  if ((hash[1] as string) > '2') throw new Error(`crypto/bcrypt: bcrypt algorithm version '${hash[1] as string}' requested is newer than current version '2'`)
  const at = hash[2] === '$' ? 3 : 4
  const costText = hash.slice(at, at + 2)
  if (!/^[+-]?\d+$/.test(costText)) throw new Error(`strconv.Atoi: parsing "${costText}": invalid syntax`)
  const cost = Number(costText)
  if (cost < MIN_COST || cost > MAX_COST) throw new Error(`crypto/bcrypt: cost ${cost} is outside allowed range (${MIN_COST},${MAX_COST})`)
  if (!USABLE.test(hash)) {
    throw new Error('not a bcrypt hash scrape-gateway can check: want $2a$, $2b$ or $2y$, a two-digit cost, and 53 characters of salt and hash')
  }
}
