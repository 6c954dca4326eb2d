/**
 * One implementation per strategy name, looked up by the dispatcher. Typed
 * by the config's `Strategy` union: a name without an implementation fails
 * the type-check.
 */
import type { Strategy } from '../config/types.js'
import { leastLatency } from './least-latency.js'
import { randomChoice } from './random-choice.js'
import { roundRobin } from './round-robin.js'
import { smartAi } from './smart-ai.js'
import type { SelectStrategy } from './strategy.js'
import { failover, smartWeightedFailover } from './tiered.js'
import { weightedRandom } from './weighted.js'

export const STRATEGY_IMPLEMENTATIONS: Readonly<Record<Strategy, SelectStrategy>> = Object.freeze({
  weighted_random: weightedRandom,
  failover,
  weighted_failover: failover,
  smart_weighted_failover: smartWeightedFailover,
  round_robin: roundRobin,
  least_latency: leastLatency,
  random: randomChoice,
  smart_ai: smartAi
})
