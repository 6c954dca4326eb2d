/**
 * berry's Prometheus metrics (prom-client), created once at register time in
 * the host's registry (prom-client's default one unless another is given),
 * and removed from it when the app closes.
 *
 * Labels are ids from the config (public model names, provider ids, user
 * ids), never tokens or keys. Backend health is read at scrape time from the
 * health tracker, so requests pay nothing for it.
 */
import { Counter, Gauge, Histogram, register as defaultRegistry, type Registry } from 'prom-client'
import { InvalidOptions } from './errors.js'
import type { Gateway } from './gateway.js'
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

export function createMetrics (gateway: Gateway, registry: Registry = defaultRegistry): BerryMetrics {
  for (const name of METRIC_NAMES) {
    if (registry.getSingleMetric(name) !== undefined) {
      throw InvalidOptions(`the metric '${name}' is already registered in the Prometheus registry (another berry instance?): pass 'metrics.registry'`)
    }
  }
  const registers = [registry]
  const requests = new Counter({
    name: 'berry_requests_total',
    help: 'Proxied requests by public model, backend (provider id), HTTP status and whether the backend was pinned',
    labelNames: ['model', 'backend', 'status', 'pinned'] as const,
    registers
  })
  const duration = new Histogram({
    name: 'berry_request_duration_seconds',
    help: 'Time from the request to the last byte of the answer',
    labelNames: ['model', 'backend'] as const,
    buckets: DURATION_BUCKETS,
    registers
  })
  const ttfb = new Histogram({
    name: 'berry_upstream_ttfb_seconds',
    help: "Time from sending the answering attempt upstream to the upstream's response headers",
    labelNames: ['model', 'backend'] as const,
    buckets: TTFB_BUCKETS,
    registers
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
    registers
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

  return {
    registry,
    requestCompleted (record, ttfbMs) {
      const { model, backend } = record
      requests.inc({ model, backend, status: record.status, pinned: record.pinned ? 'true' : 'false' })
      duration.observe({ model, backend }, record.latencyMs / 1000)
      if (ttfbMs !== undefined) ttfb.observe({ model, backend }, ttfbMs / 1000)
      if (record.promptTokens > 0) tokens.inc({ user: record.user, model, backend, type: 'prompt' }, record.promptTokens)
      if (record.completionTokens > 0) tokens.inc({ user: record.user, model, backend, type: 'completion' }, record.completionTokens)
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
