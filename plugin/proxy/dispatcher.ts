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
import { Agent, type Dispatcher, type Pool } from 'undici'
import type { BerryConfig } from '../config/types.js'
import { attemptControlOf, isCallbackHandler, type Handler } from './attempt-control.js'
import { AttemptHandler } from './attempt-handler.js'
import { ConnectionWait, ConnectionWaits } from './connection-wait.js'
import { ConvertingHandler } from './converting-handler.js'
import { createOriginPool } from './upstream-pool.js'

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
