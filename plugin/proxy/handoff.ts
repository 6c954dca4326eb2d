/**
 * The handoff to @fastify/http-proxy, and berry's own failover around it.
 *
 * http-proxy owns the routes; its `handler` option lets berry build the
 * destination (the provider's base path plus the route's path) and call
 * `reply.from()` once per attempt. reply-from's own retry re-sends to the
 * same URL and skips POSTs, so failover happens here: when an attempt fails
 * before anything reached the client (`onError`, or a failing status in
 * `onResponse`), the failed body is drained, its headers are taken back, and
 * `reply.from()` runs again for the next backend.
 *
 * What happens along the way is told to subscribers (handoff-events.ts);
 * what happens when the client leaves is in client-disconnect.ts.
 */
import httpProxy, { type FastifyHttpProxyOptions } from '@fastify/http-proxy'
import type { FastifyInstance } from 'fastify'
import type { IncomingHttpHeaders } from 'node:http'
import type { Readable } from 'node:stream'
import { AllAttemptsFailed, NoBackendAvailable, UpstreamCredentialsRejected, UpstreamRateLimited, UpstreamTimeout, UpstreamUnreachable, type BerryError } from '../errors.js'
import { isRecord } from '../json.js'
import type { Runtime } from '../runtime.js'
import { selectBackend } from '../select/dispatch.js'
import { activeBackends } from '../snapshot.js'
import { kRoute } from '../symbols.js'
import { isEventStream, tapBody } from './body-tap.js'
import { AttemptControl } from './dispatcher.js'
import type { HandoffEvents, ProxiedRequest } from './handoff-events.js'
import { classifyError, isBackendFailure, ownError, parseRetryAfter, UPSTREAM_BUSY } from './outcome.js'
import type { ProxyPreHandler } from './prehandler.js'
import type { AttemptRecord, RouteState } from './route-state.js'
import { clientResponseHeaders, upstreamRequestHeaders, type AttemptHeaders } from './upstream-headers.js'

/** Paths under `/v1` that berry proxies. */
export const PROXIED_ROUTES = ['/chat/completions', '/completions', '/embeddings'] as const

// The packages' own types for what berry hands them and gets back.
type FromOptions = NonNullable<FastifyHttpProxyOptions['replyOptions']>
type ProxyHandler = NonNullable<FastifyHttpProxyOptions['handler']>
type ProxiedReply = Parameters<NonNullable<FromOptions['onError']>>[0]
type UpstreamResponse = Parameters<NonNullable<FromOptions['onResponse']>>[2]
type UpstreamError = Parameters<NonNullable<FromOptions['onError']>>[1]

/**
 * The upstream's response headers. reply-from's undici path hands
 * `onResponse` `{ statusCode, headers, stream }` (lib/request.js), while its
 * typings describe a ServerResponse, which has no `headers`: they are looked
 * up rather than assumed.
 */
function headersOf (res: UpstreamResponse): Record<string, unknown> {
  const headers: unknown = Reflect.get(res, 'headers')
  return isRecord(headers) ? headers : {}
}

function routeOf (request: ProxiedRequest): RouteState {
  const route = request[kRoute]
  // The preHandler sets it on every proxied route before the handler runs.
  if (route === null) throw new Error('berry: a proxied request reached the handoff without a route')
  return route
}

/**
 * Reads and drops a failed attempt's body without killing its keep-alive
 * socket: undici's body has `dump()` (reply-from's types say IncomingMessage,
 * which has none, so it is looked up rather than assumed).
 */
function discard (stream: Readable): void {
  const dump: unknown = Reflect.get(stream, 'dump')
  if (typeof dump !== 'function') {
    stream.resume()
    return
  }
  const drained: unknown = Reflect.apply(dump, stream, [])
  if (drained instanceof Promise) drained.catch(() => {})
}

/** The smallest Retry-After of the attempts, in whole seconds, if any had one. */
function soonestRetryAfter (attempts: readonly AttemptRecord[]): number | undefined {
  let soonest: number | undefined
  for (const attempt of attempts) {
    if (attempt.retryAfterMs !== undefined && (soonest === undefined || attempt.retryAfterMs < soonest)) soonest = attempt.retryAfterMs
  }
  return soonest === undefined ? undefined : Math.ceil(soonest / 1000)
}

export interface HandoffOptions {
  readonly preHandler: ProxyPreHandler
  readonly events: HandoffEvents
}

export async function registerHandoff (scope: FastifyInstance, runtime: Runtime, options: HandoffOptions): Promise<void> {
  const { events } = options
  /**
   * The options http-proxy hands its `handler`, kept from the first request:
   * they carry http-proxy's wrapper around berry's `rewriteHeaders` (header
   * sanitising, Location rewriting), the same for every request of the
   * route. berry passes its own `getUpstream` per attempt: the one in these
   * options answers the first request's origin. test/handoff-contract.test.ts
   * fails if an upgrade changes either.
   */
  let proxyOptions: FromOptions | undefined

  const originOf = (request: ProxiedRequest): string => routeOf(request).backend.provider.origin
  // The client's query string never goes upstream; the provider's does.
  const queryOf = (_search: string | undefined, _url: string, request: ProxiedRequest): string => routeOf(request).backend.provider.query

  function send (request: ProxiedRequest, reply: ProxiedReply, base: FromOptions): void {
    const route = routeOf(request)
    const { backend } = route
    const provider = backend.provider
    route.tried.add(backend.key)
    route.attemptStartedAt = performance.now()
    const { settings } = route.snapshot.config
    route.control = new AttemptControl(provider.timeoutMs, settings.streamIdleTimeoutMs, provider.id, settings.upstreamQueueTimeoutMs)
    runtime.health.attemptStarted(backend.key, runtime.now())
    events.attemptStarted?.(request, route)
    // The body is berry's own copy (the preHandler took `backend` out), so
    // setting `model` in place is safe and spares a third copy per attempt.
    // The options are spelled out: spreading an object into a literal is a
    // slow path in V8, and this runs once per attempt (profiled: see
    // benchmarks/README.md).
    route.body.model = backend.model
    reply.from(provider.basePath + route.path, {
      rewriteHeaders: base.rewriteHeaders,
      rewriteRequestHeaders,
      onResponse,
      onError,
      getUpstream: originOf,
      queryString: queryOf,
      body: JSON.stringify(route.body),
      contentType: 'application/json'
    })
  }

  function record (route: RouteState, status: number | undefined, result: string, retryAfterMs?: number): void {
    route.attempts.push({ provider: route.backend.provider.id, model: route.backend.model, status, result, retryAfterMs })
  }

  /** Moves to the next backend if this request may fail over; true when it did. */
  function failOver (request: ProxiedRequest, reply: ProxiedReply, route: RouteState, why: string): boolean {
    if (route.pinned || route.clientGone || reply.sent || proxyOptions === undefined) return false
    if (route.attempts.length >= route.backend.provider.maxAttempts) return false
    // The same candidates as the first choice (tags included), less those tried.
    const next = selectBackend(route.model, activeBackends(route.snapshot, route.model), {
      health: runtime.health,
      random: runtime.random,
      now: runtime.now(),
      exclude: route.tried,
      state: runtime.selection,
      settings: route.snapshot.config.settings,
      user: route.user
    })
    if (next === undefined) return false
    const from = route.backend
    request.log.warn(`Backend '${from.provider.id}' failed for model '${route.requestedModel}' (${why}); failing over to '${next.backend.provider.id}'`)
    events.failover?.(request, route, from, next.backend)
    for (const name of route.upstreamHeaderNames) reply.removeHeader(name)
    route.upstreamHeaderNames = []
    route.backend = next.backend
    send(request, reply, proxyOptions)
    return true
  }

  /** The error for a request whose every attempt failed. */
  function finalError (route: RouteState, single: BerryError, cause: unknown): BerryError {
    const { attempts } = route
    // Rate limited everywhere is not an outage: say so as OpenAI would, so
    // clients back off for the soonest Retry-After rather than give up.
    if (attempts.length > 1 && attempts.every((a) => a.status === 429)) {
      return UpstreamRateLimited(route.requestedModel, attempts.map((a) => a.provider), soonestRetryAfter(attempts))
    }
    // No free connection anywhere tried: the gateway's own limit, not an outage.
    if (attempts.every((a) => a.result === UPSTREAM_BUSY)) return single
    const summary = attempts.map((a) => `${a.provider}: ${a.result}`)
    if (route.lastResort) return NoBackendAvailable(route.requestedModel, `every backend is unhealthy; tried ${summary.join('; ')}`)
    if (attempts.length > 1) return AllAttemptsFailed(route.requestedModel, summary, { cause })
    return single
  }

  function onResponse (request: ProxiedRequest, reply: ProxiedReply, res: UpstreamResponse): void {
    const route = routeOf(request)
    const { backend } = route
    const status = res.statusCode
    const headers = headersOf(res)
    const now = runtime.now()
    if (isBackendFailure(status)) {
      const retryAfterMs = parseRetryAfter(headers['retry-after'], now)
      const result = `HTTP ${status}`
      runtime.health.recordFailure(backend.key, { status, error: result, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) }, now, backend.provider.breaker)
      record(route, status, result, retryAfterMs)
      if (failOver(request, reply, route, result)) {
        discard(res.stream)
        return
      }
      // A 401/403 rejects berry's key, not the client: the client must not
      // read it as its own auth failing, and the upstream's body may echo
      // the key. It becomes a 502 without that body.
      const credentials = status === 401 || status === 403
      if (route.attempts.length > 1 || route.lastResort || credentials) {
        discard(res.stream)
        for (const name of route.upstreamHeaderNames) reply.removeHeader(name)
        const single = credentials ? UpstreamCredentialsRejected(backend.provider.id, status) : UpstreamUnreachable(backend.provider.id, result)
        reply.send(finalError(route, single, undefined))
        return
      }
      // Any other single failed attempt goes back as the upstream sent it:
      // its status, Retry-After and error body are the most useful answer.
    } else {
      runtime.health.recordSuccess(backend.key, performance.now() - route.attemptStartedAt, now)
      record(route, status, 'ok')
    }
    const sse = isEventStream(headers['content-type'])
    const watcher = events.answerStarted?.(request, route, { status, sse, ttfbMs: performance.now() - route.attemptStartedAt })
    // The body goes to the client as undici's stream; the tap watches it
    // pass in the dispatcher, where undici hands over each chunk anyway.
    route.control.tap = tapBody({ sse, provider: backend.provider.id, watcher })
    reply.send(res.stream)
  }

  function onError (reply: ProxiedReply, { error }: UpstreamError): void {
    const request = reply.request
    const route = routeOf(request)
    if (route.clientGone) return
    const { backend } = route
    // berry's own ends of an attempt (no free connection in time, the
    // gateway closing) say nothing about the backend: its health is left
    // alone. Only a busy pool may fail over, to a backend with room.
    const own = ownError(error)
    if (own !== undefined) {
      const busy = own.code === 'BERRY_ERR_UPSTREAM_BUSY'
      record(route, undefined, busy ? UPSTREAM_BUSY : own.message)
      if (busy && failOver(request, reply, route, UPSTREAM_BUSY)) return
      reply.send(busy ? finalError(route, own, error) : own)
      return
    }
    const { timeout, reason } = classifyError(error)
    const seconds = backend.provider.timeoutMs / 1000
    const result = timeout ? `timeout after ${seconds}s` : reason
    request.log.warn({ provider: backend.provider.id, reason: result }, 'upstream request failed')
    runtime.health.recordFailure(backend.key, { error: result, timeout }, runtime.now(), backend.provider.breaker)
    record(route, undefined, result)
    if (failOver(request, reply, route, result)) return
    const single = timeout ? UpstreamTimeout(backend.provider.id, seconds, { cause: error }) : UpstreamUnreachable(backend.provider.id, reason, { cause: error })
    reply.send(finalError(route, single, error))
  }

  function rewriteRequestHeaders (request: ProxiedRequest, headers: IncomingHttpHeaders): AttemptHeaders {
    const route = routeOf(request)
    return upstreamRequestHeaders(headers, route.backend.provider, request.id, route.control)
  }

  function rewriteHeaders (headers: IncomingHttpHeaders, request: ProxiedRequest | undefined): IncomingHttpHeaders {
    if (request === undefined) return headers
    const route = routeOf(request)
    const out = clientResponseHeaders(headers, route.backend.provider.id, route.tried.size)
    route.upstreamHeaderNames = Object.keys(out)
    return out
  }

  const handler: ProxyHandler = (request, reply, _dest, handlerOptions) => {
    proxyOptions ??= handlerOptions
    send(request, reply, proxyOptions)
  }

  await scope.register(httpProxy, {
    upstream: '',
    routes: [...PROXIED_ROUTES],
    httpMethods: ['POST'],
    // Fastify parses the JSON (berry must read and rewrite it); the body
    // that goes upstream is serialised per attempt in `send`.
    proxyPayloads: false,
    preHandler: options.preHandler,
    undici: runtime.upstream.dispatcher,
    disableRequestLogging: true,
    replyOptions: { getUpstream: originOf, rewriteRequestHeaders, rewriteHeaders, onResponse, onError },
    handler
  })
}
