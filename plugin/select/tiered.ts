/**
 * Priority tiers (`priority`, lower is preferred): the draw is among the
 * best tier that has a backend the breaker lets through, weighted inside
 * it; when no backend of a tier is available, the next tier serves.
 *
 * - `failover` and `weighted_failover`: exactly that (berry's `failover`
 *   has always weighted the backends that share the best priority, so the
 *   two names are one strategy).
 * - `smart_weighted_failover`: the same, and a backend whose circuit is
 *   open is not cut off: if its tier is the serving one or a better one, it
 *   stays in the draw at `TRICKLE_SHARE` of its weight, so real traffic
 *   shows when it is back (what backends billed per request, which are
 *   never probed, need); once back it climbs 10%, 30%, 50%, 100%.
 */
import type { Backend } from '../config/types.js'
import type { SelectStrategy, StrategyState } from './strategy.js'
import { pickWeighted, type Random, type WeightedBackend } from './weighted.js'

/** The share of its weight an open backend keeps under smart_weighted_failover (the original's "Unhealthy" stage). */
export const TRICKLE_SHARE = 0.1

function tiered (candidates: readonly Backend[], state: StrategyState, random: Random, trickle: boolean): Backend | undefined {
  let best = Infinity
  for (const backend of candidates) {
    if (backend.priority < best && state.available(backend)) best = backend.priority
  }
  if (best === Infinity) return undefined
  const pool: WeightedBackend[] = []
  for (const backend of candidates) {
    if (backend.priority > best) continue
    if (state.available(backend)) {
      if (backend.priority === best) pool.push({ backend, weight: backend.weight * state.recoveryFactor(backend) })
    } else if (trickle) {
      pool.push({ backend, weight: backend.weight * TRICKLE_SHARE })
    }
  }
  return pickWeighted(pool, random)?.backend
}

export const failover: SelectStrategy = (candidates, state, { random }) => tiered(candidates, state, random, false)

export const smartWeightedFailover: SelectStrategy = (candidates, state, { random }) => tiered(candidates, state, random, true)
