/**
 * Choosing a backend for a load-balanced request. Pure: randomness and time
 * come in as arguments, so tests use a seeded source and a hand-set clock.
 */
import type { Backend, Model } from '../config/types.js'
import type { HealthTracker } from '../health/tracker.js'

export type Random = () => number

export interface Weighted {
  readonly weight: number
}

/** One draw with probability proportional to `weight`; undefined when all are 0. */
export function pickWeighted<T extends Weighted> (items: readonly T[], random: Random): T | undefined {
  let total = 0
  for (const item of items) total += item.weight
  if (!(total > 0)) return undefined
  let point = random() * total
  for (const item of items) {
    point -= item.weight
    if (point < 0) return item
  }
  // Floating point can leave `point` at a hair above 0 after the last item.
  for (let i = items.length - 1; i >= 0; i--) {
    if ((items[i] as T).weight > 0) return items[i]
  }
  return undefined
}

export interface SelectContext {
  readonly health: HealthTracker
  readonly random: Random
  readonly now: number
  /** Backend keys already tried by this request. */
  readonly exclude?: ReadonlySet<string>
}

export interface Selection {
  readonly backend: Backend
  /** True when every candidate was unhealthy and this one is a last resort. */
  readonly lastResort: boolean
}

interface Candidate extends Weighted {
  readonly backend: Backend
}

/**
 * Chooses among `active` (the model's backends load balancing may use, from
 * the snapshot) those not excluded.
 * `weighted_random`: a weighted draw among the available backends.
 * `failover`: the available backends of the best (lowest) priority only,
 * weighted among themselves.
 * When none is available, the one whose cooldown ends first is tried rather
 * than failing without trying.
 */
export function selectBackend (model: Model, active: readonly Backend[], ctx: SelectContext): Selection | undefined {
  const exclude = ctx.exclude
  const candidates = exclude === undefined || exclude.size === 0 ? active : active.filter((b) => !exclude.has(b.key))
  if (candidates.length === 0) return undefined

  let available: Candidate[] = []
  for (const backend of candidates) {
    if (ctx.health.isAvailable(backend.key, ctx.now, backend.provider.breaker)) {
      available.push({ backend, weight: backend.weight * ctx.health.weightFactor(backend.key) })
    }
  }
  if (model.strategy === 'failover' && available.length > 0) {
    const best = Math.min(...available.map((c) => c.backend.priority))
    available = available.filter((c) => c.backend.priority === best)
  }
  const picked = pickWeighted(available, ctx.random)
  if (picked !== undefined) return { backend: picked.backend, lastResort: false }

  let soonest = candidates[0] as Backend
  let soonestAt = ctx.health.availableAt(soonest.key, soonest.provider.breaker)
  for (const backend of candidates) {
    const at = ctx.health.availableAt(backend.key, backend.provider.breaker)
    if (at < soonestAt) {
      soonest = backend
      soonestAt = at
    }
  }
  return { backend: soonest, lastResort: true }
}
