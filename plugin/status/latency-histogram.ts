/**
 * A fixed-bucket histogram of milliseconds, laid out in a slice of a
 * Uint32Array so that the rolling windows keep one per time bucket without
 * allocating. Percentiles are read back by linear interpolation inside the
 * bucket that holds the rank: the answer lies in the same bucket as the
 * exact percentile, so its error is bounded by that bucket's width (at most
 * 2/3 of the value, from 1 ms to 5 minutes).
 */

/**
 * Upper bounds in milliseconds, on a 1-1.5-2-3-5-7 ladder: an answer may
 * take a millisecond (a cached error) or five minutes (a long stream).
 * Everything above the last bound falls in one more, open-ended bucket.
 */
export const LATENCY_BOUNDS_MS: readonly number[] = [
  1, 2, 3, 5, 7,
  10, 15, 20, 30, 50, 70,
  100, 150, 200, 300, 500, 700,
  1_000, 1_500, 2_000, 3_000, 5_000, 7_000,
  10_000, 15_000, 20_000, 30_000, 50_000, 70_000,
  100_000, 150_000, 200_000, 300_000
]

/** Buckets per histogram: one per bound and the open-ended one. */
export const LATENCY_BINS = LATENCY_BOUNDS_MS.length + 1

/** The bucket a duration falls in (a bound belongs to its own bucket). */
export function binOf (ms: number): number {
  // A binary search over 33 bounds: 6 comparisons, no allocation.
  let lo = 0
  let hi = LATENCY_BOUNDS_MS.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (ms <= (LATENCY_BOUNDS_MS[mid] ?? 0)) hi = mid
    else lo = mid + 1
  }
  return lo
}

/** The lower and upper edge of a bucket; the open-ended one reports its lower edge twice. */
export function binRange (bin: number): readonly [number, number] {
  const lower = bin === 0 ? 0 : LATENCY_BOUNDS_MS[bin - 1] ?? Infinity
  const upper = LATENCY_BOUNDS_MS[bin] ?? lower
  return [lower, upper]
}

/**
 * The q-quantile (0 < q <= 1) of the histogram stored at
 * `(counts[offset .. offset + LATENCY_BINS)`, or undefined when it is empty.
 */
export function quantile (counts: Uint32Array, offset: number, q: number): number | undefined {
  let total = 0
  const end = offset + LATENCY_BINS
  for (let i = offset; i < end; i++) total += counts[i] ?? 0
  if (total === 0) return undefined
  // The rank of the wanted observation, 1-based, as a sorted list's index.
  const rank = Math.max(1, Math.ceil(q * total))
  let seen = 0
  for (let bin = 0; bin < LATENCY_BINS; bin++) {
    const n = counts[offset + bin] ?? 0
    if (n === 0) continue
    if (seen + n >= rank) {
      const [lower, upper] = binRange(bin)
      // Observations spread evenly over the bucket: the k-th of n sits at k/n of its width.
      return lower + (upper - lower) * ((rank - seen) / n)
    }
    seen += n
  }
  return undefined
}
