/**
 * berry's Prometheus metrics (prom-client), created once at register time in
 * the host's registry (prom-client's default one unless another is given),
 * and removed from it when the app closes.
 *
 * Labels are ids from the config (public model names, provider ids, user
 * ids), never tokens or keys. Backend health is read at scrape time from the
 * health tracker, so requests pay nothing for it.
 *
 * The hot path stays cheap: prom-client hashes a label object on every
 * `inc()` and `observe()`, so the per-request counters are plain numbers,
 * handed to prom-client when it is scraped, and the histograms are berry's
 * own (tallied-histogram.ts), shown by the same registry. Each backend's
 * series are made once per label pair and indexed by backend in the
 * config snapshot (snapshot.ts), so a request finds them with one lookup.
 */
import { Counter, Gauge, register as defaultRegistry, type Registry } from 'prom-client'
import { InvalidOptions } from './errors.js'
import type { HealthTracker } from './health/tracker.js'
import type { UpstreamDispatcher } from './proxy/dispatcher.js'
import type { Snapshot } from './snapshot.js'
import { HistogramSeries, TalliedHistogram } from './tallied-histogram.js'
import type { UsageRecord } from './accounting/usage-ledger.js'

/** LLM answers take from milliseconds (errors, cached) to minutes (long streams). */
export const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300]
export const TTFB_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

type RequestLabel = 'model' | 'backend' | 'status' | 'pinned'
type TokenLabel = 'user' | 'model' | 'backend' | 'type'

interface Tally<N extends string> {
  readonly labels: Readonly<Record<N, string>>
  value: number
}

interface TokenTallies {
  readonly prompt: Tally<TokenLabel>
  readonly completion: Tally<TokenLabel>
}

/** Every series of one public model and backend (provider id). */
export interface BackendSeries {
  readonly model: string
  readonly backend: string
  readonly duration: HistogramSeries<'model' | 'backend'>
  readonly ttfb: HistogramSeries<'model' | 'backend'>
  /** status -> [not pinned, pinned] */
  readonly requests: Map<number, Array<Tally<RequestLabel> | undefined>>
  /** Token tallies by user. */
  readonly tokens: Map<string, TokenTallies>
}

/** Makes (once per label pair) the series a backend's requests are counted in. */
export interface SeriesSource {
  series (model: string, backend: string): BackendSeries
}

export interface BerryMetrics extends SeriesSource {
  /** One proxied request ended (any status), counted in `series`. */
  requestCompleted (series: BackendSeries, record: UsageRecord, ttfbMs: number | undefined): void
  failover (model: string, from: string, to: string): void
  requestStarted (): void
  requestEnded (): void
  /** Takes berry's metrics out of the registry. */
  close (): void
}

export interface MetricsSource {
  readonly registry: Registry | undefined
  readonly health: HealthTracker
  /** The snapshot in force, read at scrape time for the health gauges. */
  readonly snapshot: () => Snapshot
  /** Whether shared state reaches Redis, when there is one (`berry_redis_up`). */
  readonly redisUp?: (() => boolean) | undefined
  /** The upstream pools, read at scrape time for the connection gauges. */
  readonly upstream: () => Pick<UpstreamDispatcher, 'waits' | 'connections'>
}

/** A series that belongs to no registry: what every backend gets when metrics are off. */
const DETACHED: BackendSeries = {
  model: '',
  backend: '',
  duration: new HistogramSeries({ model: '', backend: '' }, []),
  ttfb: new HistogramSeries({ model: '', backend: '' }, []),
  requests: new Map(),
  tokens: new Map()
}

/** When metrics are off: the same calls, doing nothing. */
export const NO_METRICS: BerryMetrics = {
  series () { return DETACHED },
  requestCompleted () {},
  failover () {},
  requestStarted () {},
  requestEnded () {},
  close () {}
}

export const METRIC_NAMES = [
  'berry_requests_total',
  'berry_request_duration_seconds',
  'berry_upstream_ttfb_seconds',
  'berry_backend_healthy',
  'berry_backend_response_time_seconds',
  'berry_failovers_total',
  'berry_in_flight_requests',
  'berry_tokens_total',
  'berry_redis_up',
  'berry_upstream_queued_requests',
  'berry_upstream_busy_total',
  'berry_upstream_connections'
] as const

/** Counts kept as numbers and given to prom-client at scrape time. */
class Tallies<N extends string> {
  readonly all: Array<Tally<N>> = []

  add (labels: Record<N, string>): Tally<N> {
    const tally = { labels, value: 0 }
    this.all.push(tally)
    return tally
  }

  /** prom-client `collect`: the counter holds exactly the tallies. */
  flush (counter: Counter<N>): void {
    counter.reset()
    for (const tally of this.all) counter.inc(tally.labels, tally.value)
  }
}

export function createMetrics (source: MetricsSource): BerryMetrics & { readonly registry: Registry } {
  const registry = source.registry ?? defaultRegistry
  const { health } = source
  for (const name of METRIC_NAMES) {
    if (registry.getSingleMetric(name) !== undefined) {
      throw InvalidOptions(`the metric '${name}' is already registered in the Prometheus registry (another berry instance?): pass 'metrics.registry'`)
    }
  }
  const registers = [registry]
  const requestTallies = new Tallies<RequestLabel>()
  const tokenTallies = new Tallies<TokenLabel>()
  const requests = new Counter({
    name: 'berry_requests_total',
    help: 'Proxied requests by public model, backend (provider id), HTTP status and whether the backend was pinned',
    labelNames: ['model', 'backend', 'status', 'pinned'] as const,
    registers,
    collect () { requestTallies.flush(this) }
  })
  const duration = new TalliedHistogram({
    name: 'berry_request_duration_seconds',
    help: 'Time from the request to the last byte of the answer',
    labelNames: ['model', 'backend'] as const,
    buckets: DURATION_BUCKETS,
    registry
  })
  const ttfb = new TalliedHistogram({
    name: 'berry_upstream_ttfb_seconds',
    help: "Time from sending the answering attempt upstream to the upstream's response headers",
    labelNames: ['model', 'backend'] as const,
    buckets: TTFB_BUCKETS,
    registry
  })
  const failovers = new Counter({
    name: 'berry_failovers_total',
    help: 'Failed attempts retried on another backend',
    labelNames: ['model', 'from', 'to'] as const,
    registers
  })
  const inFlight = new Gauge({
    name: 'berry_in_flight_requests',
    help: 'Proxied requests being served now',
    registers
  })
  const tokens = new Counter({
    name: 'berry_tokens_total',
    help: "Tokens by user, public model, backend and type (prompt, completion), from the upstream's usage",
    labelNames: ['user', 'model', 'backend', 'type'] as const,
    registers,
    collect () { tokenTallies.flush(this) }
  })
  const healthy = new Gauge({
    name: 'berry_backend_healthy',
    help: '1 when the backend is enabled and its circuit is closed, else 0',
    labelNames: ['model', 'backend'] as const,
    registers,
    collect () {
      this.reset()
      for (const model of source.snapshot().config.models.values()) {
        for (const backend of model.backends) {
          const up = model.enabled && backend.enabled && backend.provider.enabled && health.isHealthy(backend.key)
          this.set({ model: model.name, backend: backend.provider.id }, up ? 1 : 0)
        }
      }
    }
  })
  const responseTime = new Gauge({
    name: 'berry_backend_response_time_seconds',
    help: 'Latency of the last successful answer of the backend (to its response headers)',
    labelNames: ['model', 'backend'] as const,
    registers,
    collect () {
      this.reset()
      for (const model of source.snapshot().config.models.values()) {
        for (const backend of model.backends) {
          const latency = health.snapshot(backend.key).lastLatencyMs
          if (latency !== undefined) this.set({ model: model.name, backend: backend.provider.id }, latency / 1000)
        }
      }
    }
  })

  const { redisUp } = source
  const redis = redisUp === undefined
    ? undefined
    : new Gauge({
      name: 'berry_redis_up',
      help: '1 when health, usage, quotas and rate limits are shared through Redis, 0 while Redis is unavailable (each instance on its own)',
      registers,
      collect () { this.set(redisUp() ? 1 : 0) }
    })
  // Read from the dispatcher at scrape time: requests pay nothing for them.
  const queued = new Gauge({
    name: 'berry_upstream_queued_requests',
    help: 'Requests waiting now for a free connection to the provider\'s origin',
    labelNames: ['provider'] as const,
    registers,
    collect () {
      this.reset()
      const waiting = source.upstream().waits.queued()
      for (const id of source.snapshot().config.providers.keys()) this.set({ provider: id }, waiting.get(id) ?? 0)
    }
  })
  const busy = new Counter({
    name: 'berry_upstream_busy_total',
    help: 'Attempts given up because no connection to the provider\'s origin came free within upstream_queue_timeout_seconds (503 BERRY_ERR_UPSTREAM_BUSY unless another backend took over)',
    labelNames: ['provider'] as const,
    registers,
    collect () {
      this.reset()
      for (const [provider, count] of source.upstream().waits.busy()) this.inc({ provider }, count)
    }
  })
  const connections = new Gauge({
    name: 'berry_upstream_connections',
    help: 'Open connections to the provider\'s origin (one pool per origin, shared by the providers on it)',
    labelNames: ['provider'] as const,
    registers,
    collect () {
      this.reset()
      const upstream = source.upstream()
      for (const provider of source.snapshot().config.providers.values()) this.set({ provider: provider.id }, upstream.connections(provider.origin))
    }
  })

  // model -> backend -> series; a label pair keeps its series across reloads.
  const byLabels = new Map<string, Map<string, BackendSeries>>()

  function series (model: string, backend: string): BackendSeries {
    let byBackend = byLabels.get(model)
    if (byBackend === undefined) {
      byBackend = new Map()
      byLabels.set(model, byBackend)
    }
    let found = byBackend.get(backend)
    if (found === undefined) {
      const labels = { model, backend }
      found = { model, backend, duration: duration.series(labels), ttfb: ttfb.series(labels), requests: new Map(), tokens: new Map() }
      byBackend.set(backend, found)
    }
    return found
  }

  function requestTally (series: BackendSeries, status: number, pinned: boolean): Tally<RequestLabel> {
    let pair = series.requests.get(status)
    if (pair === undefined) {
      pair = [undefined, undefined]
      series.requests.set(status, pair)
    }
    const index = pinned ? 1 : 0
    return pair[index] ?? (pair[index] = requestTallies.add({ model: series.model, backend: series.backend, status: String(status), pinned: pinned ? 'true' : 'false' }))
  }

  function tokenTally (series: BackendSeries, user: string): TokenTallies {
    let pair = series.tokens.get(user)
    if (pair === undefined) {
      const { model, backend } = series
      pair = { prompt: tokenTallies.add({ user, model, backend, type: 'prompt' }), completion: tokenTallies.add({ user, model, backend, type: 'completion' }) }
      series.tokens.set(user, pair)
    }
    return pair
  }

  return {
    registry,
    series,
    requestCompleted (series, record, ttfbMs) {
      requestTally(series, record.status, record.pinned).value++
      series.duration.observe(record.latencyMs / 1000)
      if (ttfbMs !== undefined) series.ttfb.observe(ttfbMs / 1000)
      if (record.promptTokens > 0 || record.completionTokens > 0) {
        const pair = tokenTally(series, record.user)
        pair.prompt.value += record.promptTokens
        pair.completion.value += record.completionTokens
      }
    },
    failover (model, from, to) {
      failovers.inc({ model, from, to })
    },
    requestStarted () {
      inFlight.inc()
    },
    requestEnded () {
      inFlight.dec()
    },
    close () {
      const ours = new Set<unknown>([requests, duration, ttfb, failovers, inFlight, tokens, healthy, responseTime, queued, busy, connections])
      if (redis !== undefined) ours.add(redis)
      for (const name of METRIC_NAMES) {
        if (ours.has(registry.getSingleMetric(name))) registry.removeSingleMetric(name)
      }
    }
  }
}
