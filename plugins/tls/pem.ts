// PEM material checked the way Go's crypto/tls and crypto/x509 check it, with
// their error words: a CA bundle (x509.CertPool.AppendCertsFromPEM) and a
// client certificate with its key (tls.X509KeyPair).
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto'

interface PemBlock { type: string, text: string }

const PEM_BLOCK = /-----BEGIN ([^-\r\n]+)-----\r?\n[\s\S]*?-----END \1-----/g

function pemBlocks (pem: string): PemBlock[] {
  return [...pem.matchAll(PEM_BLOCK)].map((m) => ({ type: m[1] as string, text: m[0] }))
}

/**
 * The CERTIFICATE blocks of a bundle that parse; Go skips the others and
 * fails only when none parse (`unable to use specified CA cert ...`).
 * Node gets just these blocks, so a stray bad block cannot fail a handshake.
 */
export function caCertificates (pem: string): string[] {
  return pemBlocks(pem).filter((b) => {
    if (b.type !== 'CERTIFICATE') return false
    try {
      new X509Certificate(b.text) // eslint-disable-line no-new
      return true
    } catch {
      return false
    }
  }).map((b) => b.text)
}

/** Go's fmt of a []string: `[A B]`. */
function goList (items: string[]): string {
  return `[${items.join(' ')}]`
}

/**
 * Checks a client certificate and key as tls.X509KeyPair does, throwing its
 * message (`tls: private key does not match public key`, ...). Returns the
 * leaf certificate.
 */
export function checkKeyPair (certPem: string, keyPem: string): X509Certificate {
  const certBlocks = pemBlocks(certPem)
  const certs = certBlocks.filter((b) => b.type === 'CERTIFICATE')
  if (certs.length === 0) {
    const skipped = certBlocks.map((b) => b.type)
    if (skipped.length === 0) throw new Error('tls: failed to find any PEM data in certificate input')
    if (skipped.length === 1 && (skipped[0] as string).endsWith('PRIVATE KEY')) {
      throw new Error('tls: failed to find certificate PEM data in certificate input, but did find a private key; PEM inputs may have been switched')
    }
    throw new Error(`tls: failed to find "CERTIFICATE" PEM block in certificate input after skipping PEM blocks of the following types: ${goList(skipped)}`)
  }

  const skipped: string[] = []
  let keyBlock: PemBlock | undefined
  for (const b of pemBlocks(keyPem)) {
    if (b.type === 'PRIVATE KEY' || b.type.endsWith(' PRIVATE KEY')) {
      keyBlock = b
      break
    }
    skipped.push(b.type)
  }
  if (keyBlock === undefined) {
    if (skipped.length === 0) throw new Error('tls: failed to find any PEM data in key input')
    if (skipped.length === 1 && skipped[0] === 'CERTIFICATE') throw new Error('tls: found a certificate rather than a key in the PEM for the private key')
    throw new Error(`tls: failed to find PEM block with type ending in "PRIVATE KEY" in key input after skipping PEM blocks of the following types: ${goList(skipped)}`)
  }

  let leaf: X509Certificate
  try {
    leaf = new X509Certificate((certs[0] as PemBlock).text)
  } catch {
    throw new Error('x509: malformed certificate')
  }
  let key: KeyObject
  try {
    key = createPrivateKey({ key: keyBlock.text, format: 'pem' })
  } catch {
    // Also an encrypted key: Go cannot use one either.
    throw new Error('tls: failed to parse private key')
  }
  const publicType = leaf.publicKey.asymmetricKeyType
  if (publicType !== 'rsa' && publicType !== 'ec' && publicType !== 'ed25519') throw new Error('tls: unknown public key algorithm')
  if (key.asymmetricKeyType !== publicType) throw new Error('tls: private key type does not match public key type')
  if (!leaf.checkPrivateKey(key)) throw new Error('tls: private key does not match public key')
  return leaf
}
