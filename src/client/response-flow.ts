// Flow control of one upstream response, safe at the connection's end.
//
// Unnecessary from undici 8 on: delete the guard (and use the controller's
// pause/resume directly) once undici 8, which needs Node >= 22, is the floor;
// keep what learns the request's socket (`connection`, below), which the
// probe's record needs.
//
// undici 7's HTTP/1 client asserts that its parser is not paused when the
// socket ends (nodejs/undici#5360; fixed in undici 8).
// A response that ends with its connection (Connection: close, HTTP/1.0 as
// Python exporters speak it, or a close-delimited body) and that the probe
// paused for backpressure at that moment (a slow caller, a gunzip that has
// not caught up) would throw from the socket's 'end' listener and take the
// process down. What undici 8 does, done from outside: when the socket ends
// while this response is paused, resume it for good. Every byte it still
// has to deliver is already in memory, so dropping backpressure for the tail
// costs nothing that was not spent.
//
// undici does not tell a handler which socket carries its request. It does
// publish `undici:client:sendHeaders` with the socket, synchronously in the
// same call that starts the request on the connection (onRequestStart, then
// the headers): the handler that just started is the one whose headers are
// being sent. The probe's record learns the request's connection the same way.
import diagnostics from 'node:diagnostics_channel'
import type { Socket } from 'node:net'
import type { Dispatcher } from 'undici'

type Controller = Dispatcher.DispatchController

let starting: ResponseFlow | undefined

diagnostics.subscribe('undici:client:sendHeaders', (message) => {
  const flow = starting
  starting = undefined
  if (flow === undefined) return
  const socket = (message as { socket?: Socket & { alpnProtocol?: string | false } }).socket
  flow.connection = socket
  // HTTP/2 pauses a stream, not a parser, so it needs no guard; and the
  // session's socket carries many streams, whose listeners would pile up on it.
  flow.socket = socket?.alpnProtocol === 'h2' ? undefined : socket
})

/** Pause and resume of one request's response, which the end of its socket cannot turn into a crash. */
export class ResponseFlow {
  /** The socket to guard: the request's, unless it is an HTTP/2 session's. */
  socket: Socket | undefined
  /**
   * The socket the request went out on, whatever its protocol (an HTTP/2
   * session's too): the probe's record finds the connection's facts by it
   * (connection-facts.ts).
   */
  connection: Socket | undefined
  #controller: Controller | undefined
  #paused = false
  /** The socket ended: no more pausing. */
  #released = false
  readonly #onEnd = (): void => {
    this.#released = true
    this.#paused = false
    this.#controller?.resume()
  }

  /** Call from the handler's onRequestStart: the socket is learnt as the request's headers go out. */
  started (controller: Controller): void {
    this.#controller = controller
    this.socket = undefined
    this.connection = undefined
    starting = this
  }

  pause (): void {
    if (this.#released || this.#paused) return
    this.#paused = true
    this.#controller?.pause()
    // Before undici's own listener, which must find the parser running.
    this.socket?.prependOnceListener('end', this.#onEnd)
  }

  resume (): void {
    if (!this.#paused) return
    this.#paused = false
    this.socket?.removeListener('end', this.#onEnd)
    this.#controller?.resume()
  }
}
