/**
 * The undici dispatcher reply-from sends every upstream request through.
 *
 * - One pool per origin (upstream-pool.ts): TLS certificates verified
 *   (reply-from's own default does not), `connections_per_origin`, and
 *   HTTP/2 to https upstreams with `upstream_http2`.
 * - An attempt that has to wait for a connection is counted, and given up
 *   after `upstream_queue_timeout_seconds` (connection-wait.ts).
 * - Per attempt, berry's timeouts, an abort handle and a tap on the body
 *   travel with the request under a Symbol key in its headers object.
 *   reply-from copies headers with Object.assign, which keeps Symbol keys,
 *   and undici only serialises string keys (Object.keys), so the key never
 *   reaches the wire. reply-from's own `timeout` option would set the header
 *   and body timeouts to one value. test/handoff-contract.test.ts fails if
 *   an upgrade of either package breaks this.
 *
 * The per-attempt work happens in `AttemptAgent.dispatch`, wrapping the
 * handler in undici's callback shape (onConnect/onHeaders/onData/...), the
 * shape undici's own `request()` handler has. An `agent.compose()`
 * interceptor would be the documented way, but composing turns raw headers
 * into an object and back into Buffers around the interceptor, and undici
 * then parses them a second time: about 15 µs of CPU per request, measured
 * (benchmarks/README.md).
 */
import type { Duplex } from 'node:stream'
import { Agent, type Dispatcher, type Pool } from 'undici'
import type { Usage } from '../accounting/usage-scanner.js'
import type { BerryConfig } from '../config/types.js'
import type { StreamConverter } from '../protocols/types.js'
import { kAttempt } from '../symbols.js'
import { ConnectionWait, ConnectionWaits } from './connection-wait.js'
import { ConvertingHandler } from './converting-handler.js'
import { createOriginPool } from './upstream-pool.js'

/** Sees the body of the answer berry relays (not of failed attempts). */
export interface BodyTap {
  /** Each chunk as it passes; must not keep or alter it. */
  onChunk (chunk: Buffer): void
  /**
   * The body ended: cleanly (`error` undefined, also when berry's side
   * aborted it) or because the upstream failed mid-way. `usage` is what a
   * converted stream reported. May return a last chunk to end the body with
   * instead of the error (an SSE error event).
   */
  onEnd (error: Error | undefined, usage?: Usage): Buffer | undefined
}

/** What one attempt needs from the dispatcher; travels in its headers object under `kAttempt`. */
export class AttemptControl {
  /** Longest wait for the response headers, once the request is written. */
  readonly headersTimeoutMs: number
  /** Longest silence between two body chunks (the stream idle timeout). */
  readonly bodyTimeoutMs: number
  /** The provider id, for the count of requests waiting for a connection. */
  readonly provider: string
  /** Longest wait for a free upstream connection (connection-wait.ts). */
  readonly queueTimeoutMs: number
  /** Set once the request is dispatched: aborts it (client went away). */
  abort: ((reason: Error) => void) | undefined = undefined
  /**
   * Set once the request is dispatched: ends it as an upstream that broke
   * off would, so an SSE answer gets its error event (the gateway is
   * shutting down). `abort` is for a client that left, who hears nothing.
   */
  cut: ((reason: Error) => void) | undefined = undefined
  /** Set by the handoff when this attempt's answer goes to the client. */
  tap: BodyTap | undefined = undefined
  /**
   * For a streamed request: converts the answer's event stream (or only
   * watches it, for the OpenAI protocol) and says when its first token came.
   * Until then the response is held back, so an attempt that fails first
   * can still fail over (converting-handler.ts).
   */
  transform: StreamConverter | undefined = undefined
  /** performance.now() when the upstream's response headers arrived. */
  headersAt = 0

  constructor (headersTimeoutMs: number, bodyTimeoutMs: number, provider: string, queueTimeoutMs: number) {
    this.headersTimeoutMs = headersTimeoutMs
    this.bodyTimeoutMs = bodyTimeoutMs
    this.provider = provider
    this.queueTimeoutMs = queueTimeoutMs
  }
}

type Handler = Dispatcher.DispatchHandler
export type Abort = (reason?: Error) => void

/**
 * The callback shape undici's own `request()` handler has (undici calls it
 * the legacy shape: onConnect/onHeaders/onData/onComplete/onError).
 */
export interface CallbackHandler extends Handler {
  onConnect (abort: Abort, context?: unknown): void
  onHeaders (statusCode: number, headers: Buffer[], resume: () => void, statusText: string): boolean
  onData (chunk: Buffer): boolean
  onComplete (trailers: string[] | null): void
  onError (error: Error): void
}

function isCallbackHandler (handler: Handler): handler is CallbackHandler {
  return typeof handler.onConnect === 'function' && typeof handler.onHeaders === 'function' &&
    typeof handler.onData === 'function' && typeof handler.onComplete === 'function' && typeof handler.onError === 'function'
}

/** The control an attempt's headers carry, if they carry one. */
export function attemptControlOf (headers: Dispatcher.DispatchOptions['headers']): AttemptControl | undefined {
  if (headers === null || typeof headers !== 'object') return undefined
  const control: unknown = Reflect.get(headers, kAttempt)
  return control instanceof AttemptControl ? control : undefined
}

/**
 * Hands the request's handler an abort for berry's side (the client left:
 * `aborted` marks it, so the ending is not read as the upstream's failure)
 * and keeps both ends of the attempt on its control: `abort` for a client
 * that left, `cut` for an upstream end (the gateway shutting down).
 */
export function connectAttempt (control: AttemptControl, handler: CallbackHandler, abort: Abort, context: unknown, aborted: () => void): void {
  const abortFromBerry: Abort = (reason) => {
    aborted()
    abort(reason)
  }
  control.abort = abortFromBerry
  control.cut = abort
  handler.onConnect(abortFromBerry, context)
}

/**
 * Delegates to the request's own handler, keeping the abort for berry and
 * letting the tap see the body. undici calls the request callback (and so
 * reply-from's `onResponse`, where the tap is set) from inside `onHeaders`,
 * before the first `onData`: the tap sees every chunk.
 */
class AttemptHandler implements CallbackHandler {
  readonly #handler: CallbackHandler
  readonly #control: AttemptControl
  /** berry's side (the client leaving) aborted the request. */
  #aborted = false

  constructor (handler: CallbackHandler, control: AttemptControl) {
    this.#handler = handler
    this.#control = control
  }

  onConnect (abort: Abort, context?: unknown): void {
    connectAttempt(this.#control, this.#handler, abort, context, () => { this.#aborted = true })
  }

  onResponseStarted (): void {
    this.#handler.onResponseStarted?.()
  }

  onHeaders (statusCode: number, headers: Buffer[], resume: () => void, statusText: string): boolean {
    this.#control.headersAt = performance.now()
    return this.#handler.onHeaders(statusCode, headers, resume, statusText)
  }

  onData (chunk: Buffer): boolean {
    this.#control.tap?.onChunk(chunk)
    return this.#handler.onData(chunk)
  }

  onComplete (trailers: string[] | null): void {
    this.#control.abort = undefined
    this.#control.cut = undefined
    this.#control.tap?.onEnd(undefined)
    this.#handler.onComplete(trailers)
  }

  onError (error: Error): void {
    this.#control.abort = undefined
    this.#control.cut = undefined
    const tap = this.#control.tap
    const last = tap?.onEnd(this.#aborted ? undefined : error)
    if (last !== undefined && !this.#aborted) {
      // The upstream broke off, and the tap ends the body in its own words:
      // the client sees a complete response, not a broken connection.
      this.#handler.onData(last)
      this.#handler.onComplete([])
      return
    }
    this.#handler.onError(error)
  }

  onUpgrade (statusCode: number, headers: Buffer[] | string[] | null, socket: Duplex): void {
    this.#handler.onUpgrade?.(statusCode, headers, socket)
  }

  onBodySent (chunkSize: number, totalBytesSent: number): void {
    this.#handler.onBodySent?.(chunkSize, totalBytesSent)
  }
}

/** An Agent that applies an attempt's control to its request. */
class AttemptAgent extends Agent {
  readonly #waits: ConnectionWaits

  constructor (options: Agent.Options, waits: ConnectionWaits) {
    super(options)
    this.#waits = waits
  }

  override dispatch (opts: Agent.DispatchOptions, handler: Handler): boolean {
    const control = attemptControlOf(opts.headers)
    if (control === undefined || !isCallbackHandler(handler)) return super.dispatch(opts, handler)
    // `opts` is reply-from's own object, made for this one request.
    opts.headersTimeout = control.headersTimeoutMs
    opts.bodyTimeout = control.bodyTimeoutMs
    // undici multiplexes a request on an HTTP/2 connection only when it is
    // idempotent (client-h2.js); nothing in undici retries one on its own.
    opts.idempotent = true
    const transform = control.transform
    const attempt = transform === undefined ? new AttemptHandler(handler, control) : new ConvertingHandler(handler, control, transform)
    const wait = new ConnectionWait(attempt, control)
    const accepted = super.dispatch(opts, wait)
    this.#waits.track(wait, String(opts.origin))
    return accepted
  }
}

export interface UpstreamDispatcher {
  readonly dispatcher: Dispatcher
  /** Attempts waiting for a connection, and those given up (connection-wait.ts). */
  readonly waits: ConnectionWaits
  /** Open connections to `origin` (undici's pool stats). */
  connections (origin: string): number
  /** Points new connections at the CAs, timeouts and protocols of a (reloaded) config. */
  update (config: BerryConfig): void
  close (): Promise<void>
}

interface OriginSettings { ca: string | undefined, connectTimeoutMs: number }

export function createDispatcher (config: BerryConfig): UpstreamDispatcher {
  let byOrigin = new Map<string, OriginSettings>()
  let connections = config.settings.connectionsPerOrigin
  let http2 = config.settings.upstreamHttp2
  /** The pool made for each origin, with the connections it may open. */
  const pools = new Map<string, { pool: Pool, connections: number }>()

  const update = (next: BerryConfig): void => {
    const map = new Map<string, OriginSettings>()
    for (const provider of next.providers.values()) {
      const seen = map.get(provider.origin)
      map.set(provider.origin, {
        ca: seen?.ca ?? provider.ca,
        connectTimeoutMs: Math.max(seen?.connectTimeoutMs ?? 0, provider.timeoutMs)
      })
    }
    byOrigin = map
    connections = next.settings.connectionsPerOrigin
    http2 = next.settings.upstreamHttp2
  }
  update(config)

  const waits = new ConnectionWaits((origin) => {
    const entry = pools.get(origin)
    return entry !== undefined && !entry.pool.destroyed && entry.pool.stats.connected >= entry.connections
  })
  const agent = new AttemptAgent({
    factory (origin) {
      const key = String(origin)
      const entry = byOrigin.get(key)
      const pool = createOriginPool(origin, { connections, connectTimeoutMs: entry?.connectTimeoutMs ?? 10_000, ca: entry?.ca, http2 })
      pools.set(key, { pool, connections })
      return pool
    }
  }, waits)

  return {
    dispatcher: agent,
    waits,
    connections: (origin) => pools.get(origin)?.pool.stats.connected ?? 0,
    update,
    close: () => {
      waits.close()
      return agent.close()
    }
  }
}
