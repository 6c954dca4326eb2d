/** The /admin/status builder, from hand-fed stores, a hand-driven health tracker and a fixed clock. */
import t from 'tap'
import { loadConfig } from '../../plugin/config/load.js'
import { HealthTracker } from '../../plugin/health/tracker.js'
import { binOf, binRange } from '../../plugin/status/latency-histogram.js'
import { backendState, statusView } from '../../plugin/status/status-view.js'
import { TrafficStore, type TrafficSample } from '../../plugin/status/traffic-store.js'
import type { BackendStatus, ModelStatus, RateLimitHeadroom, StatusView } from '../../plugin/status/view-types.js'

const config = loadConfig(`
[providers.a]
base_url = "http://127.0.0.1:1/v1"
api_key = "sk-a-secret-0000000001"
[providers.b]
name = "Provider B"
base_url = "http://127.0.0.1:2/v1"
[providers.c]
base_url = "http://127.0.0.1:3/v1"
enabled = false

[[models.chat.backends]]
provider = "a"
model = "m-a"
weight = 3
[[models.chat.backends]]
provider = "b"
model = "m-b"
weight = 1
[[models.chat.backends]]
provider = "c"
model = "m-c"

[[models.solo.backends]]
provider = "b"
model = "m-solo"

[models.off]
enabled = false
[[models.off.backends]]
provider = "a"
model = "m-off"

[users.alice]
token = "alice-token-0000000001"
[users.alice.rate_limit]
requests_per_minute = 60
[users.ops]
token = "ops-token-0000000000002"
tags = ["admin"]

[settings]
circuit_breaker_failure_threshold = 2
circuit_breaker_timeout_seconds = 30
`)
const breaker = { failureThreshold: 2, cooldownMs: 30_000 }
// 5 s into a 10-second bucket.
const T0 = 1_700_000_000_000 + 5_000

function feed (store: TrafficStore, n: number, over: Partial<TrafficSample>): void {
  for (let i = 0; i < n; i++) {
    store.record({ model: 'chat', backend: 'a', user: 'alice', status: 200, latencyMs: 200, ttfbMs: 50, pinned: false, promptTokens: 10, completionTokens: 20, now: T0, ...over })
  }
}

function view (store: TrafficStore, health: HealthTracker, now: number, headroom: (id: string) => readonly RateLimitHeadroom[] = () => []): StatusView {
  // A JSON round trip: what the route sends is what is tested.
  return JSON.parse(JSON.stringify(statusView({ config, health, traffic: store, headroom, now })))
}

const model = (v: StatusView, name: string): ModelStatus => v.models.find((m) => m.name === name) as ModelStatus
const backend = (v: StatusView, name: string, provider: string): BackendStatus => model(v, name).backends.find((b) => b.provider === provider) as BackendStatus

t.test('no traffic, nothing failing: healthy, zero rates, no percentiles, the disabled said so', async (t) => {
  const store = new TrafficStore({ startedAt: T0 })
  const v = view(store, new HealthTracker(), T0 + 20_000)
  t.equal(v.status, 'healthy')
  t.equal(v.uptime_seconds, 20)
  t.same(v.windows, { bucket_seconds: 10, stats_seconds: 300, share_seconds: 60, chart_seconds: 900 })
  t.same(v.models.map((m) => [m.name, m.state]), [['chat', 'healthy'], ['solo', 'healthy'], ['off', 'disabled']])
  const a = backend(v, 'chat', 'a')
  t.match(a, { state: 'healthy', weight: 3, effective_weight: 3, share: null, requests: 0, requests_per_second: 0, error_rate: null, latency_p95_ms: null, ttfb_p50_ms: null, last_failure: null })
  t.match(backend(v, 'chat', 'c'), { state: 'disabled', enabled: false, effective_weight: 0 })
  t.equal(a.chart.requests_per_minute.length, 90)
  const known = a.chart.requests_per_minute.filter((x) => x !== null)
  t.same(known, [0, 0, 0], 'three buckets since counting began (T0 at 5 s into its bucket), none before')
  t.same(v.providers.map((p) => [p.id, p.state, p.backends, p.healthy_backends]), [['a', 'healthy', 1, 1], ['b', 'healthy', 2, 2], ['c', 'disabled', 0, 0]])
  t.notMatch(JSON.stringify(v), /sk-a-secret|127\.0\.0\.1|token-/, 'no key, no address, no token')
})

t.test('traffic: rates over the time really covered, shares over the last minute, percentiles, tokens', async (t) => {
  const store = new TrafficStore({ startedAt: T0 - 3_600_000 })
  // 6 minutes ago: outside the 5-minute stats and the 1-minute share, inside the chart.
  feed(store, 100, { now: T0 - 360_000, backend: 'b' })
  feed(store, 30, { latencyMs: 200, ttfbMs: 50 })
  feed(store, 10, { backend: 'b', status: 502, latencyMs: 2_500, ttfbMs: undefined, pinned: true, promptTokens: 1, completionTokens: 0 })
  feed(store, 60, { now: T0 - 120_000, latencyMs: 200 })
  // 5 attempts on b failed and went on to a (whose answers are among the 30 above).
  for (let i = 0; i < 5; i++) store.failover('chat', 'b', T0)
  const now = T0 + 1_000
  const v = view(store, new HealthTracker(), now)
  const a = backend(v, 'chat', 'a')
  const b = backend(v, 'chat', 'b')
  // The 30 buckets ending now span 290 s and the 6 s of the current one.
  const seconds = 296
  t.equal(a.requests, 90)
  t.equal(a.requests_per_second, Math.round(90 / seconds * 1000) / 1000)
  t.equal(a.error_rate, 0)
  t.equal(b.error_rate, 1)
  t.equal(b.failovers, 5)
  t.equal(b.requests, 10, 'failed-over attempts are not requests')
  t.equal(b.pinned_requests, 10)
  t.equal(a.share, 0.75, '30 of the 40 requests of the last minute')
  t.equal(b.share, 0.25)
  const [lo, hi] = binRange(binOf(200))
  t.ok((a.latency_p50_ms ?? 0) >= lo && (a.latency_p50_ms ?? 0) <= hi, `p50 ${a.latency_p50_ms} in [${lo}, ${hi}]`)
  t.equal(b.ttfb_p95_ms, null, 'answers without a first byte have no TTFB')
  t.equal(a.tokens_per_minute, Math.round(90 * 30 / (seconds / 60) * 10) / 10)
  const chat = model(v, 'chat')
  t.equal(chat.requests, 100)
  t.equal(chat.error_rate, 0.1, 'what clients saw: 10 errors in 100 requests')
  t.equal(chat.failovers, 5)
  t.equal(chat.pinned_requests, 10)
  t.equal(v.totals.requests, 100)
  t.equal(v.totals.failovers, 5)
  t.match(v.providers.find((p) => p.id === 'b'), { requests: 10, error_rate: 1, failovers: 5 })
  t.match(v.providers.find((p) => p.id === 'a'), { requests: 90, error_rate: 0, failovers: 0 })
  const chart = b.chart.requests_per_minute
  t.equal(chart[chart.length - 1], 100, 'the current bucket: 10 requests over its 6 s so far, 100 a minute')
  t.equal(chart[chart.length - 1 - 36], 600, '100 requests in the bucket of 6 minutes ago: 600 a minute')
  t.equal(b.chart.latency_p95_ms[chart.length - 2], null, 'a bucket without requests has no p95')
})

t.test('states from the breaker, with the seconds to the next trial and the recovery share', async (t) => {
  const health = new HealthTracker()
  const store = new TrafficStore({ startedAt: T0 })
  const keyOf = (m: string, p: string): string => config.models.get(m)?.backends.find((x) => x.provider.id === p)?.key ?? ''
  health.recordFailure(keyOf('solo', 'b'), { status: 502, error: 'HTTP 502' }, T0, breaker)
  let v = view(store, health, T0 + 1_000)
  t.match(backend(v, 'solo', 'b'), { state: 'failing', consecutive_failures: 1, last_failure: { reason: 'HTTP 502', age_seconds: 1 } })
  t.equal(v.status, 'degraded', 'a failing backend degrades its model')

  health.recordFailure(keyOf('solo', 'b'), { error: 'connection refused' }, T0 + 2_000, breaker)
  v = view(store, health, T0 + 4_500)
  t.match(backend(v, 'solo', 'b'), { state: 'unhealthy', next_trial_seconds: 28, effective_weight: 0, last_failure: { reason: 'connection refused', age_seconds: 3 } })
  t.equal(model(v, 'solo').state, 'unhealthy', 'its only backend is out: the model is unserved')
  t.equal(v.status, 'unhealthy')
  t.match(v.providers.find((p) => p.id === 'b'), { state: 'degraded', healthy_backends: 1, backends: 2 })
  t.equal(model(v, 'chat').state, 'healthy', 'the same provider serves chat with another upstream model')

  v = view(store, health, T0 + 40_000)
  t.match(backend(v, 'solo', 'b'), { state: 'unhealthy', next_trial_seconds: 0 }, 'the trial is due')
  health.attemptStarted(keyOf('solo', 'b'), T0 + 40_000)
  t.match(backend(view(store, health, T0 + 40_001), 'solo', 'b'), { state: 'half_open', next_trial_seconds: null })
  health.recordSuccess(keyOf('solo', 'b'), 80, T0 + 40_100)
  v = view(store, health, T0 + 41_000)
  t.match(backend(v, 'solo', 'b'), { state: 'recovering', recovery_percent: 10, effective_weight: 0.1, consecutive_failures: 0 })
  t.equal(v.status, 'degraded')
  for (let i = 0; i < 3; i++) health.recordSuccess(keyOf('solo', 'b'), 80, T0 + 42_000 + i)
  t.equal(view(store, health, T0 + 43_000).status, 'healthy')
})

t.test('backendState reads the breaker without changing it', async (t) => {
  const health = new HealthTracker()
  const b = config.models.get('chat')?.backends[1]
  if (b === undefined) throw new Error('fixture')
  health.recordFailure(b.key, { status: 401, error: 'HTTP 401' }, T0, breaker)
  t.same(backendState(b, health, T0 + 10_000), { state: 'unhealthy', nextTrialSeconds: 20, recoveryPercent: null })
  t.same(backendState(b, health, T0 + 10_000), { state: 'unhealthy', nextTrialSeconds: 20, recoveryPercent: null })
  t.equal(health.snapshot(b.key).state, 'open')
})

t.test('users: the configured ones, those of a host hook seen lately, the overflow; headroom as given', async (t) => {
  const store = new TrafficStore({ startedAt: T0, maxUsers: 3 })
  feed(store, 4, { user: 'alice', status: 429 })
  feed(store, 2, { user: 'zed' })
  feed(store, 1, { user: 'amy' })
  feed(store, 5, { user: 'late' })
  const headroom = (id: string): RateLimitHeadroom[] => id === 'alice' ? [{ window: 'minute', limit: 60, remaining: 56, reset_seconds: 41 }] : []
  const v = view(store, new HealthTracker(), T0 + 1_000, headroom)
  t.same(v.users.map((u) => u.id), ['alice', 'ops', 'amy', 'zed', '*'])
  t.match(v.users[0], { name: 'alice', requests: 4, error_rate: 1, tokens: 120, rate_limit: [{ window: 'minute', limit: 60, remaining: 56, reset_seconds: 41 }] })
  t.match(v.users[1], { id: 'ops', requests: 0, error_rate: null, rate_limit: [] })
  t.match(v.users[4], { name: 'other users (beyond 3)', requests: 5 })
})

t.test('chart percentiles kept between refreshes follow requests that still land in their bucket', async (t) => {
  const store = new TrafficStore({ startedAt: T0 - 600_000 })
  feed(store, 10, { now: T0 - 30_000, latencyMs: 100 })
  const health = new HealthTracker()
  const p95At = (v: StatusView): number | null | undefined => {
    const chart = backend(v, 'chat', 'a').chart.latency_p95_ms
    return chart[chart.length - 4]
  }
  const first = p95At(view(store, health, T0))
  t.ok(first !== null && first !== undefined && first <= 100, `p95 ${first}`)
  t.equal(p95At(view(store, health, T0 + 1)), first, 'the same, read again')
  feed(store, 10, { now: T0 - 30_000, latencyMs: 5_000 })
  const second = p95At(view(store, health, T0 + 2))
  t.ok(second !== null && second !== undefined && second > 3_000, `p95 ${second} after slow requests in the same bucket`)
})
