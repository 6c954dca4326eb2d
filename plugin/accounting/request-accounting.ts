/**
 * The end of every request to a proxied route: one structured log line, the
 * metrics, the usage totals, the status page's rolling windows and the
 * host's `onUsage` record, all from one place. Accounting subscribes to the proxy's events (handoff-events.ts) and
 * keeps its own per-request state (`RequestTally`, under `kTally`); it never
 * steers a request.
 *
 * A request ends in one of two ways: Fastify's onResponse (the answer was
 * sent, whatever its status, errors before any upstream was tried
 * included), or the client leaving first (`clientGone`, logged as 499).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import type { BerryMetrics } from '../metrics.js'
import type { HandoffEvents, ProxiedRequest } from '../proxy/handoff-events.js'
import type { Runtime } from '../runtime.js'
import { findModel } from '../select/lookup.js'
import type { TrafficStore } from '../status/traffic-store.js'
import { kRoute, kTally, kUser } from '../symbols.js'
import { TokenCounter } from './token-counter.js'
import type { UsageStore } from '../cluster/usage-store.js'
import type { UsageRecord } from './usage-ledger.js'

/** nginx's status for a client that closed the connection before the answer ended. */
export const CLIENT_CLOSED = 499

/** What accounting knows of one request while it runs. */
export class RequestTally {
  /** performance.now() when the proxied route took the request. */
  readonly startedAt: number
  /** Logged already: a request is accounted once, however it ends. */
  done = false
  /** To the answering upstream's response headers, in ms. */
  ttfbMs: number | undefined
  /** Watches the answer's body for tokens; absent until an answer began. */
  tokens: TokenCounter | undefined

  constructor (startedAt: number) {
    this.startedAt = startedAt
  }
}

export interface AccountingOptions {
  readonly runtime: Runtime
  readonly metrics: BerryMetrics
  /** The usage totals and quota view (memory or Redis); `record` never waits. */
  readonly usage: UsageStore
  readonly onUsage: ((record: UsageRecord) => void | Promise<void>) | undefined
  /** The status page's rolling windows, when the page is on. */
  readonly traffic: TrafficStore | undefined
}

/** Model, backend and pinning of a request turned away before it was routed, as far as they are config ids. */
function unrouted (request: ProxiedRequest, runtime: Runtime): { model: string, backend: string, pinned: boolean } {
  const body: unknown = request.body
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { model: '', backend: '', pinned: false }
  const model: unknown = Reflect.get(body, 'model')
  const backend: unknown = Reflect.get(body, 'backend')
  const { config } = runtime.snapshot
  // Only names from the config become labels: whatever a client writes
  // must not grow the metrics.
  return {
    model: typeof model === 'string' ? findModel(config, model)?.name ?? '' : '',
    backend: typeof backend === 'string' && config.providers.has(backend) ? backend : '',
    pinned: backend !== undefined
  }
}

/**
 * Registers the onResponse end of accounting in `scope` (the proxied
 * routes' scope) and returns the subscriber for the proxy's events.
 */
export function registerAccounting (scope: FastifyInstance, options: AccountingOptions): HandoffEvents {
  const { runtime, metrics, usage: store, onUsage, traffic } = options
  scope.decorateRequest(kTally, null)

  function finish (request: ProxiedRequest, status: number, latencyMs: number): void {
    const tally = request[kTally]
    if (request.is404 || tally?.done === true) return
    if (tally !== null) {
      tally.done = true
      metrics.requestEnded()
    }

    const user = request[kUser]
    const route = request[kRoute]
    let model: string, backend: string, pinned: boolean
    if (route === null) {
      ({ model, backend, pinned } = unrouted(request, runtime))
    } else {
      model = route.model.name
      backend = route.backend.provider.id
      pinned = route.pinned
    }
    const tokens = tally?.tokens
    const usage = tokens?.usage
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
      time: runtime.now()
    }
    const series = (route === null ? undefined : route.snapshot.series.get(route.backend)) ?? metrics.series(model, backend)
    metrics.requestCompleted(series, record, tally?.ttfbMs)
    traffic?.record({
      model,
      backend,
      user: record.user,
      status,
      latencyMs,
      ttfbMs: tally?.ttfbMs,
      pinned,
      promptTokens: record.promptTokens,
      completionTokens: record.completionTokens,
      now: record.time
    })
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
      body_error: tokens?.bodyError ?? null
    }, 'berry request')
    // Unauthenticated requests have nobody to bill.
    if (user === null) return
    store.record(record)
    if (onUsage !== undefined) deliver(request, onUsage, record)
  }

  scope.addHook('onResponse', function endAccounting (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) {
    finish(request, reply.statusCode, reply.elapsedTime)
    done()
  })

  return {
    requestStarted (request) {
      request[kTally] = new RequestTally(performance.now())
      metrics.requestStarted()
    },
    answerStarted (request, route, answer) {
      const tally = request[kTally]
      if (tally === null) return undefined
      tally.ttfbMs = answer.ttfbMs
      // A stored response read back carries the usage of when it was made.
      if (!route.countTokens) return undefined
      tally.tokens = new TokenCounter()
      return tally.tokens
    },
    failover (_request, route, from, to) {
      metrics.failover(route.model.name, from.provider.id, to.provider.id)
      traffic?.failover(route.model.name, from.provider.id, runtime.now())
    },
    clientGone (request) {
      const tally = request[kTally]
      finish(request, CLIENT_CLOSED, tally === null ? 0 : performance.now() - tally.startedAt)
    }
  }
}

/** A host's hook must not break a request, nor go unnoticed when it fails. */
function deliver (request: ProxiedRequest, onUsage: (record: UsageRecord) => void | Promise<void>, record: UsageRecord): void {
  const fail = (err: unknown): void => { request.log.error({ err }, 'berry: onUsage failed') }
  try {
    const result = onUsage(record)
    if (result instanceof Promise) result.then(undefined, fail)
  } catch (err) {
    fail(err)
  }
}
