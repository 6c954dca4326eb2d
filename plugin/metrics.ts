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
 * `inc()` and `observe()`, so the per-request counters are plain numbers in
 * maps keyed by label value (no string built, no object allocated once a
 * series exists), handed to prom-client when it is scraped, and the
 * histograms are berry's own (tallied-histogram.ts), shown by the same
 * registry.
 */
import { Counter, Gauge, register as defaultRegistry, type Registry } from 'prom-client'
import { InvalidOptions } from './errors.js'
import type { Gateway } from './gateway.js'
import { TalliedHistogram, type HistogramSeries } from './tallied-histogram.js'
import type { UsageRecord } from './usage/usage-ledger.js'

/** LLM answers take from milliseconds (errors, cached) to minutes (long streams). */
export const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300]
export const TTFB_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

export interface BerryMetrics {
  readonly registry: Registry
  /** One proxied request ended (any status). */
  requestCompleted (record: UsageRecord, ttfbMs: number | undefined): void
  failover (model: string, from: string, to: string): void
  requestStarted (): void
  requestEnded (): void
  /** Takes berry's metrics out of the registry. */
  close (): void
}

/** When metrics are off: the same calls, doing nothing. */
export const NO_METRICS: Omit<BerryMetrics, 'registry'> = {
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
  'berry_tokens_total'
] as const

type Labels<N extends string> = Record<N, string>

interface Tally<N extends string> {
  readonly labels: Labels<N>
  value: number
}

/** Both histograms' series for one model and backend. */
interface TimingSeries {
  readonly duration: HistogramSeries<'model' | 'backend'>
  readonly ttfb: HistogramSeries<'model' | 'backend'>
}

/** The next level of a nested map, made on first use only. */
function level<K, K2, V> (map: Map<K, Map<K2, V>>, key: K): Map<K2, V> {
  let next = map.get(key)
  if (next === undefined) {
    next = new Map()
    map.set(key, next)
  }
  return next
}

/** Counts kept as numbers and given to prom-client at scrape time. */
class Tallies<N extends string> {
  readonly all: Array<Tally<N>> = []

  add (labels: Labels<N>): Tally<N> {
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

export function createMetrics (gateway: Gateway, registry: Registry = defaultRegistry): BerryMetrics {
  for (const name of METRIC_NAMES) {
    if (registry.getSingleMetric(name) !== undefined) {
      throw InvalidOptions(`the metric '${name}' is already registered in the Prometheus registry (another berry instance?): pass 'metrics.registry'`)
    }
  }
  const registers = [registry]
  const requestTallies = new Tallies<'model' | 'backend' | 'status' | 'pinned'>()
  const tokenTallies = new Tallies<'user' | 'model' | 'backend' | 'type'>()
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
      for (const model of gateway.current.config.models.values()) {
        for (const backend of model.backends) {
          const up = model.enabled && backend.enabled && backend.provider.enabled && gateway.health.isHealthy(backend.key)
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
      for (const model of gateway.current.config.models.values()) {
        for (const backend of model.backends) {
          const latency = gateway.health.snapshot(backend.key).lastLatencyMs
          if (latency !== undefined) this.set({ model: model.name, backend: backend.provider.id }, latency / 1000)
        }
      }
    }
  })

  // model -> backend -> status -> [not pinned, pinned]
  const requestSeries = new Map<string, Map<string, Map<number, Array<Tally<'model' | 'backend' | 'status' | 'pinned'> | undefined>>>>()
  // model -> backend -> the series of both histograms
  const histogramSeries = new Map<string, Map<string, TimingSeries>>()
  // user -> model -> backend -> [prompt, completion]
  const tokenSeries = new Map<string, Map<string, Map<string, Array<Tally<'user' | 'model' | 'backend' | 'type'>>>>>()

  function requestTally (model: string, backend: string, status: number, pinned: boolean): Tally<'model' | 'backend' | 'status' | 'pinned'> {
    const byStatus = level(level(requestSeries, model), backend)
    let pair = byStatus.get(status)
    if (pair === undefined) {
      pair = [undefined, undefined]
      byStatus.set(status, pair)
    }
    const index = pinned ? 1 : 0
    return pair[index] ?? (pair[index] = requestTallies.add({ model, backend, status: String(status), pinned: pinned ? 'true' : 'false' }))
  }

  function tokenTally (user: string, model: string, backend: string): Array<Tally<'user' | 'model' | 'backend' | 'type'>> {
    const byBackend = level(level(tokenSeries, user), model)
    let pair = byBackend.get(backend)
    if (pair === undefined) {
      pair = ['prompt', 'completion'].map((type) => tokenTallies.add({ user, model, backend, type }))
      byBackend.set(backend, pair)
    }
    return pair
  }

  function timingSeries (model: string, backend: string): TimingSeries {
    const byBackend = level(histogramSeries, model)
    let series = byBackend.get(backend)
    if (series === undefined) {
      const labels = { model, backend }
      series = { duration: duration.series(labels), ttfb: ttfb.series(labels) }
      byBackend.set(backend, series)
    }
    return series
  }

  return {
    registry,
    requestCompleted (record, ttfbMs) {
      const { model, backend } = record
      requestTally(model, backend, record.status, record.pinned).value++
      const series = timingSeries(model, backend)
      series.duration.observe(record.latencyMs / 1000)
      if (ttfbMs !== undefined) series.ttfb.observe(ttfbMs / 1000)
      if (record.promptTokens > 0 || record.completionTokens > 0) {
        const [prompt, completion] = tokenTally(record.user, model, backend)
        prompt!.value += record.promptTokens
        completion!.value += record.completionTokens
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
      const ours = new Set<unknown>([requests, duration, ttfb, failovers, inFlight, tokens, healthy, responseTime])
      for (const name of METRIC_NAMES) {
        if (ours.has(registry.getSingleMetric(name))) registry.removeSingleMetric(name)
      }
    }
  }
}
