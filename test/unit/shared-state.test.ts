/**
 * What instances send each other about health, without Redis: durations in
 * place of instants (two clocks an hour apart agree on what a share means),
 * transitions told to the observer and shared ones not told back, and the
 * guards that read shares from JSON.
 */
import t from 'tap'
import { DEFAULT_SMART_AI } from '../../plugin/config/smart-ai.js'
import { ConfidenceBook, type ConfidenceEvent } from '../../plugin/health/confidence.js'
import {
  ageBreaker, ageConfidence, confidenceFromShare, parseBreakerShare, parseConfidenceEvent, parseConfidenceShare, shareBreaker, shareConfidence
} from '../../plugin/health/shared-state.js'
import { HealthTracker, type BackendHealth } from '../../plugin/health/tracker.js'
import { readStamped } from '../../plugin/cluster/redis-health-sync.js'

const breaker = { failureThreshold: 2, cooldownMs: 60_000 }
const HOUR = 3_600_000

t.test('an open circuit travels as the time it has left, whatever the receiving clock says', async (t) => {
  const sender = new HealthTracker()
  const seen: Array<{ key: string, state: string, at: number }> = []
  sender.observe((key, state, now) => { seen.push({ key, state: state.state, at: now }) })
  sender.recordFailure('k', { status: 500, error: 'HTTP 500' }, 1_000, breaker)
  t.same(seen, [], 'one failure under the threshold is no transition')
  sender.recordFailure('k', { status: 500, error: 'HTTP 500' }, 18_000, breaker)
  t.same(seen, [{ key: 'k', state: 'open', at: 18_000 }])

  const share = shareBreaker(sender.snapshot('k'), 18_000)
  t.same(share, { state: 'open', remainingMs: 60_000, error: 'HTTP 500' })

  // The receiver's clock is an hour ahead: an instant would be long past there.
  const receiver = new HealthTracker()
  const heard: string[] = []
  receiver.observe((key) => { heard.push(key) })
  const receiverNow = 18_000 + HOUR
  receiver.applyShared('k', share, receiverNow)
  t.equal(receiver.snapshot('k').state, 'open')
  t.equal(receiver.availableAt('k', breaker), receiverNow + 60_000, 'open for the same 60 s on its own clock')
  t.notOk(receiver.isAvailable('k', receiverNow + 59_999, breaker))
  t.ok(receiver.isAvailable('k', receiverNow + 60_000, breaker))
  t.equal(receiver.snapshot('k').lastError, 'HTTP 500')
  t.same(heard, [], 'a shared transition is not told to the observer: it is never sent back')
})

t.test('a share read later is aged by the time it waited', async (t) => {
  t.same(ageBreaker({ state: 'open', remainingMs: 60_000, error: 'x' }, 15_000), { state: 'open', remainingMs: 45_000, error: 'x' })
  t.same(ageBreaker({ state: 'open', remainingMs: 10_000, error: 'x' }, 15_000), { state: 'open', remainingMs: -5_000, error: 'x' }, 'cooled down: a trial may go')
  t.same(ageBreaker({ state: 'half_open', sinceMs: 100 }, 900), { state: 'half_open', sinceMs: 1_000 })
  t.same(ageBreaker({ state: 'healthy' }, 900), { state: 'healthy' })

  const h = new HealthTracker()
  h.applyShared('k', ageBreaker({ state: 'open', remainingMs: 10_000, error: 'x' }, 15_000), 500)
  t.ok(h.isAvailable('k', 500, breaker), 'an entry whose cooldown ran out while it waited admits a trial at once')
})

t.test('half-open and closing travel too; a trial elsewhere holds back the others', async (t) => {
  const a = new HealthTracker()
  const b = new HealthTracker()
  const sent: Array<ReturnType<typeof shareBreaker>> = []
  a.observe((_key, state, now) => { sent.push(shareBreaker(state, now)) })
  a.recordFailure('k', { status: 401, error: 'HTTP 401' }, 0, breaker)
  a.attemptStarted('k', 60_000)
  a.recordSuccess('k', 20, 60_050)
  t.same(sent.map((s) => s.state), ['open', 'half_open', 'healthy'])
  t.same(sent[1], { state: 'half_open', sinceMs: 0 })

  b.applyShared('k', sent[0]!, 5 * HOUR)
  b.applyShared('k', sent[1]!, 5 * HOUR + 60_000)
  t.equal(b.snapshot('k').state, 'half_open')
  t.notOk(b.isAvailable('k', 5 * HOUR + 60_001, breaker), 'one trial in the whole cluster')
  b.applyShared('k', sent[2]!, 5 * HOUR + 60_050)
  t.equal(b.snapshot('k').state, 'healthy')
  t.equal(b.weightFactor('k'), 0.1, 'back at the first recovery step, as where it closed')
  b.recordSuccess('k', 10, 5 * HOUR + 60_100)
  t.equal(b.weightFactor('k'), 0.3)
  b.applyShared('k', { state: 'healthy' }, 5 * HOUR + 60_200)
  t.equal(b.weightFactor('k'), 0.3, 'closed news about a closed circuit changes nothing')
})

t.test('every transition reaches the observer: a failed trial re-opens, a 429 cools for its Retry-After', async (t) => {
  const h = new HealthTracker()
  const seen: Array<Pick<BackendHealth, 'state' | 'cooldownUntil'>> = []
  h.observe((_key, state) => { seen.push({ state: state.state, cooldownUntil: state.cooldownUntil }) })
  h.recordFailure('k', { status: 429, error: 'HTTP 429', retryAfterMs: 5_000 }, 100, breaker)
  h.attemptStarted('k', 5_100)
  h.recordFailure('k', { error: 'connection refused' }, 5_200, breaker)
  t.same(seen, [
    { state: 'open', cooldownUntil: 5_100 },
    { state: 'half_open', cooldownUntil: 5_100 },
    { state: 'open', cooldownUntil: 65_200 }
  ])
  h.observe(undefined)
  h.recordSuccess('k', 1, 70_000)
  t.equal(seen.length, 3, 'an observer taken away hears nothing more')
})

t.test('confidence records travel with ages; events are applied without being told back', async (t) => {
  const settings = DEFAULT_SMART_AI
  const a = new ConfidenceBook(() => settings)
  const told: Array<{ key: string, event: ConfidenceEvent, now: number }> = []
  a.observe((key, event, now) => { told.push({ key, event, now }) })
  a.failure('k', 'server', 10_000)
  a.success('k', 12_000)
  a.connectivity('k', false, 13_000)
  t.same(told.map((x) => x.event), [{ type: 'failure', kind: 'server' }, { type: 'success' }, { type: 'connectivity', ok: false }])

  // The same events applied elsewhere, on a clock an hour ahead, give the same confidence.
  const b = new ConfidenceBook(() => settings)
  const heard: string[] = []
  b.observe((key) => { heard.push(key) })
  for (const { key, event, now } of told) b.apply(key, event, HOUR + now)
  t.equal(b.confidence('k', HOUR + 13_000), a.confidence('k', 13_000))
  t.same(heard, [])
  t.equal(b.record('k').totalRequests, 2)

  const share = shareConfidence(a.record('k'), 14_000)
  t.equal(share.updatedAgoMs, 1_000)
  t.equal(share.lastSuccessAgoMs, 2_000)
  t.equal(share.lastConnectivityCheckAgoMs, 1_000)
  const aged = ageConfidence(share, 500)
  t.equal(aged.lastFailureAgoMs, 4_500)
  const copy = confidenceFromShare(parseConfidenceShare(JSON.parse(JSON.stringify(aged)))!, HOUR)
  t.equal(copy.lastFailureAt, HOUR - 4_500)
  t.equal(copy.lastRequestAt, HOUR - 2_500)
  t.equal(copy.confidence, a.record('k').confidence)
})

t.test('an event older than the record it lands on does not move its instants back', async (t) => {
  const book = new ConfidenceBook(() => DEFAULT_SMART_AI)
  book.success('k', 50_000)
  book.apply('k', { type: 'failure', kind: 'timeout' }, 40_000)
  t.equal(book.record('k').updatedAt, 50_000)
  t.equal(book.record('k').lastFailureAt, 50_000)
})

t.test('guards: shares and events from JSON', async (t) => {
  t.same(parseBreakerShare({ state: 'open', remainingMs: 5, error: 'HTTP 500' }), { state: 'open', remainingMs: 5, error: 'HTTP 500' })
  t.same(parseBreakerShare({ state: 'half_open', sinceMs: 1 }), { state: 'half_open', sinceMs: 1 })
  t.same(parseBreakerShare({ state: 'healthy', extra: 1 }), { state: 'healthy' })
  for (const bad of [null, 'open', { state: 'open' }, { state: 'open', remainingMs: 'x', error: '' }, { state: 'closed' }, { state: 'half_open', sinceMs: Infinity }]) {
    t.equal(parseBreakerShare(bad), undefined, JSON.stringify(bad))
  }
  t.equal(parseBreakerShare({ state: 'open', remainingMs: 1, error: 'x'.repeat(1000) })?.state, 'open')
  t.same(parseConfidenceEvent({ type: 'failure', kind: 'auth' }), { type: 'failure', kind: 'auth' })
  t.equal(parseConfidenceEvent({ type: 'failure', kind: 'bogus' }), undefined)
  t.equal(parseConfidenceEvent({ type: 'connectivity', ok: 'yes' }), undefined)
  const share = shareConfidence(new ConfidenceBook(() => DEFAULT_SMART_AI).record('k'), 0)
  t.ok(parseConfidenceShare(share))
  t.equal(parseConfidenceShare({ ...share, confidence: 2 }), undefined)
  t.equal(parseConfidenceShare({ ...share, errorCounts: { network: 1 } }), undefined)
  t.equal(parseConfidenceShare({ ...share, lastSuccessAgoMs: 'never' }), undefined)
})

t.test('hash entries stamped with Redis time are aged by Redis time', async (t) => {
  t.same(readStamped('1000 {"state":"healthy"}', 4000), { value: { state: 'healthy' }, elapsedMs: 3000 })
  t.same(readStamped('5000 {"a":1}', 4000), { value: { a: 1 }, elapsedMs: 0 }, 'never negative')
  t.equal(readStamped('{"a":1}', 4000), undefined)
  t.equal(readStamped('12 not json', 4000), undefined)
})
