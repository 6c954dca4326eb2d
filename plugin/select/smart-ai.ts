/**
 * `smart_ai`: cost-aware selection that learns from customer traffic
 * instead of paying for probes (confidence.ts keeps the confidence).
 *
 * Each backend's effective weight is
 *
 *   weight x c x bonus, where
 *   c = min(1, 0.3 + 0.7 x sqrt(confidence)) for confidence >= 0.1, else 0.1
 *   bonus = non_premium_stability_bonus for a backend not tagged `premium`
 *           whose confidence is above 0.95, else 1
 *
 * and a request is a weighted draw over the candidates; except that with
 * probability `exploration_ratio` it picks uniformly among them. Failing
 * backends are never cut off: the floor of confidence (`min_confidence`)
 * and exploration leave them a trickle of real traffic, which is how they
 * show that they are back; failover hides the failures from the client.
 * (The original parsed `exploration_ratio` and the bonus but never applied
 * them; berry does what the keys say.)
 */
import type { Backend, SmartAiSettings } from '../config/types.js'
import type { SelectStrategy } from './strategy.js'
import { pickWeighted, type WeightedBackend } from './weighted.js'

export const PREMIUM_TAG = 'premium'

/** The share of its weight a backend gets at this confidence (c in the formula above). */
export function confidenceShare (confidence: number): number {
  return confidence >= 0.1 ? Math.min(1, 0.3 + 0.7 * Math.sqrt(confidence)) : 0.1
}

export function smartAiWeight (backend: Backend, confidence: number, settings: SmartAiSettings): number {
  const bonus = confidence > 0.95 && !backend.tags.includes(PREMIUM_TAG) ? settings.nonPremiumStabilityBonus : 1
  return backend.weight * confidenceShare(confidence) * bonus
}

export const smartAi: SelectStrategy = (candidates, state, { random }) => {
  if (candidates.length === 0) return undefined
  const exploration = state.smartAi.explorationRatio
  if (exploration > 0 && random() < exploration) {
    return candidates[Math.min(candidates.length - 1, Math.floor(random() * candidates.length))]
  }
  const pool: WeightedBackend[] = []
  for (const backend of candidates) {
    pool.push({ backend, weight: smartAiWeight(backend, state.confidence(backend), state.smartAi) })
  }
  return pickWeighted(pool, random)?.backend
}
