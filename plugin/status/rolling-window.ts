/**
 * A ring of time buckets holding counters and latency histograms, for
 * figures over the last minutes (requests per second, error rate, p95).
 *
 * Memory is fixed when the window is made: `buckets` rows of `counters`
 * numbers and `histograms` histograms of LATENCY_BINS counts, in typed
 * arrays. Adding to it allocates nothing. A bucket covers the time slot
 * `floor(now / bucketMs)`; a row is reused (cleared) when a later slot comes
 * round to it, so old data expires without timers.
 */
import { LATENCY_BINS, quantile } from './latency-histogram.js'

export interface WindowShape {
  /** Width of one bucket in milliseconds. */
  readonly bucketMs: number
  /** Buckets kept: the window spans `buckets * bucketMs`. */
  readonly buckets: number
  /** Plain counters per bucket. */
  readonly counters: number
  /** Latency histograms per bucket. */
  readonly histograms: number
}

/** Totals over several buckets, reusable from one read to the next. */
export class WindowTotals {
  readonly counters: Float64Array
  /** `histograms` histograms of LATENCY_BINS counts, one after the other. */
  readonly histograms: Uint32Array
  /** How many buckets held data. */
  filled = 0

  constructor (shape: Pick<WindowShape, 'counters' | 'histograms'>) {
    this.counters = new Float64Array(shape.counters)
    this.histograms = new Uint32Array(shape.histograms * LATENCY_BINS)
  }

  clear (): void {
    this.counters.fill(0)
    this.histograms.fill(0)
    this.filled = 0
  }

  /** Adds another set of totals of the same shape (a model's backends, say). */
  add (other: WindowTotals): void {
    const counters = this.counters
    const histograms = this.histograms
    const otherCounters = other.counters
    const otherHistograms = other.histograms
    for (let i = 0; i < counters.length; i++) counters[i] = (counters[i] ?? 0) + (otherCounters[i] ?? 0)
    for (let i = 0; i < histograms.length; i++) histograms[i] = (histograms[i] ?? 0) + (otherHistograms[i] ?? 0)
    this.filled += other.filled
  }
}

export class RollingWindow {
  readonly shape: WindowShape
  /** The slot each row holds, or -1 for a row never used. */
  readonly #slots: Float64Array
  readonly #counters: Float64Array
  readonly #histograms: Uint32Array
  readonly #histogramStride: number
  /** The latest slot written, to tell an idle window from a live one. */
  #newest = -1

  constructor (shape: WindowShape) {
    if (!(shape.bucketMs > 0) || !Number.isInteger(shape.buckets) || shape.buckets < 1) {
      throw new RangeError('a rolling window needs a positive bucket width and at least one bucket')
    }
    this.shape = shape
    this.#slots = new Float64Array(shape.buckets).fill(-1)
    this.#counters = new Float64Array(shape.buckets * shape.counters)
    this.#histogramStride = shape.histograms * LATENCY_BINS
    this.#histograms = new Uint32Array(shape.buckets * this.#histogramStride)
  }

  /** Bytes held by the typed arrays, for the memory bound in docs and tests. */
  get bytes (): number {
    return this.#slots.byteLength + this.#counters.byteLength + this.#histograms.byteLength
  }

  /** The slot of the newest bucket written, or -1. */
  get newestSlot (): number {
    return this.#newest
  }

  slotOf (now: number): number {
    return Math.floor(now / this.shape.bucketMs)
  }

  /**
   * The row for `slot`, cleared first when it still holds an older slot.
   * Callers then add to it with `count` and `observe`.
   */
  row (slot: number): number {
    const { buckets, counters } = this.shape
    const row = ((slot % buckets) + buckets) % buckets
    if (this.#slots[row] !== slot) {
      this.#slots[row] = slot
      this.#counters.fill(0, row * counters, (row + 1) * counters)
      this.#histograms.fill(0, row * this.#histogramStride, (row + 1) * this.#histogramStride)
    }
    if (slot > this.#newest) this.#newest = slot
    return row
  }

  count (row: number, counter: number, amount: number): void {
    const i = row * this.shape.counters + counter
    this.#counters[i] = (this.#counters[i] ?? 0) + amount
  }

  /** One observation in bucket `bin` of a histogram (`binOf(ms)`, found once for every window a request counts in). */
  observe (row: number, histogram: number, bin: number): void {
    const i = row * this.#histogramStride + histogram * LATENCY_BINS + bin
    this.#histograms[i] = (this.#histograms[i] ?? 0) + 1
  }

  /** The row holding `slot`, or -1 when that slot's data is gone or was never written. */
  find (slot: number): number {
    const { buckets } = this.shape
    const row = ((slot % buckets) + buckets) % buckets
    return this.#slots[row] === slot ? row : -1
  }

  counter (row: number, counter: number): number {
    return (this.#counters[row * this.shape.counters + counter] ?? 0)
  }

  /** The q-quantile of one histogram of a row, read in place. */
  quantile (row: number, histogram: number, q: number): number | undefined {
    return quantile(this.#histograms, row * this.#histogramStride + histogram * LATENCY_BINS, q)
  }

  /**
   * Adds up the `slots` buckets ending with the slot of `now` into `into`
   * (cleared first). Buckets older than the window were overwritten or are
   * skipped; the result never reaches further back than the ring does.
   */
  sum (now: number, slots: number, into: WindowTotals): WindowTotals {
    into.clear()
    const last = this.slotOf(now)
    const first = last - Math.min(slots, this.shape.buckets) + 1
    const counters = this.shape.counters
    const stride = this.#histogramStride
    // Locals, not fields, inside the loops: this runs for every backend on every refresh.
    const sourceCounters = this.#counters
    const sourceHistograms = this.#histograms
    const sumCounters = into.counters
    const sumHistograms = into.histograms
    for (let slot = first; slot <= last; slot++) {
      const row = this.find(slot)
      if (row < 0) continue
      into.filled++
      const c = row * counters
      for (let i = 0; i < counters; i++) sumCounters[i] = (sumCounters[i] ?? 0) + (sourceCounters[c + i] ?? 0)
      const h = row * stride
      for (let i = 0; i < stride; i++) sumHistograms[i] = (sumHistograms[i] ?? 0) + (sourceHistograms[h + i] ?? 0)
    }
    return into
  }

  /** One counter added up over the `slots` buckets ending with the slot of `now`. */
  sumCounter (now: number, slots: number, counter: number): number {
    const last = this.slotOf(now)
    const first = last - Math.min(slots, this.shape.buckets) + 1
    let total = 0
    for (let slot = first; slot <= last; slot++) {
      const row = this.find(slot)
      if (row >= 0) total += (this.#counters[row * this.shape.counters + counter] ?? 0)
    }
    return total
  }
}
