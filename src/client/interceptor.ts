// Building blocks for the job's interceptor chain (Go's RoundTripper layers).
import type { Dispatcher } from 'undici'
import type { Interceptor } from './feature.js'
import { hasHeader, withHeader } from './headers.js'

type Opts = Dispatcher.DispatchOptions
type Handler = Dispatcher.DispatchHandler

/** Reports an error to a handler of either undici handler API, before dispatch. */
export function fail (handler: Handler, err: Error): void {
  if (typeof handler.onResponseError === 'function') {
    handler.onResponseError(null as never, err)
  } else {
    (handler as { onError?: (e: Error) => void }).onError?.(err)
  }
}

/**
 * An interceptor that computes one header per request. The value may come
 * from a file (async); `ifAbsent` keeps a header set by an outer layer, as
 * Prometheus's auth round-trippers do.
 */
export function headerInterceptor (
  name: string,
  value: () => string | Promise<string>,
  ifAbsent: boolean
): Interceptor {
  return (dispatch) => (opts: Opts, handler: Handler) => {
    if (ifAbsent && hasHeader(opts.headers, name)) return dispatch(opts, handler)
    let v: string | Promise<string>
    try {
      v = value()
    } catch (err) {
      fail(handler, err as Error)
      return true
    }
    if (typeof v === 'string') return dispatch({ ...opts, headers: withHeader(opts.headers, name, v) }, handler)
    v.then(
      (resolved) => dispatch({ ...opts, headers: withHeader(opts.headers, name, resolved) }, handler),
      (err: Error) => fail(handler, err)
    )
    return true
  }
}
