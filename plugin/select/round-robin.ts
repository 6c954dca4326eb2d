/**
 * `round_robin`: the backends the breaker lets through, in config order,
 * one after the other, whatever their weights. The turn is kept per model
 * on this instance (SelectionState), so one instance's rotation is exact.
 */
import type { SelectStrategy } from './strategy.js'

export const roundRobin: SelectStrategy = (candidates, state) => {
  const available = candidates.filter((backend) => state.available(backend))
  if (available.length === 0) return undefined
  return available[state.nextTurn() % available.length]
}
