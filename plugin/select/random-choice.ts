/** `random`: any available backend, each as likely as the next, whatever their weights. */
import type { SelectStrategy } from './strategy.js'

export const randomChoice: SelectStrategy = (candidates, state, { random }) => {
  const available = candidates.filter((backend) => state.available(backend))
  if (available.length === 0) return undefined
  return available[Math.min(available.length - 1, Math.floor(random() * available.length))]
}
