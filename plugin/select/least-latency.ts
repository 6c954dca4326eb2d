/**
 * `least_latency`: the available backend with the lowest moving average of
 * latency to response headers (HealthTracker.latencyMs). A backend not yet
 * measured goes first, so each is measured once and none is starved by a
 * number it never had the chance to earn; ties go to config order.
 */
import type { Backend } from '../config/types.js'
import type { SelectStrategy } from './strategy.js'

export const leastLatency: SelectStrategy = (candidates, state) => {
  let best: Backend | undefined
  let bestLatency = Infinity
  for (const backend of candidates) {
    if (!state.available(backend)) continue
    const latency = state.latencyMs(backend) ?? -1
    if (latency < bestLatency) {
      best = backend
      bestLatency = latency
    }
  }
  return best
}
