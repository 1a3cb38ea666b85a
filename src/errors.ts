// The one registry of coded errors. Every failure a caller can see has a stable
// code (in the one-line body, the probe log line and the probe metrics' result
// label) and a status. test/errors.test.ts ties codes to statuses and README.
import createError from '@fastify/error'

export const Errors = {
  // The caller's request is wrong.
  BAD_PARAM: createError('SG_BAD_PARAM', '%s', 400),
  UNKNOWN_JOB: createError('SG_UNKNOWN_JOB', 'unknown job %s', 400),
  BAD_TARGET: createError('SG_BAD_TARGET', '%s', 400),
  BAD_TIMEOUT_HEADER: createError('SG_BAD_TIMEOUT_HEADER', 'Failed to parse timeout from Prometheus header: %s', 400),
  TARGET_FORBIDDEN: createError('SG_TARGET_FORBIDDEN', '%s', 403),

  // The caller is not let in by the web config (--web.config.file).
  UNAUTHORIZED: createError('SG_UNAUTHORIZED', '%s', 401),
  CLIENT_CERT: createError('SG_CLIENT_CERT', '%s', 403),
  RATE_LIMITED: createError('SG_RATE_LIMITED', 'too many requests (web config rate_limit), retry later', 429),
  // The target's name is allowed, but it resolved to an address the job does not allow (found at connect time).
  ADDRESS_FORBIDDEN: createError('SG_ADDRESS_FORBIDDEN', '%s', 403),

  // The gateway's own misconfiguration, found at scrape time.
  CREDENTIALS: createError('SG_CREDENTIALS', '%s', 500),

  // A reload asked for over HTTP failed; the previous config stays in use.
  CONFIG_RELOAD: createError('SG_CONFIG_RELOAD', 'failed to reload config: %s', 500),

  // The gateway cannot take more work right now.
  OVERLOADED: createError('SG_OVERLOADED', 'the gateway is overloaded, retry later', 503),
  // Which cap was hit (the gateway's, or a job's) is in the arguments: `256 probes` / `64 probes of job "J"`, then the flag or key.
  TOO_MANY_PROBES: createError('SG_TOO_MANY_PROBES', '%s are already in flight (%s), retry later', 503),
  // No such route, or a /reports/ID the status page no longer keeps: the caller words which.
  NOT_FOUND: createError('SG_NOT_FOUND', '%s', 404),
  // The method, the route, and the methods it takes: `POST is not allowed on /probe; use GET`.
  METHOD_NOT_ALLOWED: createError('SG_METHOD_NOT_ALLOWED', '%s is not allowed on %s; use %s', 405),

  // The caller's request did not parse, so no route saw it (node's HTTP parser, Fastify's URL decoding):
  // answered in the same one-line format as every other error (src/server-errors.ts).
  BAD_REQUEST: createError('SG_BAD_REQUEST', 'bad request: %s', 400),
  REQUEST_TIMEOUT: createError('SG_REQUEST_TIMEOUT', 'the request was not received in time', 408),
  HEADERS_TOO_LARGE: createError('SG_HEADERS_TOO_LARGE', 'the request line and headers are larger than %s bytes', 431),

  // The scrape failed.
  UPSTREAM_TIMEOUT: createError('SG_UPSTREAM_TIMEOUT', 'scrape timed out after %s (%s)', 504),
  UPSTREAM_CONNECT: createError('SG_UPSTREAM_CONNECT', '%s', 502),
  // The target's response does not parse as HTTP (llhttp's HPE_* errors): a broken target, not a network failure.
  UPSTREAM_PROTOCOL: createError('SG_UPSTREAM_PROTOCOL', 'malformed response: %s', 502),
  UPSTREAM_TLS: createError('SG_UPSTREAM_TLS', '%s', 502),
  UPSTREAM_STATUS: createError('SG_UPSTREAM_STATUS', 'upstream returned %s', 502),
  UPSTREAM_BODY: createError('SG_UPSTREAM_BODY', '%s', 502),
  UPSTREAM_DECODE: createError('SG_UPSTREAM_DECODE', '%s', 502),
  BODY_SIZE_LIMIT: createError('SG_BODY_SIZE_LIMIT', 'body size limit exceeded (%s)', 502),
  UPSTREAM_REDIRECT: createError('SG_UPSTREAM_REDIRECT', '%s', 502),
  // The target redirected to somewhere the job's target policy does not allow: the target's doing, not the caller's.
  REDIRECT_FORBIDDEN: createError('SG_REDIRECT_FORBIDDEN', '%s', 502),
  PROXY: createError('SG_PROXY', '%s', 502),
  OAUTH2_TOKEN: createError('SG_OAUTH2_TOKEN', '%s', 502),
} as const

export interface CodedError extends Error {
  code: string
  statusCode?: number
}

export function isCoded (err: unknown): err is CodedError & { statusCode: number } {
  return err instanceof Error &&
    typeof (err as CodedError).code === 'string' &&
    (err as CodedError).code.startsWith('SG_') &&
    typeof (err as CodedError).statusCode === 'number'
}

/** Every code the gateway can answer with, for docs and the uniqueness test. */
export const ALL_CODES: readonly string[] = Object.values(Errors).map((E) => E().code)

/** A message on one line, as every error reply, log line and report line shows it. */
export function oneLine (s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim()
}
