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
import { binOf, LATENCY_BINS } from './latency-histogram.js'

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
    for (let i = 0; i < this.counters.length; i++) this.counters[i] = (this.counters[i] as number) + (other.counters[i] as number)
    for (let i = 0; i < this.histograms.length; i++) this.histograms[i] = (this.histograms[i] as number) + (other.histograms[i] as number)
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
    this.#counters[i] = (this.#counters[i] as number) + amount
  }

  observe (row: number, histogram: number, ms: number): void {
    const i = row * this.#histogramStride + histogram * LATENCY_BINS + binOf(ms)
    this.#histograms[i] = (this.#histograms[i] as number) + 1
  }

  /** The row holding `slot`, or -1 when that slot's data is gone or was never written. */
  find (slot: number): number {
    const { buckets } = this.shape
    const row = ((slot % buckets) + buckets) % buckets
    return this.#slots[row] === slot ? row : -1
  }

  counter (row: number, counter: number): number {
    return this.#counters[row * this.shape.counters + counter] as number
  }

  /** Copies one histogram of a row into `into` at `offset`. */
  histogram (row: number, histogram: number, into: Uint32Array, offset = 0): void {
    const start = row * this.#histogramStride + histogram * LATENCY_BINS
    into.set(this.#histograms.subarray(start, start + LATENCY_BINS), offset)
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
    const { counters } = this.shape
    for (let slot = first; slot <= last; slot++) {
      const row = this.find(slot)
      if (row < 0) continue
      into.filled++
      const c = row * counters
      for (let i = 0; i < counters; i++) into.counters[i] = (into.counters[i] as number) + (this.#counters[c + i] as number)
      const h = row * this.#histogramStride
      for (let i = 0; i < this.#histogramStride; i++) into.histograms[i] = (into.histograms[i] as number) + (this.#histograms[h + i] as number)
    }
    return into
  }
}
