/**
 * `GET /admin/status` as data: a function of the config, the health
 * tracker, the traffic store, the rate-limit headroom and the time. It
 * changes none of them (it only keeps chart percentiles it may reuse), so it
 * is tested with hand-fed stores and a fixed `now`.
 */
import type { Backend, BerryConfig, Model } from '../config/types.js'
import type { BackendHealth, HealthTracker } from '../health/tracker.js'
import { effectiveWeight } from '../select/weights-view.js'
import { activeOf } from '../snapshot.js'
import { LATENCY_BINS, quantile } from './latency-histogram.js'
import { WindowTotals, type RollingWindow } from './rolling-window.js'
import {
  COMPLETION_TOKENS, ERRORS, FAILOVERS, LATENCY, OTHER_USERS, PINNED, PROMPT_TOKENS, REQUESTS, TTFB,
  type TrafficStore
} from './traffic-store.js'
import type {
  BackendChart, BackendState, BackendStatus, GroupState, ModelStatus, OverallState, ProviderStatus,
  RateLimitHeadroom, StatusView, TrafficFigures, UserStatus
} from './view-types.js'

/** Rates, error rates and percentiles are over the last 5 minutes. */
export const STATS_MS = 300_000
/** A backend's share of its model's traffic is over the last minute. */
export const SHARE_MS = 60_000

export interface StatusInput {
  readonly config: BerryConfig
  readonly health: HealthTracker
  readonly traffic: TrafficStore
  /** The rate-limit windows of a user with limits, read beforehand (the stores may be remote). */
  readonly headroom: (userId: string) => readonly RateLimitHeadroom[]
  readonly now: number
}

const round = (value: number, digits: number): number => {
  const f = 10 ** digits
  return Math.round(value * f) / f
}
const roundOrNull = (value: number | undefined, digits: number): number | null => value === undefined ? null : round(value, digits)

/** The seconds a window of `slots` buckets ending now has really covered (not before counting began). */
function coveredSeconds (traffic: TrafficStore, now: number, slots: number): number {
  const { bucketMs } = traffic.trafficShape
  const first = (Math.floor(now / bucketMs) - slots + 1) * bucketMs
  return Math.max(1, (now - Math.max(first, traffic.startedAt)) / 1000)
}

/**
 * `perAttempt`: a backend's (or provider's) error rate counts its failures
 * that failed over, which its requests do not hold; a model's or the
 * gateway's is what clients saw.
 */
function figures (totals: WindowTotals, seconds: number, perAttempt: boolean): TrafficFigures {
  const c = totals.counters
  const requests = (c[REQUESTS] ?? 0)
  const failovers = (c[FAILOVERS] ?? 0)
  const tokens = (c[PROMPT_TOKENS] ?? 0) + (c[COMPLETION_TOKENS] ?? 0)
  const h = totals.histograms
  const tries = perAttempt ? requests + failovers : requests
  const failed = perAttempt ? (c[ERRORS] ?? 0) + failovers : (c[ERRORS] ?? 0)
  return {
    requests,
    requests_per_second: round(requests / seconds, 3),
    error_rate: tries === 0 ? null : round(failed / tries, 4),
    failovers,
    latency_p50_ms: roundOrNull(quantile(h, LATENCY * LATENCY_BINS, 0.5), 1),
    latency_p95_ms: roundOrNull(quantile(h, LATENCY * LATENCY_BINS, 0.95), 1),
    ttfb_p50_ms: roundOrNull(quantile(h, TTFB * LATENCY_BINS, 0.5), 1),
    ttfb_p95_ms: roundOrNull(quantile(h, TTFB * LATENCY_BINS, 0.95), 1),
    tokens_per_minute: round(tokens / (seconds / 60), 1),
    pinned_requests: (c[PINNED] ?? 0)
  }
}

/** What a backend's circuit breaker says, in the page's terms. */
export function backendState (backend: Backend, health: HealthTracker, now: number, h: Readonly<BackendHealth> = health.snapshot(backend.key)): { state: BackendState, nextTrialSeconds: number | null, recoveryPercent: number | null } {
  if (!backend.enabled || !backend.provider.enabled) return { state: 'disabled', nextTrialSeconds: null, recoveryPercent: null }
  if (h.state === 'open') return { state: 'unhealthy', nextTrialSeconds: Math.max(0, Math.ceil((h.cooldownUntil - now) / 1000)), recoveryPercent: null }
  if (h.state === 'half_open') return { state: 'half_open', nextTrialSeconds: null, recoveryPercent: null }
  if (h.recoveryStep >= 0) return { state: 'recovering', nextTrialSeconds: null, recoveryPercent: Math.round(health.weightFactor(backend.key) * 100) }
  if (h.consecutiveFailures > 0) return { state: 'failing', nextTrialSeconds: null, recoveryPercent: null }
  return { state: 'healthy', nextTrialSeconds: null, recoveryPercent: null }
}

/** A group of backends: unhealthy when none is healthy, degraded when some is not fully so. */
function groupState (states: readonly BackendState[], healthy: number): OverallState {
  const live = states.filter((s) => s !== 'disabled')
  if (live.length > 0 && healthy === 0) return 'unhealthy'
  return live.some((s) => s !== 'healthy') ? 'degraded' : 'healthy'
}

/**
 * Each chart bucket's p95, kept from one refresh to the next: a bucket's
 * histogram changes only while requests still land in it, which its request
 * count tells. Without this, every refresh would read 90 histograms per backend.
 */
interface P95Memo {
  readonly slots: Float64Array
  readonly counts: Float64Array
  /** NaN: no p95 (no request was timed). */
  readonly values: Float64Array
}
const p95Memos = new WeakMap<RollingWindow, P95Memo>()

function memoOf (window: RollingWindow): P95Memo {
  let memo = p95Memos.get(window)
  if (memo === undefined) {
    const n = window.shape.buckets
    memo = { slots: new Float64Array(n).fill(-1), counts: new Float64Array(n), values: new Float64Array(n) }
    p95Memos.set(window, memo)
  }
  return memo
}

function p95Of (window: RollingWindow, memo: P95Memo, row: number, slot: number, requests: number): number | null {
  if (memo.slots[row] !== slot || memo.counts[row] !== requests) {
    memo.slots[row] = slot
    memo.counts[row] = requests
    memo.values[row] = Math.round(window.quantile(row, LATENCY, 0.95) ?? NaN)
  }
  const value = (memo.values[row] ?? 0)
  return Number.isNaN(value) ? null : value
}

function chart (window: RollingWindow | undefined, traffic: TrafficStore, now: number): BackendChart {
  const { bucketMs, buckets } = traffic.trafficShape
  const last = Math.floor(now / bucketMs)
  const rates = new Array<number | null>(buckets)
  const p95 = new Array<number | null>(buckets)
  const memo = window === undefined ? undefined : memoOf(window)
  for (let i = 0; i < buckets; i++) {
    const slot = last - buckets + 1 + i
    const start = Math.max(slot * bucketMs, traffic.startedAt)
    const end = Math.min((slot + 1) * bucketMs, now)
    const row = window === undefined || end <= traffic.startedAt ? -1 : window.find(slot)
    if (window === undefined || memo === undefined || row < 0) {
      rates[i] = end <= traffic.startedAt ? null : 0
      p95[i] = null
      continue
    }
    const requests = window.counter(row, REQUESTS)
    rates[i] = Math.round(requests * 60 / Math.max(1, (end - start) / 1000))
    p95[i] = requests === 0 ? null : p95Of(window, memo, row, slot, requests)
  }
  return { requests_per_minute: rates, latency_p95_ms: p95 }
}

export function statusView (input: StatusInput): StatusView {
  const { config, health, traffic, now } = input
  const { bucketMs, buckets } = traffic.trafficShape
  const statsSlots = Math.ceil(STATS_MS / bucketMs)
  const shareSlots = Math.ceil(SHARE_MS / bucketMs)
  const statsSeconds = coveredSeconds(traffic, now, statsSlots)
  const shape = traffic.trafficShape
  const backendTotals = new WindowTotals(shape)

  interface ProviderAcc { totals: WindowTotals, states: BackendState[], healthy: number }
  const providers = new Map<string, ProviderAcc>()
  for (const provider of config.providers.values()) providers.set(provider.id, { totals: new WindowTotals(shape), states: [], healthy: 0 })

  const models: ModelStatus[] = []
  let unhealthyModels = 0
  let degradedModels = 0
  for (const model of config.models.values()) {
    const status = modelStatus(model)
    models.push(status)
    if (!model.enabled) continue
    if (status.state === 'unhealthy') unhealthyModels++
    else if (status.state === 'degraded') degradedModels++
  }

  function modelStatus (model: Model): ModelStatus {
    const active = activeOf(model)
    const modelTotals = new WindowTotals(shape)
    const lastMinute: number[] = []
    let modelLastMinute = 0
    for (const backend of model.backends) {
      const window = traffic.backend(model.name, backend.provider.id)
      const n = window === undefined ? 0 : window.sumCounter(now, shareSlots, REQUESTS)
      lastMinute.push(n)
      modelLastMinute += n
    }
    const rows: BackendStatus[] = []
    const states: BackendState[] = []
    let healthyActive = 0
    model.backends.forEach((backend, index) => {
      const window = traffic.backend(model.name, backend.provider.id)
      if (window === undefined) backendTotals.clear()
      else window.sum(now, statsSlots, backendTotals)
      modelTotals.add(backendTotals)
      const h = health.snapshot(backend.key)
      const { state, nextTrialSeconds, recoveryPercent } = backendState(backend, health, now, h)
      states.push(state)
      const inRotation = active.includes(backend)
      if (inRotation && health.isHealthy(backend.key)) healthyActive++
      const acc = providers.get(backend.provider.id)
      if (acc !== undefined && model.enabled) {
        acc.totals.add(backendTotals)
        acc.states.push(state)
        if (state !== 'disabled' && health.isHealthy(backend.key)) acc.healthy++
      }
      const f = figures(backendTotals, statsSeconds, true)
      // Every field in one literal: V8 builds it from one shape, where a
      // spread and then 16 more fields cost a third of the whole view.
      rows.push({
        requests: f.requests,
        requests_per_second: f.requests_per_second,
        error_rate: f.error_rate,
        failovers: f.failovers,
        latency_p50_ms: f.latency_p50_ms,
        latency_p95_ms: f.latency_p95_ms,
        ttfb_p50_ms: f.ttfb_p50_ms,
        ttfb_p95_ms: f.ttfb_p95_ms,
        tokens_per_minute: f.tokens_per_minute,
        pinned_requests: f.pinned_requests,
        provider: backend.provider.id,
        provider_name: backend.provider.name,
        upstream_model: backend.model,
        enabled: backend.enabled && backend.provider.enabled,
        state,
        next_trial_seconds: nextTrialSeconds,
        recovery_percent: recoveryPercent,
        consecutive_failures: h.consecutiveFailures,
        weight: backend.weight,
        effective_weight: inRotation ? round(effectiveWeight(model, backend, { health, now }), 4) : 0,
        priority: backend.priority,
        share: modelLastMinute === 0 ? null : round((lastMinute[index] ?? 0) / modelLastMinute, 4),
        last_failure: h.lastError === undefined ? null : { reason: h.lastError, age_seconds: Math.max(0, Math.round((now - h.lastErrorAt) / 1000)) },
        chart: chart(window, traffic, now)
      })
    })
    // A model is served when load balancing has a healthy backend: GET /health's rule.
    const state: GroupState = !model.enabled
      ? 'disabled'
      : active.length === 0 || healthyActive === 0 ? 'unhealthy' : groupState(states, healthyActive)
    return {
      ...figures(modelTotals, statsSeconds, false),
      name: model.name,
      key: model.key,
      enabled: model.enabled,
      strategy: model.strategy,
      state,
      healthy_backends: healthyActive,
      backends: rows
    }
  }

  const providerRows: ProviderStatus[] = []
  for (const provider of config.providers.values()) {
    const acc = providers.get(provider.id)
    if (acc === undefined) continue
    providerRows.push({
      ...figures(acc.totals, statsSeconds, true),
      id: provider.id,
      name: provider.name,
      enabled: provider.enabled,
      state: provider.enabled ? groupState(acc.states, acc.healthy) : 'disabled',
      backends: acc.states.filter((s) => s !== 'disabled').length,
      healthy_backends: acc.healthy
    })
  }

  return {
    status: unhealthyModels > 0 ? 'unhealthy' : degradedModels > 0 ? 'degraded' : 'healthy',
    generated_at: new Date(now).toISOString(),
    uptime_seconds: Math.max(0, Math.floor((now - traffic.startedAt) / 1000)),
    windows: {
      bucket_seconds: bucketMs / 1000,
      stats_seconds: statsSlots * bucketMs / 1000,
      share_seconds: shareSlots * bucketMs / 1000,
      chart_seconds: buckets * bucketMs / 1000
    },
    totals: figures(traffic.all.sum(now, statsSlots, new WindowTotals(shape)), statsSeconds, false),
    models,
    providers: providerRows,
    users: users(input, statsSlots, statsSeconds)
  }
}

function users (input: StatusInput, statsSlots: number, statsSeconds: number): UserStatus[] {
  const { config, traffic, now, headroom } = input
  const totals = new WindowTotals(traffic.userShape)
  const row = (id: string, name: string): UserStatus => {
    const window = traffic.user(id)
    if (window === undefined) totals.clear()
    else window.sum(now, statsSlots, totals)
    const c = totals.counters
    const requests = (c[REQUESTS] ?? 0)
    const tokens = (c[PROMPT_TOKENS] ?? 0) + (c[COMPLETION_TOKENS] ?? 0)
    return {
      id,
      name,
      requests,
      requests_per_minute: round(requests / (statsSeconds / 60), 2),
      error_rate: requests === 0 ? null : round((c[ERRORS] ?? 0) / requests, 4),
      tokens,
      tokens_per_minute: round(tokens / (statsSeconds / 60), 1),
      rate_limit: headroom(id)
    }
  }
  const out: UserStatus[] = []
  const known = new Set<string>()
  for (const user of config.users) {
    known.add(user.id)
    out.push(row(user.id, user.name))
  }
  // Users of a host's `authenticate` hook are not in the config: those seen lately.
  const others = [...traffic.userIds()].filter((id) => !known.has(id) && id !== OTHER_USERS).sort()
  for (const id of others) out.push(row(id, id))
  if (traffic.user(OTHER_USERS) !== undefined) out.push(row(OTHER_USERS, `other users (beyond ${traffic.maxUsers})`))
  return out
}
