/** Summary statistics of latencies. Pure. */

export interface Spread {
  readonly min: number
  readonly median: number
  readonly mean: number
  readonly max: number
}

/** undefined for no values; the median of an even count is the mean of the middle two. */
export function spread (values: readonly number[]): Spread | undefined {
  if (values.length === 0) return undefined
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  const median = sorted.length % 2 === 1
    ? sorted[mid] as number
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
  return {
    min: sorted[0] as number,
    median,
    mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
    max: sorted[sorted.length - 1] as number
  }
}
