/**
 * The weighted draw every weighted strategy shares, and `weighted_random`
 * itself. Pure: randomness comes in as an argument, so tests use a seeded
 * source.
 */
import type { Backend } from '../config/types.js'
import type { SelectStrategy } from './strategy.js'

export type Random = () => number

export interface Weighted {
  readonly weight: number
}

export interface WeightedBackend extends Weighted {
  readonly backend: Backend
}

/** One draw with probability proportional to `weight`; undefined when all are 0. */
export function pickWeighted<T extends Weighted> (items: readonly T[], random: Random): T | undefined {
  let total = 0
  for (const item of items) total += item.weight
  if (!(total > 0)) return undefined
  let point = random() * total
  let last: T | undefined
  for (const item of items) {
    point -= item.weight
    if (point < 0) return item
    if (item.weight > 0) last = item
  }
  // Floating point can leave `point` at a hair above 0 after the last item.
  return last
}

/**
 * `weighted_random`: a draw among the backends the breaker lets through,
 * each at its weight times its recovery share (10%, 30%, 50%, then 100%
 * after an open circuit closes).
 */
export const weightedRandom: SelectStrategy = (candidates, state, { random }) => {
  const pool: WeightedBackend[] = []
  for (const backend of candidates) {
    if (state.available(backend)) pool.push({ backend, weight: backend.weight * state.recoveryFactor(backend) })
  }
  return pickWeighted(pool, random)?.backend
}
