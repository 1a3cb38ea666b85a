// The innermost layer of every job's client: the one place that sees each
// request exactly as it goes to undici (after every layer added its headers,
// once per redirect hop), so it tells the probe's record (record.ts) what was
// sent. It also marks the record whose request is being dispatched: undici
// opens a connection synchronously inside dispatch() when the request needs
// one, and its connectors get no request, so the core's pinned connector
// asks dispatchingRecord() whose attempt it is making. An attempt made
// outside any dispatch (a CONNECT tunnel that answers later, a pool that
// reconnects for a queued request) belongs to no record; its facts still
// reach the probe through the socket or the error (connection-facts.ts).
import type { Interceptor, ProbeDispatchOptions } from './feature.js'
import { SentRequest, type ProbeRecord } from './record.js'

let dispatching: ProbeRecord | undefined

/** The record whose request is being dispatched right now, if any. */
export function dispatchingRecord (): ProbeRecord | undefined {
  return dispatching
}

export const recordLayer: Interceptor = (dispatch) => (opts, handler) => {
  const record = (opts as ProbeDispatchOptions).probe?.record
  if (record === undefined) return dispatch(opts, handler)
  record.requests.push(new SentRequest(opts.method, String(opts.origin), opts.path, opts.headers, (opts as ProbeDispatchOptions).crossHostHeaders))
  const outer = dispatching
  dispatching = record
  try {
    return dispatch(opts, handler)
  } finally {
    dispatching = outer
  }
}
