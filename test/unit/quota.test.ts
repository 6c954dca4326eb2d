/** Quota arithmetic, UTC day and month keys, and the token view, without HTTP or Redis. */
import t from 'tap'
import { dayOf, isDay, monthOf, nextDayStart, nextMonthStart, PeriodClock } from '../../plugin/cluster/periods.js'
import { formatDuration, quotaMessage, quotaStatus } from '../../plugin/cluster/quota.js'
import { TokenView } from '../../plugin/cluster/token-view.js'

const at = (iso: string): number => Date.parse(iso)

t.test('UTC day and month keys and boundaries', async (t) => {
  t.equal(dayOf(at('2026-11-22T23:59:59.999Z')), '2026-11-22')
  t.equal(dayOf(at('2026-11-23T00:00:00.000Z')), '2026-11-23')
  t.equal(monthOf(at('2026-12-31T23:59:59.999Z')), '2026-12')
  t.equal(nextDayStart(at('2026-11-22T10:00:00Z')), at('2026-11-23T00:00:00Z'))
  t.equal(nextDayStart(at('2026-11-22T00:00:00Z')), at('2026-11-23T00:00:00Z'), 'midnight belongs to the day it starts')
  t.equal(nextMonthStart(at('2026-12-15T00:00:00Z')), at('2027-01-01T00:00:00Z'), 'across a year')
  t.equal(nextMonthStart(at('2028-02-29T12:00:00Z')), at('2028-03-01T00:00:00Z'), 'a leap day')
  t.ok(isDay('2026-11-22'))
  for (const bad of ['2026-11-31', '2026-13-01', '26-11-22', '2026-11-22T00', '']) t.notOk(isDay(bad), bad)

  const clock = new PeriodClock()
  const times = [at('2026-11-22T23:59:59.999Z'), at('2026-11-23T00:00:00Z'), at('2026-11-22T12:00:00Z'), at('2026-12-01T00:00:00Z')]
  for (const ms of times) {
    t.equal(clock.day(ms), dayOf(ms))
    t.equal(clock.month(ms), monthOf(ms))
  }
})

t.test('quota status: remaining, the breach that resets last, limits at or above', async (t) => {
  const now = at('2026-11-22T21:00:00Z')
  const both = { tokensPerDay: 100, tokensPerMonth: 1000 }
  t.same(quotaStatus(both, { day: 0, month: 0 }, now), { remaining: 100, limit: 100, breach: undefined })
  t.same(quotaStatus(both, { day: 40, month: 950 }, now), { remaining: 50, limit: 1000, breach: undefined }, 'the tightest quota speaks')
  t.same(quotaStatus(both, { day: 99, month: 99 }, now).breach, undefined, 'one under')
  t.same(quotaStatus(both, { day: 100, month: 100 }, now), {
    remaining: 0,
    limit: 100,
    breach: { period: 'day', limit: 100, used: 100, resetsAt: at('2026-11-23T00:00:00Z') }
  }, 'reached exactly is reached')
  t.same(quotaStatus(both, { day: 130, month: 1200 }, now).breach, { period: 'month', limit: 1000, used: 1200, resetsAt: at('2026-12-01T00:00:00Z') }, 'both reached: the month, which resets later, is what stops the user')
  t.same(quotaStatus({ tokensPerDay: undefined, tokensPerMonth: 10 }, { day: 50, month: 5 }, now), { remaining: 5, limit: 10, breach: undefined })
})

t.test('the message says how much, which quota, and when it resets (UTC)', async (t) => {
  const now = at('2026-11-22T20:47:30Z')
  const { breach } = quotaStatus({ tokensPerDay: 1000, tokensPerMonth: undefined }, { day: 1006, month: 1006 }, now)
  t.equal(quotaMessage(breach!, now), 'You exceeded your token quota: 1006 of 1000 tokens per UTC day used. It resets at 2026-11-23T00:00:00Z, the start of the next UTC day (in 3h 12m).')
  t.equal(formatDuration(45_000), '45s')
  t.equal(formatDuration(60_000), '1m 0s')
  t.equal(formatDuration(2 * 86_400_000 + 4 * 3_600_000 + 5_000), '2d 4h')
  t.equal(formatDuration(0), '0s')
  t.equal(formatDuration(1), '1s', 'rounded up: never "0s" before the reset')
})

t.test('token view: own tokens at once, confirmed totals by max, acknowledged tokens not counted twice', async (t) => {
  const view = new TokenView()
  const now = at('2026-11-22T10:00:00Z')
  view.add('alice', 6, now)
  t.same(view.used('alice', now), { day: 6, month: 6 })
  view.confirm('2026-11-22', 'alice', 30)
  view.confirm('2026-11', 'alice', 300)
  t.same(view.used('alice', now), { day: 36, month: 306 }, 'others\' usage plus the own not yet confirmed')
  // The own 6 land: their total comes back with them, in one step.
  view.acknowledge('2026-11-22', 'alice', 6)
  view.acknowledge('2026-11', 'alice', 6)
  view.confirm('2026-11-22', 'alice', 36)
  view.confirm('2026-11', 'alice', 306)
  t.same(view.used('alice', now), { day: 36, month: 306 })
  view.confirm('2026-11-22', 'alice', 20)
  t.same(view.used('alice', now).day, 36, 'an older, smaller total arriving late changes nothing')
  t.same(view.used('bob', now), { day: 0, month: 0 })
  const tomorrow = at('2026-11-23T00:00:00Z')
  t.same(view.used('alice', tomorrow), { day: 0, month: 306 }, 'a new day starts at 0')
  view.confirm('2026-11-22', 'alice', 50)
  t.same(view.used('alice', tomorrow), { day: 0, month: 306 }, 'news of a past day is kept out')
  t.same(view.used('alice', at('2026-12-01T00:00:00Z')), { day: 0, month: 0 })
})
