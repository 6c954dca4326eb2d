/**
 * The end of every proxied request: one structured log line, the metrics,
 * the usage totals and the host's `onUsage` record, all from one place.
 *
 * It hangs on Fastify's `onResponse` (and on the response's `close`, for
 * clients that leave mid-answer) in berry's `/v1` scope, not on the handoff: errors raised
 * before any upstream is tried (401, 429, the spec's pinned 500s) are
 * accounted too. The handoff only lends two hooks: `observe`, which reads
 * the usage from the passing body, and `onFailover`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Gateway } from './gateway.js'
import type { BerryMetrics } from './metrics.js'
import type { HandoffHooks } from './proxy/handoff.js'
import type { BodyObserver } from './proxy/body-tap.js'
import type { RouteState } from './proxy/route-state.js'
import { findModel } from './select/lookup.js'
import { kAccounting, kRoute, kUser } from './symbols.js'
import type { UsageLedger, UsageRecord } from './usage/usage-ledger.js'
import { UsageScanner } from './usage/usage-parser.js'

/** nginx's status for a client that closed the connection before the answer ended. */
export const CLIENT_CLOSED = 499

const DONE = -1

export interface RequestLogOptions {
  readonly gateway: Gateway
  readonly metrics: Pick<BerryMetrics, 'requestCompleted' | 'failover' | 'requestStarted' | 'requestEnded'>
  readonly ledger: UsageLedger
  readonly onUsage: ((record: UsageRecord) => void | Promise<void>) | undefined
  /** The client closed the connection before its answer was complete. */
  readonly onClientGone: (request: FastifyRequest) => void
}

/** Feeds the body to the usage scanner; the body tap calls it as a method. */
class UsageObserver implements BodyObserver {
  readonly #scanner = new UsageScanner()
  readonly #state: RouteState

  constructor (state: RouteState) {
    this.#state = state
  }

  onChunk (chunk: Buffer): void {
    this.#scanner.push(chunk)
  }

  onEnd (result: { error: string | undefined }): void {
    const usage = this.#scanner.usage
    if (usage !== undefined) this.#state.usage = usage
    if (result.error !== undefined) this.#state.bodyError = result.error
  }
}

/** Model, backend and pinning of a request turned away before it was routed, as far as they are config ids. */
function unrouted (request: FastifyRequest, gateway: Gateway): { model: string, backend: string, pinned: boolean } {
  const body = request.body
  if (body === null || typeof body !== 'object') return { model: '', backend: '', pinned: false }
  const { model, backend } = body as Record<string, unknown>
  const { config } = gateway.current
  // Only names from the config become labels: whatever a client writes
  // must not grow the metrics.
  return {
    model: typeof model === 'string' ? findModel(config, model)?.name ?? '' : '',
    backend: typeof backend === 'string' && config.providers.has(backend) ? backend : '',
    pinned: backend !== undefined
  }
}

export function registerRequestLog (scope: FastifyInstance, options: RequestLogOptions): HandoffHooks {
  const { gateway, metrics, ledger, onUsage, onClientGone } = options
  scope.decorateRequest(kAccounting, 0)

  function finish (request: FastifyRequest, status: number, latencyMs: number): void {
    const started = request[kAccounting]
    if (started === DONE || request.is404) return
    request[kAccounting] = DONE
    if (started > 0) metrics.requestEnded()

    const user = request[kUser]
    const route = request[kRoute]
    const { model, backend, pinned } = route === null
      ? unrouted(request, gateway)
      : { model: route.model.name, backend: route.backend.provider.id, pinned: route.pinned }
    const usage = route?.usage
    const record: UsageRecord = {
      requestId: request.id,
      user: user?.id ?? '',
      model,
      backend,
      pinned,
      status,
      latencyMs,
      attempts: route?.attempts.length ?? 0,
      promptTokens: usage?.promptTokens ?? 0,
      completionTokens: usage?.completionTokens ?? 0,
      totalTokens: usage?.totalTokens ?? 0,
      tokensReported: usage !== undefined,
      time: gateway.now()
    }
    metrics.requestCompleted(record, route?.ttfbMs)
    request.log.info({
      user: user?.id ?? null,
      model,
      backend,
      pinned,
      status,
      latency_ms: Math.round(latencyMs),
      attempts: record.attempts,
      prompt_tokens: usage?.promptTokens ?? null,
      completion_tokens: usage?.completionTokens ?? null,
      total_tokens: usage?.totalTokens ?? null,
      // A status of 200 whose body broke off half-way says so here.
      body_error: route?.bodyError ?? null
    }, 'berry request')
    // Unauthenticated requests have nobody to bill.
    if (user === null) return
    ledger.record(record)
    if (onUsage !== undefined) deliver(request, onUsage, record)
  }

  scope.addHook('onRequest', function startAccounting (request: FastifyRequest, reply: FastifyReply, done: () => void) {
    if (!request.is404) {
      const started = performance.now()
      request[kAccounting] = started
      metrics.requestStarted()
      // A client that leaves mid-answer gets no 'finish', hence no onResponse:
      // the socket's close is the only end such a request has. It is the
      // request's one close listener, so it also tells the handoff.
      reply.raw.once('close', () => {
        // A finished response is onResponse's, however late its hooks run.
        if (reply.raw.writableFinished) return
        onClientGone(request)
        finish(request, CLIENT_CLOSED, performance.now() - started)
      })
    }
    done()
  })
  scope.addHook('onResponse', function endAccounting (request: FastifyRequest, reply: FastifyReply, done: () => void) {
    finish(request, reply.statusCode, reply.elapsedTime)
    done()
  })

  return {
    observe (_request, state) {
      // observe runs as the answering upstream's headers arrive.
      state.ttfbMs = performance.now() - state.attemptStartedAt
      return new UsageObserver(state)
    },
    onFailover (state, from, to) {
      metrics.failover(state.model.name, from, to)
    }
  }
}

/** A host's hook must not break a request, nor go unnoticed when it fails. */
function deliver (request: FastifyRequest, onUsage: (record: UsageRecord) => void | Promise<void>, record: UsageRecord): void {
  const fail = (err: unknown): void => { request.log.error({ err }, 'berry: onUsage failed') }
  try {
    const result = onUsage(record)
    if (result !== undefined && typeof (result as Promise<void>).then === 'function') (result as Promise<void>).then(undefined, fail)
  } catch (err) {
    fail(err)
  }
}
