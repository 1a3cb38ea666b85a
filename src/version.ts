// The gateway's version, from package.json (one source of truth). The file is
// found by walking up, so it works from src/ (tsx) and from dist/src/ (built).
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

function findPackageJson (): string {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir)
    if (up === dir) throw new Error('package.json not found above ' + fileURLToPath(import.meta.url))
    dir = up
  }
  return path.join(dir, 'package.json')
}

const packageJson = findPackageJson()

export const VERSION: string = (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version

/** The installed package's root: where the embedded default config lives. */
export const PACKAGE_ROOT: string = path.dirname(packageJson)
