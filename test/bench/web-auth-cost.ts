// What basic_auth_users costs per request once a pair is cached, against
// what a bcrypt costs: N authorized requests to a gateway with a web config,
// N to one without, and N bcrypt compares (bcryptjs, async, as the gateway
// runs them). Not a test: it prints figures (README "Web config" keeps them).
//
//   npx tsx test/bench/web-auth-cost.ts [--requests=1000] [--compares=1000] [--cost=10]
import http from 'node:http'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import bcrypt from 'bcryptjs'
import { buildServer } from '../../src/server.js'
import { BasicAuthUsers } from '../../plugins/web/basic-auth.js'
import { Secret } from '../../src/client/secret.js'
import { writeConfig } from '../helpers/gateway.js'

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '1000' },
    compares: { type: 'string', default: '1000' },
    cost: { type: 'string', default: '10' },
  },
})
const REQUESTS = Number(values.requests)
const COMPARES = Number(values.compares)
const COST = Number(values.cost)
const PASSWORD = 'the-password-prometheus-sends'

async function gateway (webYaml: string | undefined): Promise<{ port: number, close: () => Promise<void> }> {
  const configFile = writeConfig('scrape_configs:\n  - job_name: a\n    static_configs: [{ targets: ["127.0.0.1:9"] }]\n')
  let webConfigFile: string | undefined
  if (webYaml !== undefined) {
    webConfigFile = path.join(path.dirname(configFile), 'web.yml')
    writeFileSync(webConfigFile, webYaml)
  }
  const app = await buildServer({ configFile, webConfigFile, logLevel: false })
  await app.listen({ host: '127.0.0.1', port: 0 })
  return { port: (app.server.address() as { port: number }).port, close: async () => { await app.close() } }
}

/** `n` sequential GET /-/ready on one keep-alive connection; milliseconds in all. */
async function requests (port: number, n: number, authorization: string | undefined): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  const one = async (): Promise<void> => new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/-/ready', agent, headers: authorization === undefined ? {} : { authorization } }, (res) => {
      res.resume()
      res.on('end', () => res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode ?? 0}`)))
    }).on('error', reject)
  })
  await one() // the connection, and for basic auth the one bcrypt whose outcome is then cached
  const started = performance.now()
  for (let i = 0; i < n; i++) await one()
  const ms = performance.now() - started
  agent.destroy()
  return ms
}

const hash = bcrypt.hashSync(PASSWORD, COST)
const authorization = `Basic ${Buffer.from(`prometheus:${PASSWORD}`).toString('base64')}`
const line = (what: string, n: number, ms: number): void => {
  process.stdout.write(`${what.padEnd(44)} ${String(n).padStart(5)} in ${ms.toFixed(0).padStart(7)} ms: ${(ms * 1000 / n).toFixed(1).padStart(9)} µs each\n`)
}

process.stdout.write(`node ${process.version}, bcryptjs, cost ${COST}\n`)
const plain = await gateway(undefined)
const withAuth = await gateway(`basic_auth_users:\n  prometheus: ${hash}\n`)
// Alternated, three times, so neither side gets the warmer JIT.
for (let round = 1; round <= 3; round++) {
  line(`round ${round}: requests, no web config`, REQUESTS, await requests(plain.port, REQUESTS, undefined))
  line(`round ${round}: requests, basic auth (cached pair)`, REQUESTS, await requests(withAuth.port, REQUESTS, authorization))
}
await plain.close()
await withAuth.close()

// The check alone, in process: HMAC-SHA256 of the pair, a Map lookup, a constant-time compare.
const users = new BasicAuthUsers(new Map([['prometheus', new Secret(hash)]]))
await users.ready()
await users.check(authorization)
let started = performance.now()
for (let i = 0; i < REQUESTS; i++) {
  if (await users.check(authorization) !== 'ok') throw new Error('check failed')
}
line('BasicAuthUsers.check, cached pair', REQUESTS, performance.now() - started)

started = performance.now()
for (let i = 0; i < COMPARES; i++) {
  if (!await bcrypt.compare(PASSWORD, hash)) throw new Error('compare failed')
}
line('bcrypt compares (bcryptjs, async)', COMPARES, performance.now() - started)
started = performance.now()
for (let i = 0; i < Math.min(COMPARES, 20); i++) bcrypt.compareSync(PASSWORD, hash)
line('bcrypt compares (bcryptjs, sync)', Math.min(COMPARES, 20), performance.now() - started)
