/** The ring of time buckets: rotation, expiry, sums, and memory fixed at creation. */
import t from 'tap'
import { binOf, LATENCY_BINS, quantile } from '../../plugin/status/latency-histogram.js'
import { RollingWindow, WindowTotals } from '../../plugin/status/rolling-window.js'

const shape = { bucketMs: 10_000, buckets: 6, counters: 2, histograms: 1 }
const T0 = 1_700_000_000_000 // a bucket boundary

function add (w: RollingWindow, now: number, n = 1, ms?: number): void {
  const row = w.row(w.slotOf(now))
  w.count(row, 0, n)
  if (ms !== undefined) w.observe(row, 0, binOf(ms))
}

t.test('requests in one bucket add up; the next slot starts a fresh bucket', async (t) => {
  const w = new RollingWindow(shape)
  add(w, T0)
  add(w, T0 + 9_999, 2)
  add(w, T0 + 10_000, 5)
  const totals = new WindowTotals(shape)
  t.equal(w.sum(T0 + 10_000, 1, totals).counters[0], 5, 'the current bucket only')
  t.equal(w.sum(T0 + 10_000, 2, totals).counters[0], 8, 'the current and the previous one')
  t.equal(totals.filled, 2)
  t.equal(w.newestSlot, w.slotOf(T0 + 10_000))
})

t.test('a bucket that comes round again is cleared before reuse', async (t) => {
  const w = new RollingWindow(shape)
  add(w, T0, 3, 50)
  // Six buckets later the same row holds a new slot.
  const later = T0 + 6 * 10_000
  add(w, later, 1, 900)
  const totals = new WindowTotals(shape)
  w.sum(later, 6, totals)
  t.equal(totals.counters[0], 1, 'the old count is gone')
  t.ok((quantile(totals.histograms, 0, 0.5) ?? 0) > 700, 'and so are its latencies')
  t.equal(w.find(w.slotOf(T0)), -1, 'the old slot is not found any more')
})

t.test('expiry: data older than the window is never summed, even when its row was not reused', async (t) => {
  const w = new RollingWindow(shape)
  add(w, T0, 4)
  const totals = new WindowTotals(shape)
  t.equal(w.sum(T0 + 50_000, 6, totals).counters[0], 4, 'still inside the 60 s window')
  t.equal(w.sum(T0 + 60_000, 6, totals).counters[0], 0, 'one bucket later it has expired')
  t.equal(w.sum(T0 + 3_600_000, 6, totals).counters[0], 0)
  t.equal(w.sum(T0 + 50_000, 100, totals).counters[0], 4, 'asking for more slots than the ring holds reads the ring')
})

t.test('sums cover exactly the slots asked for, ending at now', async (t) => {
  const w = new RollingWindow(shape)
  for (let i = 0; i < 6; i++) add(w, T0 + i * 10_000, i + 1)
  const totals = new WindowTotals(shape)
  const now = T0 + 5 * 10_000 + 1
  t.equal(w.sum(now, 1, totals).counters[0], 6)
  t.equal(w.sum(now, 3, totals).counters[0], 4 + 5 + 6)
  t.equal(w.sum(now, 6, totals).counters[0], 21)
  // Totals add up across windows (a model over its backends).
  const other = new RollingWindow(shape)
  add(other, now, 10)
  const both = new WindowTotals(shape)
  both.add(w.sum(now, 6, totals))
  both.add(other.sum(now, 6, new WindowTotals(shape)))
  t.equal(both.counters[0], 31)
})

t.test('memory is fixed when the window is made, whatever the traffic', async (t) => {
  const w = new RollingWindow({ bucketMs: 10_000, buckets: 90, counters: 5, histograms: 2 })
  const bytes = w.bytes
  t.equal(bytes, 90 * 8 + 90 * 5 * 8 + 90 * 2 * LATENCY_BINS * 4)
  for (let i = 0; i < 200_000; i++) {
    const now = T0 + i * 97
    const row = w.row(w.slotOf(now))
    w.count(row, 0, 1)
    w.observe(row, 0, binOf(i % 5000))
    w.observe(row, 1, binOf(i % 300))
  }
  t.equal(w.bytes, bytes, '200,000 requests over 5 hours later, the same bytes')
})

t.test('a window needs a positive bucket width and at least one bucket', async (t) => {
  t.throws(() => new RollingWindow({ ...shape, bucketMs: 0 }), RangeError)
  t.throws(() => new RollingWindow({ ...shape, buckets: 0 }), RangeError)
})
