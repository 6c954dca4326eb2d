/** The fixed-bucket latency histogram: buckets, and percentiles against a sorted reference. */
import t from 'tap'
import { binOf, binRange, LATENCY_BINS, LATENCY_BOUNDS_MS, quantile } from '../../plugin/status/latency-histogram.js'
import { seeded } from '../helpers/random.js'

t.test('a duration falls in the bucket whose upper bound is the first at or above it', async (t) => {
  t.equal(binOf(0), 0)
  t.equal(binOf(1), 0, 'a bound belongs to its own bucket')
  t.equal(binOf(1.0001), 1)
  t.equal(binOf(250), LATENCY_BOUNDS_MS.indexOf(300))
  t.equal(binOf(300_000), LATENCY_BOUNDS_MS.length - 1)
  t.equal(binOf(300_001), LATENCY_BINS - 1, 'beyond the last bound: the open-ended bucket')
  t.equal(binOf(Infinity), LATENCY_BINS - 1)
  for (let bin = 0; bin < LATENCY_BINS; bin++) {
    const [lower, upper] = binRange(bin)
    t.ok(lower <= upper, `bucket ${bin} has ordered edges`)
    if (bin < LATENCY_BINS - 1) t.equal(binOf(upper), bin)
  }
})

function histogramOf (samples: readonly number[]): Uint32Array {
  const counts = new Uint32Array(LATENCY_BINS)
  for (const ms of samples) counts[binOf(ms)] = (counts[binOf(ms)] as number) + 1
  return counts
}

/** Nearest rank: the observation a sorted list holds at rank ceil(q * n). */
function exact (samples: readonly number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1] as number
}

t.test('p50 and p95 lie in the bucket of the exact percentile, for several shapes of traffic', async (t) => {
  const random = seeded(42)
  const shapes: Record<string, () => number> = {
    // Fast JSON answers around 40 ms.
    narrow: () => 30 + random() * 20,
    // Log-uniform from 5 ms to 20 s: streams and errors mixed.
    wide: () => 5 * Math.exp(random() * Math.log(4000)),
    // Mostly fast, a slow tail of timeouts.
    bimodal: () => random() < 0.9 ? 80 + random() * 40 : 25_000 + random() * 5_000
  }
  for (const [name, draw] of Object.entries(shapes)) {
    for (const n of [1, 7, 100, 5000]) {
      const samples = Array.from({ length: n }, draw)
      const counts = histogramOf(samples)
      for (const q of [0.5, 0.95]) {
        const truth = exact(samples, q)
        const estimate = quantile(counts, 0, q)
        const [lower, upper] = binRange(binOf(truth))
        t.ok(estimate !== undefined && estimate >= lower && estimate <= upper,
          `${name}, n=${n}, q=${q}: ${estimate?.toFixed(1)} within [${lower}, ${upper}] around ${truth.toFixed(1)}`)
      }
    }
  }
})

t.test('quantile reads a histogram at an offset; an empty one has none', async (t) => {
  const counts = new Uint32Array(3 * LATENCY_BINS)
  t.equal(quantile(counts, LATENCY_BINS, 0.5), undefined)
  counts[LATENCY_BINS + binOf(120)] = 10
  t.ok((quantile(counts, LATENCY_BINS, 0.5) as number) > 100)
  t.equal(quantile(counts, 0, 0.5), undefined, 'the neighbouring histogram is untouched')
  t.equal(quantile(counts, 2 * LATENCY_BINS, 0.95), undefined)
})

t.test('the open-ended bucket reports its lower edge', async (t) => {
  const counts = histogramOf([400_000, 900_000])
  t.equal(quantile(counts, 0, 0.95), 300_000)
})
