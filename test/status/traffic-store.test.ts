/** The traffic store: what each record counts, where, and how memory stays bounded. */
import t from 'tap'
import { LATENCY_BINS, quantile } from '../../plugin/status/latency-histogram.js'
import { WindowTotals } from '../../plugin/status/rolling-window.js'
import {
  COMPLETION_TOKENS, ERRORS, FAILOVERS, isError, LATENCY, OTHER_USERS, PINNED, PROMPT_TOKENS, REQUESTS, TrafficStore, TTFB,
  type TrafficSample
} from '../../plugin/status/traffic-store.js'

const T0 = 1_700_000_000_000

function sample (over: Partial<TrafficSample> = {}): TrafficSample {
  return { model: 'gpt-4o', backend: 'openai', user: 'alice', status: 200, latencyMs: 120, ttfbMs: 40, pinned: false, promptTokens: 5, completionTokens: 7, now: T0, ...over }
}

t.test('a request counts for its backend, its user and the whole gateway', async (t) => {
  const store = new TrafficStore({ startedAt: T0 })
  store.record(sample())
  store.record(sample({ backend: 'claude', status: 502, pinned: true, promptTokens: 1, completionTokens: 0 }))
  const openai = store.backend('gpt-4o', 'openai')?.sum(T0, 30, new WindowTotals(store.trafficShape))
  t.same([...(openai?.counters ?? [])], [1, 0, 0, 5, 7, 0])
  const claude = store.backend('gpt-4o', 'claude')?.sum(T0, 30, new WindowTotals(store.trafficShape))
  t.equal(claude?.counters[ERRORS], 1)
  t.equal(claude?.counters[PINNED], 1)
  const all = store.all.sum(T0, 30, new WindowTotals(store.trafficShape))
  t.equal(all.counters[REQUESTS], 2)
  t.equal(all.counters[PROMPT_TOKENS], 6)
  t.equal(all.counters[COMPLETION_TOKENS], 7)
  const alice = store.user('alice')?.sum(T0, 30, new WindowTotals(store.userShape))
  t.equal(alice?.counters[REQUESTS], 2)
  t.equal(alice?.histograms.length, 0, 'user series keep no histograms')
})

t.test('latency and TTFB go into their histograms; a 499 and a missing TTFB do not', async (t) => {
  const store = new TrafficStore({ startedAt: T0 })
  store.record(sample({ latencyMs: 100, ttfbMs: 20 }))
  store.record(sample({ latencyMs: 100, ttfbMs: undefined }))
  store.record(sample({ status: 499, latencyMs: 90_000, ttfbMs: 30 }))
  const totals = store.backend('gpt-4o', 'openai')?.sum(T0, 30, new WindowTotals(store.trafficShape))
  const h = totals?.histograms ?? new Uint32Array(0)
  const count = (offset: number): number => h.subarray(offset, offset + LATENCY_BINS).reduce((a, b) => a + b, 0)
  t.equal(totals?.counters[REQUESTS], 3, 'the 499 is still a request')
  t.equal(count(LATENCY * LATENCY_BINS), 2, "a client gone is the client's latency, not the backend's")
  t.equal(count(TTFB * LATENCY_BINS), 1)
  t.ok((quantile(h, LATENCY * LATENCY_BINS, 0.95) ?? Infinity) <= 100)
})

t.test('requests that reached no backend count for the gateway and the user only', async (t) => {
  const store = new TrafficStore({ startedAt: T0 })
  store.record(sample({ model: '', backend: '', status: 404 }))
  store.record(sample({ model: 'gpt-4o', backend: '', status: 503 }))
  store.record(sample({ user: '', model: '', backend: '', status: 401 }))
  t.equal(store.backend('gpt-4o', ''), undefined)
  t.equal(store.all.sum(T0, 30, new WindowTotals(store.trafficShape)).counters[REQUESTS], 3)
  t.equal(store.user('alice')?.sum(T0, 30, new WindowTotals(store.userShape)).counters[REQUESTS], 2)
  t.equal(store.user(''), undefined, 'an unauthenticated request has no user series')
})

t.test('a failure that failed over counts for the backend that failed, not as a request', async (t) => {
  const store = new TrafficStore({ startedAt: T0 })
  store.failover('gpt-4o', 'openai', T0)
  store.failover('gpt-4o', 'openai', T0)
  store.record(sample({ backend: 'claude' }))
  const openai = store.backend('gpt-4o', 'openai')?.sum(T0, 30, new WindowTotals(store.trafficShape))
  t.equal(openai?.counters[FAILOVERS], 2)
  t.equal(openai?.counters[REQUESTS], 0)
  const all = store.all.sum(T0, 30, new WindowTotals(store.trafficShape))
  t.equal(all.counters[FAILOVERS], 2)
  t.equal(all.counters[REQUESTS], 1, 'one request in all')
  store.failover('', 'openai', T0)
  store.failover('gpt-4o', '', T0)
  t.equal(store.series, 1 + 2 + 1, 'no series for an unnamed model or backend')
})

t.test('errors: server failures and an upstream 408 or 429, not the client\'s own mistakes', async (t) => {
  for (const status of [500, 502, 503, 504, 408, 429]) t.ok(isError(status), String(status))
  for (const status of [200, 201, 400, 401, 403, 404, 413, 499]) t.notOk(isError(status), String(status))
})

t.test('users beyond maxUsers share one series; memory does not follow the number of users', async (t) => {
  const store = new TrafficStore({ startedAt: T0, maxUsers: 3 })
  for (let i = 0; i < 50; i++) store.record(sample({ user: `u${i}` }))
  t.same([...store.userIds()], ['u0', 'u1', 'u2', OTHER_USERS])
  t.equal(store.user(OTHER_USERS)?.sum(T0, 30, new WindowTotals(store.userShape)).counters[REQUESTS], 47)
  t.equal(store.series, 1 + 1 + 4, 'the gateway, one backend, three users and the overflow')
  store.record(sample({ user: 'u1' }))
  t.equal(store.user('u1')?.sum(T0, 30, new WindowTotals(store.userShape)).counters[REQUESTS], 2, 'a known user keeps its own series')
})

t.test('prune drops series idle for the whole window, and nothing else', async (t) => {
  const store = new TrafficStore({ startedAt: T0 })
  store.record(sample({ model: 'old', backend: 'gone', user: 'bob' }))
  store.record(sample({ now: T0 + 600_000 }))
  store.prune(T0 + 600_000)
  t.not(store.backend('old', 'gone'), undefined, '10 minutes on, still in the 15-minute window')
  store.prune(T0 + 900_000)
  t.equal(store.backend('old', 'gone'), undefined)
  t.equal(store.user('bob'), undefined)
  t.not(store.backend('gpt-4o', 'openai'), undefined)
  t.not(store.user('alice'), undefined)
  store.record(sample({ model: 'old', backend: 'gone', now: T0 + 900_000 }))
  t.equal(store.backend('old', 'gone')?.sum(T0 + 900_000, 90, new WindowTotals(store.trafficShape)).counters[REQUESTS], 1, 'and starts afresh when traffic comes back')
})

t.test('a backend series holds 29.5 KB and a user series 5 KB, for any traffic', async (t) => {
  const store = new TrafficStore({ startedAt: T0 })
  for (let i = 0; i < 100_000; i++) store.record(sample({ now: T0 + i * 50, latencyMs: i % 9000, ttfbMs: i % 700, user: `u${i % 10}` }))
  const backend = store.backend('gpt-4o', 'openai')?.bytes ?? 0
  const user = store.user('u0')?.bytes ?? 0
  t.equal(backend, 29_520, 'bytes per backend')
  t.equal(user, 5_040, 'bytes per user')
  t.equal(store.series, 1 + 1 + 10)
})
