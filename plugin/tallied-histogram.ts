/**
 * A Prometheus histogram whose observations are plain number increments,
 * shown by prom-client's registry exactly as a prom-client `Histogram` is.
 *
 * Why not prom-client's own: its `observe()` builds a closure and a label
 * hash string per call and keys the buckets by float, and the two
 * observations every proxied request makes cost berry about 8 % of its CPU
 * per request (benchmarks/README.md). Here a series is looked up once by the
 * caller and kept; observing is a short bucket search and three additions.
 *
 * The registry only asks a metric for `get()` (the data `getMetricsAsJSON()`
 * returns, which the registry also formats as text), `name`, `type`,
 * `reset()` and, for cluster aggregation, `aggregator`; this class gives the
 * same data prom-client's `Histogram#get()` does, in the same order.
 */
import type { Metric, Registry } from 'prom-client'

/** One line of the exposition, as prom-client's metrics give it to the registry. */
export interface SampleValue {
  readonly labels: Readonly<Record<string, string | number>>
  readonly value: number
  readonly metricName: string
}

/** A metric's data, as `Histogram#get()` returns it (prom-client's typings name its type by an enum; the registry reads the string). */
export interface HistogramData {
  readonly name: string
  readonly help: string
  readonly type: 'histogram'
  readonly values: SampleValue[]
  readonly aggregator: 'sum'
}

export type HistogramLabels<N extends string> = Readonly<Record<N, string>>

/** One label set's counts. */
export class HistogramSeries<N extends string> {
  readonly labels: HistogramLabels<N>
  /** Per bucket, not cumulative; the last slot counts values above every bound. */
  readonly counts: number[]
  sum = 0
  count = 0
  readonly #bounds: readonly number[]

  constructor (labels: HistogramLabels<N>, bounds: readonly number[]) {
    this.labels = labels
    this.#bounds = bounds
    this.counts = new Array<number>(bounds.length + 1).fill(0)
  }

  observe (value: number): void {
    // A NaN or infinite value would poison the sum for good; prom-client throws.
    if (!Number.isFinite(value)) return
    const bounds = this.#bounds
    let i = 0
    while (i < bounds.length && value > bounds[i]!) i++
    this.counts[i]!++
    this.sum += value
    this.count++
  }
}

export interface TalliedHistogramOptions<N extends string> {
  readonly name: string
  readonly help: string
  readonly labelNames: readonly N[]
  /** Upper bounds, ascending. */
  readonly buckets: readonly number[]
  readonly registry: Registry
}

export class TalliedHistogram<N extends string> {
  readonly name: string
  readonly help: string
  readonly type = 'histogram' as const
  readonly aggregator = 'sum' as const
  readonly labelNames: readonly N[]
  readonly #bounds: readonly number[]
  #series: Array<HistogramSeries<N>> = []

  constructor (options: TalliedHistogramOptions<N>) {
    for (let i = 1; i < options.buckets.length; i++) {
      if (!(options.buckets[i]! > options.buckets[i - 1]!)) throw new TypeError(`${options.name}: buckets must ascend`)
    }
    this.name = options.name
    this.help = options.help
    this.labelNames = options.labelNames
    this.#bounds = Object.freeze([...options.buckets])
    // berry's one cast: the registry's type names prom-client's own metric
    // classes (and its typings declare the `type` field as an enum the
    // library does not use at run time); the registry reads no more of a
    // metric than this class has (see above).
    options.registry.registerMetric(this as unknown as Metric)
  }

  /** A new series: the caller keeps it per label set (a second one would be shown twice). */
  series (labels: HistogramLabels<N>): HistogramSeries<N> {
    const series = new HistogramSeries(labels, this.#bounds)
    this.#series.push(series)
    return series
  }

  /** Zeroes every series (registry.resetMetrics()); the series handed out stay valid. */
  reset (): void {
    for (const series of this.#series) {
      series.counts.fill(0)
      series.sum = 0
      series.count = 0
    }
  }

  /**
   * What prom-client's `Histogram#get()` gives: cumulative buckets, `+Inf`,
   * sum and count per series, series in the order they were made. A series
   * with no observation is left out, as prom-client has none until one.
   */
  async get (): Promise<HistogramData> {
    const values: SampleValue[] = []
    const bucket = `${this.name}_bucket`
    for (const series of this.#series) {
      if (series.count === 0) continue
      let cumulative = 0
      for (let i = 0; i < this.#bounds.length; i++) {
        cumulative += series.counts[i]!
        values.push({ labels: { le: this.#bounds[i]!, ...series.labels }, value: cumulative, metricName: bucket })
      }
      values.push(
        { labels: { le: '+Inf', ...series.labels }, value: series.count, metricName: bucket },
        { labels: { ...series.labels }, value: series.sum, metricName: `${this.name}_sum` },
        { labels: { ...series.labels }, value: series.count, metricName: `${this.name}_count` }
      )
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator }
  }
}
