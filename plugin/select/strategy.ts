/**
 * The shape every strategy has: `select(candidates, state, { random, now })`.
 * `candidates` are the backends this request may use (enabled, weight > 0,
 * allowed by the user's tags, not yet tried); `state` is what health knows
 * of them now. A strategy returns undefined when it has nothing to offer
 * (then the dispatcher falls back to its last resort).
 */
import type { Backend, SmartAiSettings } from '../config/types.js'
import type { Random } from './weighted.js'

export interface StrategyState {
  /** The breaker lets a request through to this backend now. */
  available (backend: Backend): boolean
  /** The share of its weight a backend coming back from an open circuit gets (1 when fully back). */
  recoveryFactor (backend: Backend): number
  /** smart_ai's confidence in the backend, time decay applied. */
  confidence (backend: Backend): number
  /** Moving average of the backend's latency, once it answered. */
  latencyMs (backend: Backend): number | undefined
  /** round_robin: this model's turn on this instance, 0, 1, 2, ... */
  nextTurn (): number
  readonly smartAi: SmartAiSettings
}

export interface StrategyEnv {
  readonly random: Random
  readonly now: number
}

export type SelectStrategy = (candidates: readonly Backend[], state: StrategyState, env: StrategyEnv) => Backend | undefined
