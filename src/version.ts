// The gateway's version, from package.json (one source of truth), and the git
// commit the running code was built from. package.json is found by walking
// up, so it works from src/ (tsx) and from dist/src/ (built). Both are read
// once, when the module loads.
import { existsSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { readBoundedFile } from './config/bounded-file.js'

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

/** The environment variable the image sets from its build argument of the same name (Dockerfile). */
export const REVISION_ENV = 'SCRAPE_GATEWAY_REVISION'

/**
 * The revision for `scrape_gateway_build_info`: `SCRAPE_GATEWAY_REVISION` when
 * it is set and not blank (the image has no .git: `docker build --build-arg
 * SCRAPE_GATEWAY_REVISION="$(git rev-parse HEAD)"`), else the commit checked
 * out in `root`'s own .git (a checkout run with tsx or from its dist/), else
 * `unknown`. Only `root` itself is looked at, never a directory above it: a
 * package installed inside another project's repository would otherwise
 * report that project's commit.
 */
export function revisionOf (env: NodeJS.ProcessEnv, root: string): string {
  const given = env[REVISION_ENV]?.trim() ?? ''
  if (given !== '') return given
  return gitCommit(root) ?? 'unknown'
}

// Reading .git by hand instead of spawning git: the gateway starts no child
// process (its image has no git, and PID 1 reaps nothing), and git's own
// answer needs the binary and a safe.directory that matches the owner. The
// files are small and their format is stable: HEAD is a commit id (detached)
// or `ref: refs/...`; a branch is a loose file under refs/ or a line of
// packed-refs (`<id> <refname>`; `#` headers and `^` peeled tag lines are
// skipped). A worktree's .git is a file (`gitdir: <dir>`) whose HEAD is its
// own while its branches live in the main repository (`commondir`). Anything
// else (a reftable repository, a damaged one, a ref chain deeper than git
// allows) is no answer rather than a guess.

/** A git object id: SHA-1 or SHA-256. */
const OBJECT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/
/** A ref name as HEAD or a symbolic ref may hold one: under refs/, with none of the characters git refuses in one. */
const REF_NAME = /^refs\/[^\s~^:?*[\\]+$/
/** git follows at most 5 levels of symbolic refs (refs.c, SYMREF_MAXDEPTH). */
const MAX_SYMREF_DEPTH = 5
/** HEAD, a loose ref, `.git` and `commondir` are one line each. */
const SMALL_FILE_LIMIT = 4 * 1024
/** packed-refs has a line (about 90 bytes) per tag and branch: a hundred thousand refs are 9 MB. */
const PACKED_REFS_LIMIT = 64 * 1024 * 1024

/** A file's first line, or undefined when it cannot be read (missing, not a regular file, too large). */
function firstLine (file: string): string | undefined {
  try {
    return readBoundedFile(file, SMALL_FILE_LIMIT).split('\n', 1)[0]?.trim()
  } catch {
    return undefined
  }
}

/** The repository's directories: `gitDir` holds HEAD, `commonDir` the branches (the same unless it is a worktree). */
function gitDirs (root: string): { gitDir: string, commonDir: string } | undefined {
  const dotGit = path.join(root, '.git')
  let gitDir: string
  const st = statSync(dotGit, { throwIfNoEntry: false })
  if (st === undefined) return undefined
  if (st.isDirectory()) {
    gitDir = dotGit
  } else {
    const pointer = /^gitdir: (.+)$/.exec(firstLine(dotGit) ?? '')?.[1]
    if (pointer === undefined) return undefined
    gitDir = path.resolve(root, pointer)
  }
  const common = firstLine(path.join(gitDir, 'commondir'))
  return { gitDir, commonDir: common === undefined || common === '' ? gitDir : path.resolve(gitDir, common) }
}

/** A packed ref's object id. */
function packedRef (commonDir: string, ref: string): string | undefined {
  let text: string
  try {
    text = readBoundedFile(path.join(commonDir, 'packed-refs'), PACKED_REFS_LIMIT)
  } catch {
    return undefined
  }
  for (const line of text.split('\n')) {
    const space = line.indexOf(' ')
    if (space > 0 && line.slice(space + 1).trimEnd() === ref) return line.slice(0, space)
  }
  return undefined
}

/** The commit `root`'s checkout is at, read from its .git; undefined when there is none or it cannot be told. */
export function gitCommit (root: string): string | undefined {
  try {
    return headCommit(root)
  } catch (err) {
    // A .git the process may not stat (EACCES) is no answer, and the gateway
    // starts all the same; an error without a code is a bug here, not a file.
    if ((err as NodeJS.ErrnoException).code === undefined) throw err
    return undefined
  }
}

function headCommit (root: string): string | undefined {
  const dirs = gitDirs(root)
  if (dirs === undefined) return undefined
  let value = firstLine(path.join(dirs.gitDir, 'HEAD'))
  for (let depth = 0; depth <= MAX_SYMREF_DEPTH && value !== undefined; depth++) {
    if (OBJECT_ID.test(value)) return value
    const ref = /^ref: (.+)$/.exec(value)?.[1]
    // git refuses `..` in a ref name; here it would also lead out of the repository.
    if (ref === undefined || !REF_NAME.test(ref) || ref.includes('..')) return undefined
    // Branches and tags are shared by every worktree (commonDir); a few
    // refs (refs/bisect/, refs/worktree/) are the worktree's own (gitDir).
    value = firstLine(path.join(dirs.commonDir, ref)) ??
      (dirs.gitDir === dirs.commonDir ? undefined : firstLine(path.join(dirs.gitDir, ref))) ??
      packedRef(dirs.commonDir, ref)
  }
  return undefined
}

/** Read once, when the gateway starts (after the constants above: they are used to read it). */
export const REVISION: string = revisionOf(process.env, PACKAGE_ROOT)
