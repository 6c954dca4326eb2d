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
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerHookHandler } from 'fastify'
import httpProxy from '@fastify/http-proxy'
import type { Readable } from 'node:stream'
import { AllAttemptsFailed, NoBackendAvailable, UpstreamCredentialsRejected, UpstreamTimeout, UpstreamUnreachable, type BerryError } from '../errors.js'
import type { Gateway } from '../gateway.js'
import { selectBackend } from '../select/dispatch.js'
import { kRoute, kUser } from '../symbols.js'
import type { BerryUser } from '../user.js'
import { classifyError, isBackendFailure, parseRetryAfter } from './outcome.js'
import { isEventStream, tapBody, type BodyObserver } from './body-tap.js'
import type { AttemptRecord, RouteState } from './route-state.js'
import { clientResponseHeaders, upstreamRequestHeaders } from './upstream-headers.js'

/** Paths under `/v1` that berry proxies. */
export const PROXIED_ROUTES = ['/chat/completions', '/completions', '/embeddings'] as const

export interface CompletedRequest {
  readonly request: FastifyRequest
  readonly state: RouteState
  readonly status: number
  /** Set when the body broke off mid-way. */
  readonly error: string | undefined
}

export interface HandoffHooks {
  /** Observes each successful body (usage accounting). */
  observe?: (request: FastifyRequest, state: RouteState, sse: boolean) => BodyObserver | undefined
  /** A failed attempt is being retried on another backend. */
  onFailover?: (state: RouteState, from: string, to: string) => void
}

interface UpstreamResponse {
  statusCode: number
  headers: Record<string, string | string[] | undefined>
  stream: Readable & { dump?: () => Promise<void> }
}

type FromOptions = NonNullable<Parameters<FastifyReply['from']>[1]>

function routeState (request: FastifyRequest): RouteState {
  return request[kRoute] as RouteState
}

/**
 * The client closed the connection before its answer was complete: no
 * failover from here on, and the upstream request is aborted. Once the
 * answer's body is flowing, Fastify destroys undici's body stream too, which
 * aborts it as well. Called from the one `close` listener a request has
 * (request-log.ts), so the handoff adds none of its own.
 */
export function clientLeft (request: FastifyRequest): void {
  const state = request[kRoute]
  if (state === null) return
  state.clientGone = true
  state.control.abort?.(new Error('client closed the connection'))
}

/** Reads and drops a failed attempt's body without killing its keep-alive socket. */
function discard (stream: UpstreamResponse['stream']): void {
  if (typeof stream.dump === 'function') stream.dump().catch(() => {})
  else stream.resume()
}

export async function registerHandoff (scope: FastifyInstance, gateway: Gateway, options: { preHandler: preHandlerHookHandler, hooks?: HandoffHooks }): Promise<void> {
  const { hooks } = options
  let baseOptions: FromOptions | undefined

  const originOf = (request: FastifyRequest): string => routeState(request).backend.provider.origin
  // The client's query string never goes upstream; the provider's does.
  const queryOf = (_search: string, _url: string, request: FastifyRequest): string => routeState(request).backend.provider.query

  function send (request: FastifyRequest, reply: FastifyReply): void {
    const state = routeState(request)
    const { backend } = state
    const provider = backend.provider
    state.tried.add(backend.key)
    state.attemptStartedAt = performance.now()
    state.control = {
      headersTimeoutMs: provider.timeoutMs,
      bodyTimeoutMs: gateway.current.config.settings.streamIdleTimeoutMs,
      abort: undefined,
      tap: undefined
    }
    gateway.health.attemptStarted(backend.key, gateway.now())
    // The body is berry's own copy (the preHandler took `backend` out), so
    // setting `model` in place is safe and spares a third copy per attempt.
    // The options are spelled out: spreading an object into a literal is a
    // slow path in V8, and this runs once per attempt (profiled: see
    // benchmarks/README.md).
    state.body.model = backend.model
    const base = baseOptions as FromOptions
    reply.from(provider.basePath + state.path, {
      rewriteHeaders: base.rewriteHeaders,
      rewriteRequestHeaders: base.rewriteRequestHeaders,
      onResponse: base.onResponse,
      onError: base.onError,
      getUpstream: originOf as FromOptions['getUpstream'],
      queryString: queryOf as FromOptions['queryString'],
      body: JSON.stringify(state.body),
      contentType: 'application/json'
    })
  }

  function record (state: RouteState, status: number | undefined, result: string): AttemptRecord {
    const attempt = { provider: state.backend.provider.id, model: state.backend.model, status, result }
    state.attempts.push(attempt)
    return attempt
  }

  /** Moves to the next backend if this request may fail over; true when it did. */
  function failOver (request: FastifyRequest, reply: FastifyReply, state: RouteState, why: string): boolean {
    if (state.pinned || state.clientGone || reply.sent) return false
    if (state.attempts.length >= state.backend.provider.maxAttempts) return false
    const next = selectBackend(state.model, { health: gateway.health, random: gateway.random, now: gateway.now(), exclude: state.tried, state: gateway.selection, settings: gateway.current.config.settings, user: request[kUser] as BerryUser })
    if (next === undefined) return false
    request.log.warn(`Backend '${state.backend.provider.id}' failed for model '${state.requestedModel}' (${why}); failing over to '${next.backend.provider.id}'`)
    hooks?.onFailover?.(state, state.backend.provider.id, next.backend.provider.id)
    for (const name of state.upstreamHeaderNames) reply.removeHeader(name)
    state.upstreamHeaderNames = []
    state.backend = next.backend
    send(request, reply)
    return true
  }

  /** The error for a request whose every attempt failed. */
  function finalError (state: RouteState, single: BerryError): BerryError {
    const summary = state.attempts.map((a) => `${a.provider}: ${a.result}`)
    if (state.lastResort) return NoBackendAvailable(state.requestedModel, `every backend is unhealthy; tried ${summary.join('; ')}`)
    if (state.attempts.length > 1) return AllAttemptsFailed(state.requestedModel, summary)
    return single
  }

  function onResponse (request: FastifyRequest, reply: FastifyReply, res: UpstreamResponse): void {
    const state = routeState(request)
    const { backend } = state
    const status = res.statusCode
    const now = gateway.now()
    if (isBackendFailure(status)) {
      const retryAfterMs = parseRetryAfter(res.headers['retry-after'], Date.now())
      const result = `HTTP ${status}`
      gateway.health.recordFailure(backend.key, { status, error: result, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) }, now, backend.provider.breaker)
      record(state, status, result)
      if (failOver(request, reply, state, result)) {
        discard(res.stream)
        return
      }
      // A 401/403 rejects berry's key, not the client: the client must not
      // read it as its own auth failing, and the upstream's body may echo
      // the key. It becomes a 502 without that body.
      const credentials = status === 401 || status === 403
      if (state.attempts.length > 1 || state.lastResort || credentials) {
        discard(res.stream)
        for (const name of state.upstreamHeaderNames) reply.removeHeader(name)
        const single = credentials ? UpstreamCredentialsRejected(backend.provider.id, status) : UpstreamUnreachable(backend.provider.id, result)
        reply.send(finalError(state, single))
        return
      }
      // Any other single failed attempt goes back as the upstream sent it:
      // its status, Retry-After and error body are the most useful answer.
    } else {
      gateway.health.recordSuccess(backend.key, performance.now() - state.attemptStartedAt, now)
      record(state, status, 'ok')
    }
    const sse = isEventStream(res.headers['content-type'])
    // The body goes to the client as undici's stream; the tap watches it
    // pass in the dispatcher, where undici hands over each chunk anyway.
    state.control.tap = tapBody({ sse, provider: backend.provider.id, observer: hooks?.observe?.(request, state, sse) })
    reply.send(res.stream)
  }

  function onError (reply: FastifyReply, { error }: { error: unknown }): void {
    const request = reply.request
    const state = routeState(request)
    if (state.clientGone) return
    const { backend } = state
    const { timeout, reason } = classifyError(error)
    const seconds = backend.provider.timeoutMs / 1000
    const result = timeout ? `timeout after ${seconds}s` : reason
    request.log.warn({ provider: backend.provider.id, reason: result }, 'upstream request failed')
    gateway.health.recordFailure(backend.key, { error: result, timeout }, gateway.now(), backend.provider.breaker)
    record(state, undefined, result)
    if (failOver(request, reply, state, result)) return
    const single = timeout ? UpstreamTimeout(backend.provider.id, seconds) : UpstreamUnreachable(backend.provider.id, reason)
    reply.send(finalError(state, single))
  }

  function rewriteRequestHeaders (request: FastifyRequest, headers: Record<string, string | string[] | undefined>): Record<string, unknown> {
    const state = routeState(request)
    return upstreamRequestHeaders(headers, state.backend.provider, request.id, state.control)
  }

  function rewriteHeaders (headers: Record<string, unknown>, request: FastifyRequest): Record<string, unknown> {
    const state = routeState(request)
    const out = clientResponseHeaders(headers, state.backend.provider.id, state.tried.size)
    state.upstreamHeaderNames = Object.keys(out)
    return out
  }

  await scope.register(httpProxy, {
    upstream: '',
    routes: [...PROXIED_ROUTES],
    httpMethods: ['POST'],
    // Fastify parses the JSON (berry must read and rewrite it); the body
    // that goes upstream is serialised per attempt in `send`.
    proxyPayloads: false,
    preHandler: options.preHandler,
    undici: gateway.upstream.dispatcher as never,
    disableRequestLogging: true,
    replyOptions: {
      getUpstream: originOf,
      rewriteRequestHeaders: rewriteRequestHeaders as never,
      rewriteHeaders: rewriteHeaders as never,
      onResponse: onResponse as never,
      onError: onError as never
    },
    handler (request: FastifyRequest, reply: FastifyReply, _dest: string, handlerOptions: FromOptions) {
      // http-proxy wraps rewriteHeaders (header sanitising); keep its
      // version for every attempt of this route.
      baseOptions ??= handlerOptions
      send(request, reply)
    }
  } as never)
}
