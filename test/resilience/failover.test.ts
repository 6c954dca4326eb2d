/**
 * Fault injection on real sockets, one behaviour per test. Backend `a` is
 * always drawn first (random = 0), so every fault lands on it.
 */
import t, { type Test } from 'tap'
import { ADMIN_TOKEN, startBerry } from '../helpers/berry.js'
import { gatewayConfig, type TomlValue } from '../helpers/config.js'
import { deadOrigin, hang, json, reset, sse, startUpstream, status, type Behaviour, type FakeUpstream } from '../helpers/fake-upstream.js'

/** Backends `a` (0.5 s timeout) and `b`; two failures open a circuit for 30 s. */
function config (a: string, b: string, settings: Record<string, TomlValue> = {}): string {
  return gatewayConfig({
    providers: { a: { origin: a, timeout_seconds: 0.5 }, b },
    settings: { circuit_breaker_failure_threshold: 2, circuit_breaker_timeout_seconds: 30, ...settings }
  })
}

async function upstream (t: Test, behaviour: Behaviour): Promise<FakeUpstream> {
  const u = await startUpstream(behaviour)
  t.teardown(() => u.close())
  return u
}

const ask = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }

for (const [name, behaviour] of [
  ['HTTP 500', status(500)],
  ['HTTP 503', status(503)],
  ['429 with Retry-After', status(429, { error: { message: 'slow down' } }, { 'retry-after': '7' })],
  ['a reset connection', reset()],
  ['headers never sent (timeout)', hang()]
] as const) {
  t.test(`fails over on ${name}`, async (t) => {
    const a = await upstream(t, behaviour)
    const b = await upstream(t, json('from b'))
    const berry = await startBerry(t, { config: config(a.origin, b.origin), random: () => 0 })
    const res = await berry.post('/v1/chat/completions', ask)
    t.equal(res.status, 200)
    t.equal((await res.json()).choices[0].message.content, 'from b')
    t.equal(res.headers.get('x-berry-backend'), 'b')
    t.equal(res.headers.get('x-berry-attempts'), '2')
    t.equal(res.headers.get('retry-after'), null, 'no header of the failed attempt leaks')
    t.equal(a.received.length, 1)
    t.equal(b.received[0]!.json.model, 'model-b', 'the body is rewritten for the next backend')
    t.equal(b.received[0]!.headers.authorization, 'Bearer sk-b-secret')
  })
}

t.test('fails over on a refused connection', async (t) => {
  const b = await upstream(t, json('from b'))
  const berry = await startBerry(t, { config: config(await deadOrigin(), b.origin), random: () => 0 })
  const res = await berry.post('/v1/chat/completions', ask)
  t.equal(res.status, 200)
  t.equal(res.headers.get('x-berry-attempts'), '2')
  await res.arrayBuffer()
})

t.test('a 429 with Retry-After cools the backend for that long', async (t) => {
  let now = 1_000_000
  const a = await upstream(t, status(429, {}, { 'retry-after': '7' }))
  const b = await upstream(t, json())
  const berry = await startBerry(t, { config: config(a.origin, b.origin), random: () => 0, now: () => now })
  await (await berry.post('/v1/chat/completions', ask)).arrayBuffer()
  a.behave(json('a is back'))
  now += 6_000
  const cooling = await berry.post('/v1/chat/completions', ask)
  t.equal(cooling.headers.get('x-berry-backend'), 'b', 'still cooling')
  await cooling.arrayBuffer()
  now += 1_000
  const back = await berry.post('/v1/chat/completions', ask)
  t.equal(back.headers.get('x-berry-backend'), 'a', 'cooldown over: the trial goes to a')
  await back.arrayBuffer()
})

t.test('the final error lists every attempt; no secrets, no addresses', async (t) => {
  const a = await upstream(t, status(500))
  const b = await upstream(t, status(502))
  const berry = await startBerry(t, { config: config(a.origin, b.origin), random: () => 0 })
  const res = await berry.post('/v1/chat/completions', ask)
  t.equal(res.status, 502)
  const text = await res.text()
  t.same(JSON.parse(text).error, {
    message: "All 2 backends tried for model 'gpt-4o' failed: a: HTTP 500; b: HTTP 502",
    type: 'upstream_error',
    code: 'BERRY_ERR_ALL_ATTEMPTS_FAILED'
  })
  t.notMatch(text, /sk-|127\.0\.0\.1/)
})

t.test('every attempt rate limited: a 429 with the soonest Retry-After, as OpenAI sends it', async (t) => {
  const now = Date.UTC(2026, 0, 1)
  const a = await upstream(t, status(429, { error: { message: 'a is busy' } }, { 'retry-after': '7' }))
  // An HTTP date, read against berry's clock, not the machine's.
  const b = await upstream(t, status(429, { error: { message: 'b is busy' } }, { 'retry-after': new Date(now + 4_200).toUTCString() }))
  const berry = await startBerry(t, { config: config(a.origin, b.origin), random: () => 0, now: () => now })
  const res = await berry.post('/v1/chat/completions', ask)
  t.equal(res.status, 429)
  t.equal(res.headers.get('retry-after'), '4', "b's date is 4 s after berry's clock (the HTTP date has whole seconds)")
  t.same((await res.json()).error, {
    message: "Rate limit reached for model 'gpt-4o' on every backend tried (a, b). Retry in 4s.",
    type: 'rate_limit_error',
    code: 'rate_limit_exceeded'
  })
  t.equal(a.received.length + b.received.length, 2)
})

t.test('rate limited and failing: still an outage (502)', async (t) => {
  const a = await upstream(t, status(429, {}, { 'retry-after': '7' }))
  const b = await upstream(t, status(500))
  const berry = await startBerry(t, { config: config(a.origin, b.origin), random: () => 0 })
  const res = await berry.post('/v1/chat/completions', ask)
  t.equal(res.status, 502)
  t.equal((await res.json()).error.code, 'BERRY_ERR_ALL_ATTEMPTS_FAILED')
})

t.test('max_retries bounds the attempts', async (t) => {
  const a = await upstream(t, status(500))
  const b = await upstream(t, json())
  const berry = await startBerry(t, { config: config(a.origin, b.origin, { max_retries: 1 }), random: () => 0 })
  const res = await berry.post('/v1/chat/completions', ask)
  t.equal(res.status, 500, 'one attempt: the upstream answer as it came')
  await res.arrayBuffer()
  t.equal(b.received.length, 0)
})

t.test('pinned requests never fail over, and reach a sick backend', async (t) => {
  const a = await upstream(t, status(500))
  const b = await upstream(t, json())
  const berry = await startBerry(t, { config: config(a.origin, b.origin), random: () => 0 })
  for (let i = 0; i < 3; i++) {
    const res = await berry.post('/v1/chat/completions', { ...ask, backend: 'a' })
    t.equal(res.status, 500)
    await res.arrayBuffer()
  }
  t.equal(a.received.length, 3, 'pinned requests went to the open circuit')
  t.equal(b.received.length, 0)
  const [stateA, stateB] = (await (await berry.get('/admin/backends', ADMIN_TOKEN)).json()).models[0].backends
  t.match(stateA, { provider: 'a', health: 'open', consecutive_failures: 3 }, "a's circuit opened at the second failure, and the third pinned request still went to it")
  t.match(stateB, { provider: 'b', health: 'healthy', consecutive_failures: 0 })
  t.equal(berry.app.berry.health().status, 'healthy', 'b still serves the model')
  t.same(berry.app.berry.health().summary.provider_health, { total: 2, healthy: 1, ratio: 0.5 }, 'a is out of rotation')
})

t.test('a stream cut after the first chunk ends with an error event, never [DONE]', async (t) => {
  const a = await upstream(t, sse({ chunks: 5, cutAfter: 2 }))
  const b = await upstream(t, json())
  const berry = await startBerry(t, { config: config(a.origin, b.origin), random: () => 0 })
  const res = await berry.post('/v1/chat/completions', { ...ask, stream: true })
  t.equal(res.status, 200)
  const text = await res.text()
  t.equal(text.match(/"c\d"/g)?.length, 2)
  t.notMatch(text, '[DONE]')
  const last = text.trim().split('\n\n').pop()!
  t.match(JSON.parse(last.replace(/^data: /, '')), { error: { type: 'upstream_error', code: 'BERRY_ERR_STREAM_INTERRUPTED', message: /^The stream from backend 'a' broke off/ } })
  t.equal(b.received.length, 0, 'no failover once bytes went out')
})

t.test('a JSON body cut half-way breaks the client connection, never a short document', async (t) => {
  const a = await upstream(t, (_req, res) => {
    const body = JSON.stringify({ id: 'x', object: 'chat.completion', choices: [{ message: { content: 'a'.repeat(2000) } }] })
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length) })
    res.write(body.slice(0, 1000))
    setTimeout(() => res.socket?.destroy(), 50)
  })
  const b = await upstream(t, json())
  const berry = await startBerry(t, { config: config(a.origin, b.origin), random: () => 0 })
  const res = await berry.post('/v1/chat/completions', ask)
  t.equal(res.status, 200)
  await t.rejects(res.text(), 'the client sees the body break, not a complete response')
  t.equal(b.received.length, 0, 'no failover once bytes went out')
})

t.test('an upstream that goes silent mid-stream hits the idle timeout', async (t) => {
  const a = await upstream(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write('data: {"choices":[{"delta":{"content":"c0"}}]}\n\n')
  })
  const b = await upstream(t, json())
  const berry = await startBerry(t, { config: config(a.origin, b.origin, { stream_idle_timeout_seconds: 0.3 }), random: () => 0 })
  const res = await berry.post('/v1/chat/completions', { ...ask, stream: true })
  const text = await res.text()
  t.match(text, /broke off: the upstream went silent/)
  t.notMatch(text, '[DONE]')
})

t.test('all backends down: the soonest to cool is tried, then 503', async (t) => {
  let now = 5_000_000
  const a = await upstream(t, status(500))
  const b = await upstream(t, status(500))
  const berry = await startBerry(t, { config: config(a.origin, b.origin), random: () => 0, now: () => now })
  for (let i = 0; i < 2; i++) await (await berry.post('/v1/chat/completions', ask)).arrayBuffer()
  t.equal(berry.app.berry.health().status, 'unhealthy')
  const health = await berry.get('/health', null)
  t.equal(health.status, 503)
  t.same((await health.json()).summary.model_health, { total: 1, healthy: 0, ratio: 0 })
  now += 1
  const before = a.received.length + b.received.length
  const res = await berry.post('/v1/chat/completions', ask)
  t.equal(res.status, 503)
  t.match((await res.json()).error, { code: 'BERRY_ERR_NO_BACKEND', message: /^No backend available for model 'gpt-4o': every backend is unhealthy; tried a: HTTP 500/ })
  t.ok(a.received.length + b.received.length > before, 'it tried rather than failing without trying')
})

t.test('recovery after the cooldown: half-open trial, then healthy', async (t) => {
  let now = 9_000_000
  const a = await upstream(t, status(500))
  const b = await upstream(t, json())
  const berry = await startBerry(t, { config: config(a.origin, b.origin), random: () => 0, now: () => now })
  for (let i = 0; i < 2; i++) await (await berry.post('/v1/chat/completions', ask)).arrayBuffer()
  t.equal((await (await berry.get('/admin/backends')).json()).error.code, 'BERRY_ERR_ADMIN_ONLY')
  t.match((await (await berry.get('/admin/backends', ADMIN_TOKEN)).json()).models[0].backends[0], { health: 'open', consecutive_failures: 2, last_error: 'HTTP 500' })
  a.behave(json('a healed'))
  now += 29_000
  const still = await berry.post('/v1/chat/completions', ask)
  t.equal(still.headers.get('x-berry-backend'), 'b')
  await still.arrayBuffer()
  now += 1_000
  const trial = await berry.post('/v1/chat/completions', ask)
  t.equal(trial.headers.get('x-berry-backend'), 'a')
  await trial.arrayBuffer()
  const backends = (await (await berry.get('/admin/backends', ADMIN_TOKEN)).json()).models[0].backends
  t.match(backends[0], { provider: 'a', health: 'healthy', consecutive_failures: 0, effective_weight: 0.1 }, 'recovering at 10% weight')
})
