// Starts a real gateway on 127.0.0.1 port 0 from a YAML config written to a
// temp dir (relative paths in it resolve against that dir).
import { mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { FastifyInstance } from 'fastify'
import { buildServer, type ServerOptions } from '../../src/server.js'

export interface Gateway {
  app: FastifyInstance
  /** http://127.0.0.1:PORT */
  url: string
  configFile: string
  dir: string
  /** GET /probe?job=J&target=T with optional headers, via fetch. */
  probe (job: string, target: string, headers?: Record<string, string>): Promise<Response>
  close (): Promise<void>
}

export function writeConfig (yaml: string, dir = mkdtempSync(path.join(os.tmpdir(), 'sg-config-'))): string {
  const file = path.join(dir, 'scrape-gateway.yml')
  writeFileSync(file, yaml)
  return file
}

export async function startGateway (yaml: string, options: Partial<ServerOptions> = {}): Promise<Gateway> {
  const configFile = writeConfig(yaml)
  const app = await buildServer({ configFile, logLevel: false, ...options })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('gateway has no port')
  const url = `http://127.0.0.1:${address.port}`
  return {
    app,
    url,
    configFile,
    dir: path.dirname(configFile),
    probe: async (job, target, headers = {}) =>
      fetch(`${url}/probe?job=${encodeURIComponent(job)}&target=${encodeURIComponent(target)}`, { headers }),
    close: async () => { await app.close() },
  }
}
