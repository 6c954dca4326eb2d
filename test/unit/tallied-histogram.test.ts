/** berry's histogram must read exactly as prom-client's own would, in text and in JSON. */
import t from 'tap'
import { Histogram, Registry } from 'prom-client'
import { TalliedHistogram } from '../../plugin/tallied-histogram.js'

const BUCKETS = [0.05, 0.1, 0.25, 1, 10]

function withoutExemplars (metrics: unknown[]): unknown[] {
  return JSON.parse(JSON.stringify(metrics, (key, value) => key === 'exemplar' ? undefined : value))
}

function pair () {
  const theirs = new Registry()
  const ours = new Registry()
  const reference = new Histogram({ name: 'h_seconds', help: 'a histogram', labelNames: ['model', 'backend'], buckets: BUCKETS, registers: [theirs] })
  const tallied = new TalliedHistogram({ name: 'h_seconds', help: 'a histogram', labelNames: ['model', 'backend'] as const, buckets: BUCKETS, registry: ours })
  return { theirs, ours, reference, tallied }
}

t.test('the same observations give the same exposition and JSON as prom-client', async (t) => {
  const { theirs, ours, reference, tallied } = pair()
  const alpha = { model: 'chat', backend: 'alpha' }
  const beta = { model: 'chat', backend: 'beta' }
  const a = tallied.series(alpha)
  const b = tallied.series(beta)
  // On a bound, between bounds, below the first, above the last, and zero.
  const values: Array<[typeof alpha, typeof a, number]> = [
    [alpha, a, 0.05], [alpha, a, 0.07], [beta, b, 0.01], [alpha, a, 42], [beta, b, 0], [alpha, a, 1], [beta, b, 10], [alpha, a, 0.3]
  ]
  for (const [labels, series, value] of values) {
    reference.observe(labels, value)
    series.observe(value)
  }
  t.equal(await ours.metrics(), await theirs.metrics())
  // prom-client adds `exemplar: null` to each bucket (exemplars are off); berry has none.
  t.same(await ours.getMetricsAsJSON(), withoutExemplars(await theirs.getMetricsAsJSON()))
  t.match(await ours.metrics(), /h_seconds_bucket\{le="0\.1",model="chat",backend="alpha"\} 2\n/)
  t.match(await ours.metrics(), /h_seconds_bucket\{le="\+Inf",model="chat",backend="alpha"\} 5\n/)
  t.match(await ours.metrics(), /h_seconds_sum\{model="chat",backend="alpha"\} 43\.41999/)
})

t.test('a series shows only once it has an observation, as in prom-client', async (t) => {
  const { theirs, ours, reference, tallied } = pair()
  const idle = tallied.series({ model: 'chat', backend: 'idle' })
  t.equal(await ours.metrics(), await theirs.metrics())
  t.notMatch(await ours.metrics(), /backend="idle"/)
  idle.observe(0.2)
  reference.observe({ model: 'chat', backend: 'idle' }, 0.2)
  t.equal(await ours.metrics(), await theirs.metrics())
})

t.test('reset zeroes the series, which keep counting afterwards', async (t) => {
  const { ours, tallied } = pair()
  const series = tallied.series({ model: 'chat', backend: 'alpha' })
  series.observe(0.2)
  ours.resetMetrics()
  t.notMatch(await ours.metrics(), /backend="alpha"/)
  series.observe(3)
  t.match(await ours.metrics(), /h_seconds_count\{model="chat",backend="alpha"\} 1\n/)
  t.match(await ours.metrics(), /h_seconds_sum\{model="chat",backend="alpha"\} 3\n/)
})

t.test('a value that is not a finite number is not counted', async (t) => {
  const { ours, tallied } = pair()
  const series = tallied.series({ model: 'chat', backend: 'alpha' })
  series.observe(Number.NaN)
  series.observe(Number.POSITIVE_INFINITY)
  series.observe(0.5)
  t.equal(series.count, 1)
  t.equal(series.sum, 0.5)
  t.match(await ours.metrics(), /h_seconds_count\{model="chat",backend="alpha"\} 1\n/)
})

t.test('the registry finds it by name, refuses a second one and removes it', async (t) => {
  const { ours, tallied } = pair()
  t.equal(ours.getSingleMetric('h_seconds'), tallied as unknown)
  t.throws(() => new TalliedHistogram({ name: 'h_seconds', help: 'again', labelNames: ['model'] as const, buckets: BUCKETS, registry: ours }), /already been registered/)
  ours.removeSingleMetric('h_seconds')
  t.equal(ours.getSingleMetric('h_seconds'), undefined)
})

t.test('buckets must ascend', async (t) => {
  t.throws(() => new TalliedHistogram({ name: 'bad', help: 'bad', labelNames: ['model'] as const, buckets: [1, 0.5], registry: new Registry() }), /buckets must ascend/)
})
