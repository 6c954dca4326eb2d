/**
 * Several berry instances in one process share backend health through a
 * real redis-server (started here): a circuit opened on one instance is
 * avoided by the others within a second, even by one whose clock is an hour
 * ahead; the trial and the closing travel too; news applied from elsewhere
 * is never sent again; an instance started later reads the current state;
 * smart_ai confidences converge. Skipped, saying so, only when the
 * redis-server binary is absent (.ci/run installs it).
 */
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import { ADMIN_TOKEN, startBerry, type RunningBerry } from '../helpers/berry.js'
import { chat, spyOnChannel, TestClock, within } from '../helpers/cluster.js'
import { gatewayConfig } from '../helpers/config.js'
import { json, startUpstream, status, type FakeUpstream } from '../helpers/fake-upstream.js'
import { redisServerAvailable, startRedis } from '../helpers/redis-server.js'

const skip = redisServerAvailable() ? false : 'redis-server is not installed: the cluster tests need it (apt-get install redis-server)'

const HOUR = 3_600_000
const BAD = 'bad/model-bad'
const FROM_ELSEWHERE = 'berry: backend health from another instance'

async function upstream (t: Test, behaviour = json()): Promise<FakeUpstream> {
  const u = await startUpstream(behaviour)
  t.teardown(() => u.close())
  return u
}

interface AdminBackend { provider: string, health: string, effective_weight: number, cooldown_until: string | null }

async function backendOf (app: RunningBerry, provider: string): Promise<AdminBackend> {
  const body = await (await app.get('/admin/backends', ADMIN_TOKEN)).json()
  return body.models[0].backends.find((b: AdminBackend) => b.provider === provider)
}

/** A log line saying `app` applied another instance's `state` for the bad backend. */
function heard (app: RunningBerry, state: string): Promise<unknown> {
  return app.log((l) => l.msg === FROM_ELSEWHERE && l.backend === BAD && l.state === state)
}

t.test('a circuit opened on one instance is avoided by the others within 1 s; the trial and the closing follow', { skip }, async (t) => {
  const redis = await startRedis(t)
  const bad = await upstream(t, status(500))
  const good = await upstream(t)
  const config = gatewayConfig({
    providers: { bad: bad.origin, good: good.origin },
    settings: { redis_url: redis.url, circuit_breaker_failure_threshold: 1, circuit_breaker_timeout_seconds: 60, max_retries: 1 }
  })
  const spy = await spyOnChannel(redis.url)
  t.teardown(() => spy.close())
  // `a` always draws the first backend it may (bad, once it is let through);
  // `b` runs an hour ahead: instants from `a` would mean nothing there.
  const clockA = new TestClock()
  const clockB = new TestClock(HOUR)
  const a = await startBerry(t, { config, now: clockA.now, random: () => 0 }, 'debug')
  const b = await startBerry(t, { config, now: clockB.now }, 'debug')
  const c = await startBerry(t, { config }, 'debug')

  const started = performance.now()
  const failed = await chat(a, { backend: 'bad' })
  t.equal(failed.status, 500, 'a pinned request to the failing backend fails, and opens its circuit on a')
  await within(1000, Promise.all([heard(b, 'open'), heard(c, 'open')]), 'the open circuit reaching b and c')
  const elapsed = performance.now() - started
  t.ok(elapsed < 1000, `request, open circuit and news reached b and c in ${elapsed.toFixed(1)} ms`)
  t.comment(`propagation of an open circuit (request included): ${elapsed.toFixed(1)} ms`)

  for (const app of [b, c]) {
    for (let i = 0; i < 6; i++) {
      const answer = await chat(app)
      t.equal(answer.status, 200)
      t.equal(answer.headers.get('x-berry-backend'), 'good')
    }
  }
  t.equal(bad.received.length, 1, 'the others sent the failing backend nothing')
  const onB = await backendOf(b, 'bad')
  t.equal(onB.health, 'open')
  const left = Date.parse(onB.cooldown_until ?? '') - clockB.now()
  t.ok(left > 55_000 && left <= 60_000, `b cools it for the time a had left, on b's own clock (${left} ms left)`)

  // A later instance reads the state from the hash.
  const d = await startBerry(t, { config }, 'debug')
  const onD = await backendOf(d, 'bad')
  t.equal(onD.health, 'open', 'an instance started later knows the circuit is open')
  const leftD = Date.parse(onD.cooldown_until ?? '') - Date.now()
  t.ok(leftD > 50_000 && leftD <= 60_000, `aged by the time it waited in Redis (${leftD} ms left)`)
  t.equal((await chat(d)).headers.get('x-berry-backend'), 'good')

  // The backend heals; a's cooldown ends (its clock moves), its trial goes and succeeds.
  bad.behave(json())
  clockA.offset = 61_000
  const trial = await chat(a)
  t.equal(trial.headers.get('x-berry-backend'), 'bad', 'a sends the trial')
  await within(1000, Promise.all([b, c, d].map(async (app) => { await heard(app, 'half_open'); await heard(app, 'healthy') })), 'the trial and the closing reaching the others')
  const healed = await backendOf(b, 'bad')
  t.equal(healed.health, 'healthy')
  t.equal(healed.effective_weight, 0.1, 'back at 10% of its weight, as on a')

  // Each transition was published once, by a alone: news applied elsewhere is not sent again.
  const sentinel = new Redis(redis.url)
  t.teardown(() => sentinel.disconnect())
  await sentinel.publish('berry:cluster', JSON.stringify({ v: 1, type: 'sentinel', from: 'test' }))
  await spy.next((m) => m.type === 'sentinel')
  const breakers = spy.messages.filter((m) => m.type === 'breaker' && m.key === BAD)
  t.same(breakers.map((m) => m.share.state), ['open', 'half_open', 'healthy'])
  t.equal(new Set(breakers.map((m) => m.from)).size, 1, 'all from one instance')

  const inspect = new Redis(redis.url)
  t.teardown(() => inspect.disconnect())
  const entry = await inspect.hget('berry:health:breakers', BAD)
  t.match(entry, /^\d+ \{"state":"healthy"\}$/, 'the hash holds the latest state, stamped with Redis time')
})

t.test('smart_ai confidences converge across instances, and a later instance starts from them', { skip }, async (t) => {
  const redis = await startRedis(t)
  const bad = await upstream(t, status(500))
  const good = await upstream(t)
  const config = gatewayConfig({
    providers: { bad: bad.origin, good: good.origin },
    modelKeys: { strategy: 'smart_ai' },
    settings: { redis_url: redis.url, max_retries: 1 }
  })
  const a = await startBerry(t, { config }, 'debug')
  const b = await startBerry(t, { config }, 'debug')
  const view = async (app: RunningBerry): Promise<Record<string, any>> => {
    const body = await (await app.get('/smart-ai/models/gpt-4o/weights?detailed=true', ADMIN_TOKEN)).json()
    return body.model.backends.find((x: { provider: string }) => x.provider === 'bad')
  }
  const before = await view(b)

  const started = performance.now()
  for (let i = 0; i < 3; i++) t.equal((await chat(a, { backend: 'bad' })).status, 500)
  let events = 0
  await within(1000, b.log((l) => l.msg === 'berry: backend confidence from another instance' && (events += l.events) >= 3), 'three outcomes reaching b')
  t.comment(`propagation of three confidence changes (requests included): ${(performance.now() - started).toFixed(1)} ms`)
  const onA = await view(a)
  const onB = await view(b)
  t.ok(onA.confidence < before.confidence, `a lost confidence in the failing backend (${before.confidence} -> ${onA.confidence})`)
  // Equal but for the time between the two reads (the confidence drifts back by the hour).
  t.ok(Math.abs(onB.confidence - onA.confidence) < 1e-4, `b holds the same confidence (${onB.confidence})`)
  t.same(onB.health_details.error_counts, onA.health_details.error_counts)
  t.equal(onB.health_details.total_requests, 3)
  t.equal(bad.received.length, 3, 'b learnt it without sending the backend anything')

  // b's own outcome moves both the same way.
  good.behave(json())
  t.equal((await chat(b, { backend: 'good' })).status, 200)
  await within(1000, a.log((l) => l.msg === 'berry: backend confidence from another instance'), 'b\'s outcome reaching a')

  const c = await startBerry(t, { config }, 'debug')
  const onC = await view(c)
  t.ok(Math.abs(onC.confidence - onA.confidence) < 1e-3, `a later instance starts from the shared record (${onC.confidence})`)
  t.equal(onC.health_details.total_requests, 3)
})

t.test('confidence learnt during a Redis outage reaches the others when Redis returns', { skip }, async (t) => {
  const dir = t.testdir()
  const redis = await startRedis(t, { dir })
  const bad = await upstream(t, status(500))
  const good = await upstream(t)
  const config = gatewayConfig({
    providers: { bad: bad.origin, good: good.origin },
    modelKeys: { strategy: 'smart_ai' },
    settings: { redis_url: redis.url, max_retries: 1 }
  })
  const a = await startBerry(t, { config }, 'debug')
  const b = await startBerry(t, { config }, 'debug')
  const confidence = async (app: RunningBerry): Promise<number> => {
    const body = await (await app.get('/smart-ai/models/gpt-4o/weights', ADMIN_TOKEN)).json()
    return body.model.backends.find((x: { provider: string }) => x.provider === 'bad').confidence
  }
  const down = 'berry: Redis is unavailable; health, usage, quotas and rate limits are per process until it returns'
  await redis.kill()
  await within(5000, Promise.all([a.log((l) => l.msg === down), b.log((l) => l.msg === down)]), 'the outage noticed')
  for (let i = 0; i < 2; i++) t.equal((await chat(a, { backend: 'bad' })).status, 500)
  // The changes wait for Redis: a's gathering window passes with nobody to tell.
  await a.log((l) => l.msg === 'berry request' && l.status === 500)
  const learnt = await confidence(a)
  t.ok(learnt < await confidence(b), 'b has not heard')

  await startRedis(t, { dir, port: redis.port })
  const back = 'berry: Redis is available again; shared state resynchronised'
  await within(5000, Promise.all([a.log((l) => l.msg === back), b.log((l) => l.msg === back)]), 'both resynchronised')
  // Changes a gathered while Redis was away go out as its whole record when
  // it resynchronises (or as events, if Redis was back before they were sent).
  await within(1000, b.log((l) => l.msg === 'berry: backend confidence records from another instance' || l.msg === 'berry: backend confidence from another instance'), 'a\'s news reaching b')
  const onB = await confidence(b)
  t.ok(Math.abs(onB - learnt) < 1e-3, `b holds a's confidence (${onB} and ${learnt})`)

  // A whole record from another instance takes the place of b's own.
  const { shareConfidence } = await import('../../plugin/health/shared-state.js')
  const { ConfidenceBook } = await import('../../plugin/health/confidence.js')
  const { DEFAULT_SMART_AI } = await import('../../plugin/config/smart-ai.js')
  const elsewhere = new ConfidenceBook(() => DEFAULT_SMART_AI)
  elsewhere.success('bad/model-bad', 1_000)
  const share = shareConfidence(elsewhere.record('bad/model-bad'), 1_000)
  const client = new Redis(redis.url)
  t.teardown(() => client.disconnect())
  const records = (l: Record<string, any>): boolean => l.msg === 'berry: backend confidence records from another instance'
  const before = b.logs.filter(records).length
  let seen = 0
  const arrived = b.log((l) => records(l) && ++seen > before)
  await client.publish('berry:cluster', JSON.stringify({ v: 1, type: 'confidence-records', from: 'elsewhere', records: [{ key: 'bad/model-bad', share }, { key: 'unknown/x', share }] }))
  await within(1000, arrived, 'the record reaching b')
  const replaced = await confidence(b)
  t.ok(Math.abs(replaced - 0.9) < 1e-4, `b holds the record it was sent: 0.8 + one success (${replaced}, drifting back toward 0.8 by the hour)`)
})

t.test('without Redis health stays per process', async (t) => {
  const bad = await upstream(t, status(500))
  const good = await upstream(t)
  const config = gatewayConfig({ providers: { bad: bad.origin, good: good.origin }, settings: { circuit_breaker_failure_threshold: 1, max_retries: 1 } })
  const a = await startBerry(t, { config })
  const b = await startBerry(t, { config, random: () => 0 })
  t.equal((await chat(a, { backend: 'bad' })).status, 500)
  t.equal((await backendOf(a, 'bad')).health, 'open')
  t.equal((await backendOf(b, 'bad')).health, 'healthy')
  t.equal((await chat(b)).headers.get('x-berry-backend'), 'bad', 'b still draws it')
})
