/** smart_ai's confidence and the failure classes that move it, with a hand-set clock. No HTTP. */
import t, { type Test } from 'tap'
import { DEFAULT_SMART_AI } from '../../plugin/config/smart-ai.js'
import type { SmartAiSettings } from '../../plugin/config/types.js'
import { ConfidenceBook, TIME_DECAY_HALF_LIFE_MS, confidenceAt } from '../../plugin/health/confidence.js'
import { failureClassOf, saysModelNotFound } from '../../plugin/health/failure-class.js'
import { HealthTracker, LATENCY_EWMA_ALPHA } from '../../plugin/health/tracker.js'

const breaker = { failureThreshold: 5, cooldownMs: 60_000 }
const HOUR = TIME_DECAY_HALF_LIFE_MS
const close = (t: Test, actual: number, expected: number, message: string): void => {
  t.ok(Math.abs(actual - expected) < 1e-9, `${message}: ${actual} ~ ${expected}`)
}

t.test('failure classes from what the proxy saw', async (t) => {
  const cases: Array<[Parameters<typeof failureClassOf>[0], string | undefined]> = [
    [{}, 'network'],
    [{ timeout: false }, 'network'],
    [{ timeout: true }, 'timeout'],
    [{ status: 401 }, 'auth'],
    [{ status: 403 }, 'auth'],
    [{ status: 429 }, 'rate_limit'],
    [{ status: 408 }, 'timeout'],
    [{ status: 504 }, 'timeout'],
    [{ status: 500 }, 'server'],
    [{ status: 502 }, 'server'],
    [{ status: 503 }, 'server'],
    [{ status: 404 }, 'model'],
    [{ status: 400, body: '{"error":{"message":"The model `gpt-5` does not exist","code":"model_not_found"}}' }, 'model'],
    [{ status: 400, body: '{"error":{"message":"Model not found: foo"}}' }, 'model'],
    [{ status: 400, body: '{"error":{"message":"max_tokens is too large"}}' }, undefined],
    [{ status: 400 }, undefined],
    [{ status: 422 }, undefined],
    [{ status: 200 }, undefined]
  ]
  for (const [outcome, expected] of cases) t.equal(failureClassOf(outcome), expected, JSON.stringify(outcome))
  t.notOk(saysModelNotFound(undefined))
})

t.test('a new backend starts at initial_confidence; successes add success_boost up to 1', async (t) => {
  const book = new ConfidenceBook(() => DEFAULT_SMART_AI)
  t.equal(book.confidence('k', 0), 0.8)
  book.success('k', 1000)
  close(t, book.confidence('k', 1000), 0.9, 'one success')
  book.success('k', 1000)
  book.success('k', 1000)
  t.equal(book.confidence('k', 1000), 1, 'never above 1')
  t.match(book.record('k'), { totalRequests: 3, consecutiveSuccesses: 3, consecutiveFailures: 0, lastSuccessAt: 1000, lastRequestAt: 1000 })
})

t.test('each failure class subtracts its own penalty, never below min_confidence', async (t) => {
  const penalties = DEFAULT_SMART_AI.penalties
  for (const [kind, penalty] of Object.entries(penalties) as Array<[keyof typeof penalties, number]>) {
    const book = new ConfidenceBook(() => DEFAULT_SMART_AI)
    book.failure('k', kind, 5)
    close(t, book.confidence('k', 5), Math.max(0.05, 0.8 - penalty), kind)
    t.equal(book.record('k').errorCounts[kind], 1)
  }
  const book = new ConfidenceBook(() => DEFAULT_SMART_AI)
  for (let i = 0; i < 10; i++) book.failure('k', 'server', 5)
  t.equal(book.confidence('k', 5), 0.05, 'the floor: a failing backend keeps a chance')
  t.match(book.record('k'), { consecutiveFailures: 10, consecutiveSuccesses: 0, lastFailureAt: 5, errorCounts: { server: 10, auth: 0 } })
  book.failure('k', 'auth', 6)
  t.equal(book.confidence('k', 6), 0.05)
})

t.test('time decay: idle, the confidence drifts back toward initial_confidence, halving the distance each hour', async (t) => {
  const book = new ConfidenceBook(() => DEFAULT_SMART_AI)
  for (let i = 0; i < 4; i++) book.failure('low', 'server', 0)
  t.equal(book.confidence('low', 0), 0.05)
  // 0.8 + (0.05 - 0.8) x 0.5 = 0.425 after one hour, 0.6125 after two.
  close(t, book.confidence('low', HOUR), 0.425, 'one hour idle')
  close(t, book.confidence('low', 2 * HOUR), 0.6125, 'two hours idle')
  book.success('high', 0)
  book.success('high', 0)
  // 0.8 + (1 - 0.8) x 0.5 = 0.9: a long-unused backend is not trusted blindly either.
  close(t, book.confidence('high', HOUR), 0.9, 'drifts down too')
  // Traffic settles the decayed value first: 0.425 + 0.1.
  book.success('low', HOUR)
  close(t, book.confidence('low', HOUR), 0.525, 'a success adds to the decayed value')

  const still = new ConfidenceBook(() => ({ ...DEFAULT_SMART_AI, enableTimeDecay: false }))
  still.failure('k', 'network', 0)
  close(t, still.confidence('k', 10 * HOUR), 0.5, 'enable_time_decay = false: no drift')
  t.equal(confidenceAt(undefined, 0, DEFAULT_SMART_AI), 0.8)
})

t.test('settings are read at each update: a reload applies at once', async (t) => {
  let settings: SmartAiSettings = DEFAULT_SMART_AI
  const book = new ConfidenceBook(() => settings)
  book.failure('k', 'server', 0)
  close(t, book.confidence('k', 0), 0.6, 'default server penalty')
  settings = { ...DEFAULT_SMART_AI, penalties: { ...DEFAULT_SMART_AI.penalties, server: 0.5 } }
  book.failure('k', 'server', 0)
  close(t, book.confidence('k', 0), 0.1, 'the new penalty')
})

t.test('connectivity checks: a failure halves the confidence, a success only says so', async (t) => {
  const book = new ConfidenceBook(() => DEFAULT_SMART_AI)
  book.connectivity('k', false, 100)
  close(t, book.confidence('k', 100), 0.4, 'halved')
  t.match(book.record('k'), { connectivityOk: false, lastConnectivityCheckAt: 100, totalRequests: 0 })
  book.connectivity('k', true, 100)
  close(t, book.confidence('k', 100), 0.4, 'unchanged by a success')
  t.equal(book.record('k').connectivityOk, true)
  for (let i = 0; i < 10; i++) book.connectivity('k', false, 300)
  t.equal(book.confidence('k', 300), 0.05, 'never below the floor')
})

t.test('records are plain data: a JSON round trip restores them exactly', async (t) => {
  const book = new ConfidenceBook(() => DEFAULT_SMART_AI)
  book.failure('a', 'rate_limit', 10)
  book.success('b', 20)
  book.connectivity('b', false, 30)
  const copy = new ConfidenceBook(() => DEFAULT_SMART_AI)
  copy.load(JSON.parse(JSON.stringify(book.entries())))
  t.same(copy.entries(), book.entries())
  close(t, copy.confidence('b', 30), book.confidence('b', 30), 'same confidence')
  copy.retain(new Set(['a']))
  t.same(copy.entries().map(([key]) => key), ['a'])
})

t.test('the tracker feeds confidence from the outcomes it records', async (t) => {
  const h = new HealthTracker()
  h.recordFailure('k', { status: 500, error: 'HTTP 500' }, 0, breaker)
  close(t, h.confidence.confidence('k', 0), 0.6, 'a 500 is a server error')
  h.recordFailure('k', { error: 'timeout after 30s', timeout: true }, 0, breaker)
  close(t, h.confidence.confidence('k', 0), 0.4, 'a timeout')
  h.recordFailure('k', { error: 'connection refused' }, 0, breaker)
  close(t, h.confidence.confidence('k', 0), 0.1, 'a network error')
  h.recordFailure('k', { status: 500, error: 'probe HTTP 500', probe: true }, 0, breaker)
  close(t, h.confidence.confidence('k', 0), 0.1, 'probes never move confidence')
  h.recordSuccess('k', 50, 0, true)
  close(t, h.confidence.confidence('k', 0), 0.1, 'nor do successful probes')
  t.equal(h.latencyMs('k'), undefined, 'nor the latency average')
  h.recordFailure('x', { status: 422, error: 'HTTP 422' }, 0, breaker)
  t.equal(h.confidence.confidence('x', 0), 0.8, 'a client error is not the backend\'s')
  h.recordFailure('x', { status: 500, error: 'HTTP 500', kind: 'model' }, 0, breaker)
  close(t, h.confidence.confidence('x', 0), 0.5, 'an explicit class wins')
  h.recordSuccess('k', 100, 0)
  close(t, h.confidence.confidence('k', 0), 0.2, 'a success adds success_boost')
  t.equal(h.confidence.record('k').errorCounts.timeout, 1)
})

t.test('latency is a moving average of successful requests', async (t) => {
  const h = new HealthTracker()
  h.recordSuccess('k', 100, 0)
  t.equal(h.latencyMs('k'), 100)
  h.recordSuccess('k', 200, 0)
  close(t, h.latencyMs('k') ?? 0, 100 + LATENCY_EWMA_ALPHA * 100, 'moved toward 200 by alpha')
  h.retain(new Set())
  t.equal(h.latencyMs('k'), undefined, 'forgotten with the backend')
  t.equal(h.confidence.entries().length, 0)
})
