/**
 * Interim wiring, until the request path's accounting events reach the
 * traffic store directly: the metrics calls request-log.ts makes once per
 * finished request also feed `TrafficStore.record`. Delete this file when
 * the accounting subscriber calls `record` itself.
 */
import type { BerryMetrics } from '../metrics.js'
import type { TrafficStore } from './traffic-store.js'

type Accounting = Pick<BerryMetrics, 'requestCompleted' | 'failover' | 'requestStarted' | 'requestEnded'>

export function feedTraffic (metrics: Accounting, traffic: TrafficStore | undefined, now: () => number): Accounting {
  if (traffic === undefined) return metrics
  return {
    requestCompleted (record, ttfbMs) {
      metrics.requestCompleted(record, ttfbMs)
      traffic.record({
        model: record.model,
        backend: record.backend,
        user: record.user,
        status: record.status,
        latencyMs: record.latencyMs,
        ttfbMs,
        pinned: record.pinned,
        promptTokens: record.promptTokens,
        completionTokens: record.completionTokens,
        now: record.time
      })
    },
    failover (model, from, to) {
      metrics.failover(model, from, to)
      traffic.failover(model, from, now())
    },
    requestStarted () { metrics.requestStarted() },
    requestEnded () { metrics.requestEnded() }
  }
}
