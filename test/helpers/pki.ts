// Test PKI built with the openssl CLI. Leaf certs are signed with `openssl ca`
// because OpenSSL 3.0's `x509 -req` cannot set explicit notBefore/notAfter
// (-not_before/-not_after arrived in 3.4); `ca -startdate/-enddate` can.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

export interface CertPair { cert: string; key: string; certFile: string; keyFile: string }

export interface IssueOptions {
  cn: string
  /** e.g. 'IP:127.0.0.1', 'DNS:localhost'. Default for server certs: both of those; for client certs: none. */
  sans?: string[]
  /** extendedKeyUsage clientAuth instead of serverAuth */
  client?: boolean
  /** validity length, default 30 */
  days?: number
  /** 'past': expired (validity ends a day ago); 'future': not yet valid (starts in a day) */
  notBefore?: 'past' | 'future'
}

export interface Ca extends CertPair {
  issue(opts: IssueOptions): CertPair
}

const DAY = 86_400_000

export function tmpDir (prefix = 'sg-pki-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix))
}

function openssl (args: string[], cwd: string): void {
  // stderr is piped so that a failure's message carries openssl's diagnostics
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
}

/** YYYYMMDDHHMMSSZ, accepted by `openssl ca -startdate/-enddate` */
function asn1Time (d: Date): string {
  return d.toISOString().replace(/[-:T]/g, '').replace(/\.\d+Z$/, 'Z')
}

function safeName (cn: string): string {
  return cn.replace(/[^A-Za-z0-9_.-]/g, '_')
}

function subject (cn: string): string {
  return '/CN=' + cn.replace(/[/\\]/g, '\\$&')
}

function readPair (certFile: string, keyFile: string): CertPair {
  return { cert: fs.readFileSync(certFile, 'utf8'), key: fs.readFileSync(keyFile, 'utf8'), certFile, keyFile }
}

export function createCa (name = 'scrape-gateway test CA'): Ca {
  const dir = tmpDir()
  const cnf = path.join(dir, 'openssl.cnf')
  fs.mkdirSync(path.join(dir, 'newcerts'))
  fs.writeFileSync(path.join(dir, 'index.txt'), '')
  // A private config so the system openssl.cnf (and its default extensions) never applies.
  fs.writeFileSync(cnf, `
[ca]
default_ca = test_ca

[test_ca]
dir = ${dir}
database = $dir/index.txt
new_certs_dir = $dir/newcerts
certificate = $dir/ca.crt
private_key = $dir/ca.key
rand_serial = yes
unique_subject = no
default_md = sha256
policy = policy_any
email_in_dn = no
copy_extensions = none

[policy_any]
commonName = supplied

[req]
distinguished_name = req_dn
prompt = no
x509_extensions = v3_ca

[req_dn]
CN = unused

[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
`)

  openssl(['req', '-config', cnf, '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', subject(name), '-days', '3650'], dir)

  let seq = 0
  const issue = (opts: IssueOptions): CertPair => {
    const base = `${++seq}-${safeName(opts.cn)}`
    const keyFile = path.join(dir, `${base}.key`)
    const certFile = path.join(dir, `${base}.crt`)
    const csr = `${base}.csr`
    const ext = `${base}.ext`
    const sans = opts.sans ?? (opts.client ? [] : ['IP:127.0.0.1', 'DNS:localhost'])
    const days = opts.days ?? 30

    // Start an hour back so small clock differences never make a fresh cert "not yet valid".
    const now = Date.now()
    let start = now - 3_600_000
    if (opts.notBefore === 'past') start = now - (days + 1) * DAY
    if (opts.notBefore === 'future') start = now + DAY
    const end = opts.notBefore === 'past' ? now - DAY : start + days * DAY

    fs.writeFileSync(path.join(dir, ext), [
      '[leaf]',
      'basicConstraints = critical, CA:FALSE',
      'keyUsage = critical, digitalSignature',
      `extendedKeyUsage = ${opts.client ? 'clientAuth' : 'serverAuth'}`,
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid',
      ...(sans.length > 0 ? [`subjectAltName = ${sans.join(', ')}`] : []),
      '',
    ].join('\n'))

    openssl(['req', '-config', cnf, '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', keyFile, '-out', csr, '-subj', subject(opts.cn)], dir)
    openssl(['ca', '-config', cnf, '-batch', '-notext', '-in', csr, '-out', certFile,
      '-startdate', asn1Time(new Date(start)), '-enddate', asn1Time(new Date(end)),
      '-extfile', ext, '-extensions', 'leaf'], dir)
    return readPair(certFile, keyFile)
  }

  return { ...readPair(path.join(dir, 'ca.crt'), path.join(dir, 'ca.key')), issue }
}
