/**
 * The handoff to @fastify/http-proxy, and berry's own failover around it.
 *
 * http-proxy owns the routes; its `handler` option lets berry build the
 * destination (the attempt's path in its backend's protocol) and call
 * `reply.from()` once per attempt. reply-from's own retry re-sends to the
 * same URL and skips POSTs, so failover happens here: when an attempt fails
 * before anything reached the client (`onError`, or a failing status in
 * `onResponse`), the failed body is drained, its headers are taken back, and
 * `reply.from()` runs again for the next backend, with the body converted
 * for that backend's protocol (attempt.ts).
 *
 * Answers in another protocol than OpenAI's are converted: streams as they
 * pass (converting-handler.ts), JSON answers and error bodies once read
 * whole (whole-body.ts).
 *
 * What happens along the way is told to subscribers (handoff-events.ts);
 * what happens when the client leaves is in client-disconnect.ts.
 */
import httpProxy, { type FastifyHttpProxyOptions } from '@fastify/http-proxy'
import type { FastifyInstance } from 'fastify'
import type { IncomingHttpHeaders } from 'node:http'
import type { Readable } from 'node:stream'
import { toUsage } from '../accounting/usage-scanner.js'
import { UpstreamBadAnswer, UpstreamCredentialsRejected, UpstreamStreamError, UpstreamTimeout, UpstreamUnreachable, type BerryError } from '../errors.js'
import { errorMessage, isRecord } from '../json.js'
import { anthropicClient } from '../protocols/claude/client.js'
import { includeUsage } from '../protocols/openai-request.js'
import type { ResponseStore } from '../responses/response-store.js'
import { ResponseIdWatcher } from '../responses/response-id.js'
import type { Runtime } from '../runtime.js'
import { selectBackend } from '../select/dispatch.js'
import { routableBackends } from '../snapshot.js'
import { kRoute } from '../symbols.js'
import { chooseAttempt, prepareAttempt, type Attempt } from './attempt.js'
import { isEventStream, tapBody, type Dialect } from './body-tap.js'
import { AttemptControl } from './attempt-control.js'
import { finalError } from './final-error.js'
import { watchBoth, type BodyWatcher, type HandoffEvents, type ProxiedRequest } from './handoff-events.js'
import { classifyError, isBackendFailure, ownError, parseRetryAfter, UPSTREAM_BUSY } from './outcome.js'
import { PROXIED_APIS, type ProxyPreHandler } from './prehandler.js'
import type { RouteState } from './route-state.js'
import { streamFailureOf } from './stream-failure.js'
import { clientResponseHeaders, upstreamRequestHeaders, type AttemptHeaders } from './upstream-headers.js'
import { readWholeBody } from './whole-body.js'

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

export interface HandoffOptions {
  /** Paths (under the scope's prefix) and methods this handoff proxies. */
  readonly routes: readonly string[]
  readonly methods: readonly string[]
  readonly preHandler: ProxyPreHandler
  readonly events: HandoffEvents
  /** The API its clients speak: OpenAI's, or Anthropic's on `/v1/messages`. */
  readonly dialect: Dialect
  readonly responses: ResponseStore
  /** Fastify route config of every route (auth.ts reads ACCEPTS_API_KEY there). */
  readonly config?: Record<string, unknown>
}

/** Paths under `/v1` of OpenAI's API that berry proxies. */
export const OPENAI_ROUTES: readonly string[] = Object.keys(PROXIED_APIS).filter((path) => !path.startsWith('/messages'))
/** Paths under `/v1` of Anthropic's Messages API. */
export const ANTHROPIC_ROUTES: readonly string[] = Object.keys(PROXIED_APIS).filter((path) => path.startsWith('/messages'))

export async function registerHandoff (scope: FastifyInstance, runtime: Runtime, options: HandoffOptions): Promise<void> {
  const { events, dialect, responses } = options
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
  // The client's query string never goes upstream; the attempt's (the
  // provider's own, Gemini's `alt=sse`) does.
  const queryOf = (_search: string | undefined, _url: string, request: ProxiedRequest): string => routeOf(request).attempt.query

  function send (request: ProxiedRequest, reply: ProxiedReply, base: FromOptions): void {
    const route = routeOf(request)
    const { attempt } = route
    const { backend } = attempt
    const provider = backend.provider
    route.tried.add(backend.key)
    route.attemptStartedAt = performance.now()
    const { settings } = route.snapshot.config
    const control = new AttemptControl(provider.timeoutMs, settings.streamIdleTimeoutMs, provider.id, settings.upstreamQueueTimeoutMs)
    if (attempt.upstream.stream) control.transform = attempt.link.protocol.stream(route.api, { model: backend.model, includeUsage: includeUsage(route.body) })
    route.control = control
    runtime.health.attemptStarted(backend.key, runtime.now())
    events.attemptStarted?.(request, route)
    // The options are spelled out: spreading an object into a literal is a
    // slow path in V8, and this runs once per attempt (profiled: see
    // benchmarks/README.md).
    const body = attempt.upstream.body
    reply.from(attempt.path, {
      method: attempt.method,
      rewriteHeaders: base.rewriteHeaders,
      rewriteRequestHeaders,
      onResponse,
      onError,
      getUpstream: originOf,
      queryString: queryOf,
      // A stored response's routes send none (and undici refuses one on a GET).
      body: body === undefined ? null : JSON.stringify(body),
      contentType: 'application/json'
    })
  }

  function record (route: RouteState, status: number | undefined, result: string, retryAfterMs?: number): void {
    route.attempts.push({ provider: route.backend.provider.id, model: route.backend.model, status, result, retryAfterMs })
  }

  /** Moves to the next backend if this request may fail over; true when it did. */
  function failOver (request: ProxiedRequest, reply: ProxiedReply, route: RouteState, why: string): boolean {
    if (route.pinned || route.sticky || route.clientGone || reply.sent || proxyOptions === undefined) return false
    if (route.attempts.length >= route.backend.provider.maxAttempts) return false
    // The same candidates as the first choice (tags included), less those
    // tried, and converted for the next backend's protocol.
    const candidates = routableBackends(route.snapshot, route.model, route.api)
    const ctx = {
      health: runtime.health,
      random: runtime.random,
      now: runtime.now(),
      exclude: route.tried,
      state: runtime.selection,
      settings: route.snapshot.config.settings,
      user: route.user
    }
    const chosen = chooseAttempt(() => selectBackend(route.model, candidates, ctx), (backend) => prepareAttempt(route.snapshot, route.api, route.body, backend), route.tried)
    if (!('attempt' in chosen)) return false
    const from = route.backend
    const next: Attempt = chosen.attempt
    request.log.warn(`Backend '${from.provider.id}' failed for model '${route.requestedModel}' (${why}); failing over to '${next.backend.provider.id}'`)
    events.failover?.(request, route, from, next.backend)
    takeBackHeaders(reply, route)
    route.attempt = next
    route.backend = next.backend
    send(request, reply, proxyOptions)
    return true
  }

  function takeBackHeaders (reply: ProxiedReply, route: RouteState): void {
    for (const name of route.upstreamHeaderNames) reply.removeHeader(name)
    route.upstreamHeaderNames = []
  }

  /**
   * A failed answer (status, or an error the upstream sent in its stream):
   * health, then failover, else the answer the client gets. `asItCame`
   * sends the upstream's own answer, which is the most useful for a single
   * failed attempt (its status, Retry-After and message).
   */
  function failed (request: ProxiedRequest, reply: ProxiedReply, route: RouteState, status: number, retryAfterMs: number | undefined, result: string, asItCame: (() => void) | undefined, cause: unknown): 'failed over' | 'answered' | 'as it came' {
    const { backend } = route
    const now = runtime.now()
    runtime.health.recordFailure(backend.key, { status, error: result, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) }, now, backend.provider.breaker)
    record(route, status, result, retryAfterMs)
    if (failOver(request, reply, route, result)) return 'failed over'
    // A 401/403 rejects berry's key, not the client: the client must not
    // read it as its own auth failing, and the upstream's body may echo
    // the key. It becomes a 502 without that body.
    const credentials = status === 401 || status === 403
    if (route.attempts.length > 1 || route.lastResort || credentials || asItCame === undefined) {
      takeBackHeaders(reply, route)
      const single = credentials ? UpstreamCredentialsRejected(backend.provider.id, status) : UpstreamUnreachable(backend.provider.id, result, { cause })
      reply.send(finalError(route, single, cause))
      return 'answered'
    }
    asItCame()
    return 'as it came'
  }

  function answered (request: ProxiedRequest, route: RouteState, status: number, sse: boolean) {
    runtime.health.recordSuccess(route.backend.key, performance.now() - route.attemptStartedAt, runtime.now())
    record(route, status, 'ok')
    return events.answerStarted?.(request, route, { status, sse, ttfbMs: route.control.headersAt - route.attemptStartedAt })
  }

  function onResponse (request: ProxiedRequest, reply: ProxiedReply, res: UpstreamResponse): void {
    const route = routeOf(request)
    const status = res.statusCode
    const headers = headersOf(res)
    const sse = isEventStream(headers['content-type'])
    // Another protocol's error or JSON answer is converted once read whole;
    // its streams were converted as they came (converting-handler.ts).
    if (route.attempt.link.protocol.convertsAnswer(route.api) && (status >= 300 || !sse)) {
      readWholeBody(res.stream).then(
        (text) => { convertedAnswer(request, reply, route, status, headers, text) },
        (error: unknown) => { if (!reply.sent && !route.clientGone) unreadable(request, reply, route, errorMessage(error), error) }
      )
      return
    }
    if (isBackendFailure(status)) {
      const retryAfterMs = parseRetryAfter(headers['retry-after'], runtime.now())
      const outcome = failed(request, reply, route, status, retryAfterMs, `HTTP ${status}`, () => { relay(request, reply, route, res, status, sse) }, undefined)
      if (outcome !== 'as it came') discard(res.stream)
      return
    }
    relay(request, reply, route, res, status, sse, answered(request, route, status, sse))
  }

  /** The upstream's body goes to the client as undici's stream; the tap watches it pass in the dispatcher. */
  function relay (request: ProxiedRequest, reply: ProxiedReply, route: RouteState, res: UpstreamResponse, status: number, sse: boolean, watcher = events.answerStarted?.(request, route, { status, sse, ttfbMs: route.control.headersAt - route.attemptStartedAt })): void {
    route.control.tap = tapBody({ sse, provider: route.backend.provider.id, watcher: watchBoth(watcher, storedResponses(route, status)), dialect })
    reply.send(res.stream)
  }

  /**
   * A Responses answer that the backend stores: its id is remembered with
   * the backend that holds it. A deleted one is forgotten.
   */
  function storedResponses (route: RouteState, status: number): BodyWatcher | undefined {
    if (route.api !== 'responses' || status >= 300) return undefined
    const { attempt } = route
    if (attempt.method === 'DELETE') {
      responses.forget(decodeURIComponent(attempt.path.slice(attempt.path.lastIndexOf('/') + 1)))
      return undefined
    }
    // A new response (not one read back), unless the client asked it not be stored.
    if (!route.countTokens || route.body.store === false) return undefined
    return new ResponseIdWatcher((id) => { responses.remember(id, { provider: route.backend.provider.id, model: route.model.name, user: route.user.id }) })
  }

  /** An answer in another protocol, read whole: converted to OpenAI's shape. */
  function convertedAnswer (request: ProxiedRequest, reply: ProxiedReply, route: RouteState, status: number, headers: Record<string, unknown>, text: string): void {
    if (reply.sent || route.clientGone) return
    const { protocol } = route.attempt.link
    if (status >= 300) {
      const openAI = protocol.error(status, text)
      const converted = dialect === 'anthropic' ? { status: openAI.status, body: anthropicClient.error(openAI.status, openAI.body) } : openAI
      const retryAfterMs = parseRetryAfter(headers['retry-after'], runtime.now())
      if (!isBackendFailure(converted.status)) {
        // The client's own mistake (a 400 the provider found): its message, as OpenAI would put it.
        answered(request, route, converted.status, false)?.onEnd({ error: undefined })
        reply.code(converted.status).send(converted.body)
        return
      }
      failed(request, reply, route, converted.status, retryAfterMs, `HTTP ${converted.status}`, () => {
        events.answerStarted?.(request, route, { status: converted.status, sse: false, ttfbMs: route.control.headersAt - route.attemptStartedAt })?.onEnd({ error: undefined })
        reply.code(converted.status).send(converted.body)
      }, undefined)
      return
    }
    let answer: object
    try {
      answer = protocol.answer(route.api, JSON.parse(text), { model: route.backend.model, body: route.body })
    } catch (error) {
      unreadable(request, reply, route, errorMessage(error), error)
      return
    }
    const watcher = answered(request, route, status, false)
    reply.removeHeader('content-length')
    reply.send(answer)
    watcher?.onEnd({ error: undefined, usage: toUsage(Reflect.get(answer, 'usage')) })
  }

  /** A 2xx answer that is not its protocol's shape: the backend's failure (a 502). */
  function unreadable (request: ProxiedRequest, reply: ProxiedReply, route: RouteState, detail: string, cause: unknown): void {
    failed(request, reply, route, 502, undefined, 'an unreadable answer', () => {
      takeBackHeaders(reply, route)
      reply.send(UpstreamBadAnswer(detail))
    }, cause)
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
    const failure = streamFailureOf(error)
    if (failure !== undefined) {
      // It answered 200, then failed before the first token (Anthropic's
      // overloaded_error as its first event): a failed attempt like a 529.
      const result = `HTTP ${failure.status} in the stream before the first token`
      request.log.warn({ provider: backend.provider.id, reason: result }, 'upstream stream failed')
      failed(request, reply, route, failure.status, undefined, result, () => { reply.send(UpstreamStreamError(backend.provider.id, failure, { cause: error })) }, error)
      return
    }
    const { timeout, reason } = classifyError(error)
    const seconds = backend.provider.timeoutMs / 1000
    const result = timeout ? `timeout after ${seconds}s` : reason
    request.log.warn({ provider: backend.provider.id, reason: result }, 'upstream request failed')
    runtime.health.recordFailure(backend.key, { error: result, timeout }, runtime.now(), backend.provider.breaker)
    record(route, undefined, result)
    if (failOver(request, reply, route, result)) return
    const single: BerryError = timeout ? UpstreamTimeout(backend.provider.id, seconds, { cause: error }) : UpstreamUnreachable(backend.provider.id, reason, { cause: error })
    reply.send(finalError(route, single, error))
  }

  function rewriteRequestHeaders (request: ProxiedRequest, headers: IncomingHttpHeaders): AttemptHeaders {
    const route = routeOf(request)
    return upstreamRequestHeaders(headers, route.attempt.link.headers, request.id, route.control)
  }

  function rewriteHeaders (headers: IncomingHttpHeaders, request: ProxiedRequest | undefined): IncomingHttpHeaders {
    if (request === undefined) return headers
    const route = routeOf(request)
    // A converted body has another length than the upstream's.
    const out = clientResponseHeaders(headers, route.backend.provider.id, route.attempts.length + 1, route.attempt.link.protocol.convertsAnswer(route.api))
    route.upstreamHeaderNames = Object.keys(out)
    return out
  }

  const handler: ProxyHandler = (request, reply, _dest, handlerOptions) => {
    proxyOptions ??= handlerOptions
    send(request, reply, proxyOptions)
  }

  await scope.register(httpProxy, {
    upstream: '',
    routes: [...options.routes],
    httpMethods: [...options.methods],
    config: { ...options.config },
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
