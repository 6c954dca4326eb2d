/** The health state machine, driven by a hand-set clock. */
import t from 'tap'
import { HealthTracker, RECOVERY_STEPS } from '../../plugin/health/tracker.js'

const breaker = { failureThreshold: 3, cooldownMs: 60_000 }

t.test('healthy -> open after the threshold of consecutive failures', async (t) => {
  const h = new HealthTracker()
  h.recordFailure('k', { status: 500, error: 'HTTP 500' }, 0, breaker)
  h.recordFailure('k', { status: 500, error: 'HTTP 500' }, 1, breaker)
  t.ok(h.isAvailable('k', 2, breaker))
  h.recordSuccess('k', 10, 3)
  h.recordFailure('k', { status: 500, error: 'HTTP 500' }, 4, breaker)
  h.recordFailure('k', { status: 500, error: 'HTTP 500' }, 5, breaker)
  t.ok(h.isHealthy('k'), 'a success resets the count')
  h.recordFailure('k', { status: 502, error: 'HTTP 502' }, 6, breaker)
  t.equal(h.snapshot('k').state, 'open')
  t.notOk(h.isAvailable('k', 7, breaker))
  t.equal(h.availableAt('k', breaker), 60_006)
  t.equal(h.snapshot('k').lastError, 'HTTP 502')
})

t.test('401/403 open at once; 429 with Retry-After cools for that long', async (t) => {
  const h = new HealthTracker()
  h.recordFailure('auth', { status: 401, error: 'HTTP 401' }, 0, breaker)
  t.equal(h.snapshot('auth').state, 'open')
  h.recordFailure('rl', { status: 429, error: 'HTTP 429', retryAfterMs: 5000 }, 100, breaker)
  t.equal(h.availableAt('rl', breaker), 5100)
  h.recordFailure('rl2', { status: 429, error: 'HTTP 429' }, 100, breaker)
  t.ok(h.isHealthy('rl2'), 'a 429 without Retry-After is one failure among others')
})

t.test('open -> half-open trial -> healthy with gradual recovery', async (t) => {
  const h = new HealthTracker()
  h.recordFailure('k', { status: 401, error: 'HTTP 401' }, 0, breaker)
  t.notOk(h.isAvailable('k', 59_999, breaker))
  t.ok(h.isAvailable('k', 60_000, breaker))
  h.attemptStarted('k', 60_000)
  t.equal(h.snapshot('k').state, 'half_open')
  t.notOk(h.isAvailable('k', 60_001, breaker), 'one trial at a time')
  h.recordSuccess('k', 20, 60_010)
  t.equal(h.snapshot('k').state, 'healthy')
  const factors = [h.weightFactor('k')]
  for (let i = 0; i < RECOVERY_STEPS.length; i++) {
    h.recordSuccess('k', 20, 60_020 + i)
    factors.push(h.weightFactor('k'))
  }
  t.same(factors, [0.1, 0.3, 0.5, 1])
})

t.test('half-open failure re-opens with a fresh cooldown; a lost trial expires', async (t) => {
  const h = new HealthTracker()
  h.recordFailure('k', { status: 403, error: 'HTTP 403' }, 0, breaker)
  h.attemptStarted('k', 60_000)
  h.recordFailure('k', { error: 'connection refused' }, 60_005, breaker)
  t.equal(h.snapshot('k').state, 'open')
  t.equal(h.availableAt('k', breaker), 120_005)
  h.attemptStarted('k', 120_005)
  t.notOk(h.isAvailable('k', 150_000, breaker))
  t.ok(h.isAvailable('k', 180_005, breaker), 'the trial never reported: another is let through')
})

t.test('retain forgets removed backends only', async (t) => {
  const h = new HealthTracker()
  h.recordFailure('gone', { status: 401, error: 'x' }, 0, breaker)
  h.recordFailure('kept', { status: 401, error: 'x' }, 0, breaker)
  h.retain(new Set(['kept']))
  t.ok(h.isHealthy('gone'))
  t.notOk(h.isHealthy('kept'))
})

t.test('a run of failures keeps when it began and how many trials it had', async (t) => {
  const h = new HealthTracker()
  t.match(h.snapshot('k'), { firstFailureAt: 0, recoveryAttempts: 0 })
  h.recordFailure('k', { status: 500, error: 'HTTP 500' }, 1_000, breaker)
  h.recordFailure('k', { status: 500, error: 'HTTP 500' }, 2_000, breaker)
  h.recordFailure('k', { status: 500, error: 'HTTP 500' }, 3_000, breaker)
  t.match(h.snapshot('k'), { firstFailureAt: 1_000, lastErrorAt: 3_000, recoveryAttempts: 0 })
  h.attemptStarted('k', 63_000)
  h.recordFailure('k', { error: 'connection refused' }, 63_010, breaker)
  h.attemptStarted('k', 123_010)
  t.match(h.snapshot('k'), { firstFailureAt: 1_000, recoveryAttempts: 2, trialStartedAt: 123_010 })
  h.recordSuccess('k', 20, 123_020)
  t.match(h.snapshot('k'), { firstFailureAt: 0, recoveryAttempts: 0 })
  h.recordFailure('k', { status: 500, error: 'HTTP 500' }, 200_000, breaker)
  t.equal(h.snapshot('k').firstFailureAt, 200_000, 'a new run starts afresh')
})
