/** What the page writes: states in words, figures, durations; and the chart's path. Pure, so in Node. */
import t from 'tap'
import { sparkPath } from '../../plugin/status/page/chart.js'
import { amount, duration, headroom, headroomRatio, lastFailure, millis, pair, percent, severity, stateWords, weights } from '../../plugin/status/page/format.js'

const backend = { next_trial_seconds: null, recovery_percent: null, consecutive_failures: 0 }

t.test('a backend\'s state in words, with its timing', async (t) => {
  t.equal(stateWords({ ...backend, state: 'healthy' }), 'healthy')
  t.equal(stateWords({ ...backend, state: 'failing', consecutive_failures: 2 }), 'failing (2 in a row)')
  t.equal(stateWords({ ...backend, state: 'unhealthy', next_trial_seconds: 42 }), 'unhealthy, next trial in 42 s')
  t.equal(stateWords({ ...backend, state: 'unhealthy', next_trial_seconds: 125 }), 'unhealthy, next trial in 2 min 5 s')
  t.equal(stateWords({ ...backend, state: 'unhealthy', next_trial_seconds: 0 }), 'unhealthy, trial due')
  t.equal(stateWords({ ...backend, state: 'half_open' }), 'half-open, trial under way')
  t.equal(stateWords({ ...backend, state: 'recovering', recovery_percent: 30 }), 'recovering, 30% of weight')
  t.equal(stateWords({ ...backend, state: 'disabled' }), 'disabled')
})

t.test('worst first', async (t) => {
  const order = (['healthy', 'disabled', 'recovering', 'failing', 'half_open', 'unhealthy'] as const).slice().sort((a, b) => severity(a) - severity(b))
  t.same(order, ['unhealthy', 'half_open', 'failing', 'recovering', 'healthy', 'disabled'])
  t.ok(severity('degraded') < severity('healthy'))
})

t.test('figures', async (t) => {
  t.same([0, 0.004, 0.25, 1.5, 12.345, 1234.6].map(amount), ['0', '<0.01', '0.25', '1.5', '12.3', '1,235'])
  t.same([null, 0, 0.0004, 0.054, 0.5, 1].map(percent), ['-', '0%', '<0.1%', '5.4%', '50%', '100%'])
  t.same([null, 4.25, 120.4, 2500, 12_000].map(millis), ['-', '4.25 ms', '120 ms', '2500 ms', '12 s'])
  t.equal(pair(120, 840), '120 / 840 ms')
  t.equal(pair(900, 15_000), '900 ms / 15 s')
  t.equal(pair(null, null), '-')
  t.same([0, 59, 60, 61, 3600, 3661].map(duration), ['0 s', '59 s', '1 min', '1 min 1 s', '1 h', '1 h 1 min'])
  t.equal(weights(3, 3), '3')
  t.equal(weights(1, 0.1), '1 → 0.1')
  t.equal(lastFailure(null), '-')
  t.equal(lastFailure({ reason: 'HTTP 502', age_seconds: 12 }), 'HTTP 502, 12 s ago')
})

t.test('rate-limit headroom in words, and the tightest window for sorting', async (t) => {
  t.equal(headroom([]), 'no limit')
  const windows = [
    { window: 'minute' as const, limit: 60, remaining: 45, reset_seconds: 12 },
    { window: 'day' as const, limit: 1000, remaining: 100, reset_seconds: null },
    { window: 'hour' as const, limit: 500, remaining: null, reset_seconds: null }
  ]
  t.equal(headroom(windows), 'minute: 45 of 60 left (resets in 12 s); day: 100 of 1,000 left; hour: unknown')
  t.equal(headroomRatio(windows), 0.1)
  t.equal(headroomRatio([]), 1)
})

t.test('the chart path: scaled to the peak, lifted over gaps', async (t) => {
  t.equal(sparkPath([], 1), '')
  t.equal(sparkPath([0, 0], 0), '', 'nothing to draw without a peak')
  const d = sparkPath([0, 2, null, 1], 2)
  t.equal((d.match(/M/g) ?? []).length, 2, 'a new stroke after the gap')
  t.equal(d, 'M2.0 26.0L40.7 2.0M118.0 14.0', 'bottom at 0, top at the peak')
})
