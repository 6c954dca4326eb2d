/**
 * Redis trouble never fails or stalls a request. Two instances under load
 * lose their redis-server (SIGKILL) and get it back on the same port and
 * data directory: no request fails, none waits past the command timeout,
 * berry_redis_up goes 0 then 1, a circuit opened during the outage reaches
 * the other instance when Redis returns, and the usage totals come out
 * exact. A Redis that hangs (SIGSTOP) holds a request at most the command
 * timeout.
 */
import { Redis } from 'ioredis'
import t from 'tap'
import { ADMIN_TOKEN, startBerry, TOKEN, type RunningBerry } from '../helpers/berry.js'
import { chat, metricValue, requestsLogged, within } from '../helpers/cluster.js'
import { DEFAULT_USERS, gatewayConfig } from '../helpers/config.js'
import { json, startUpstream, status } from '../helpers/fake-upstream.js'
import { freePort } from '../helpers/child-process.js'
import { redisServerAvailable, startRedis } from '../helpers/redis-server.js'
import { COMMAND_TIMEOUT_MS } from '../../plugin/cluster/redis-link.js'

const skip = redisServerAvailable() ? false : 'redis-server is not installed: the cluster tests need it (apt-get install redis-server)'

const DOWN = 'berry: Redis is unavailable; health, usage, quotas and rate limits are per process until it returns'
const BACK = 'berry: Redis is available again; shared state resynchronised'
/** Generous for a loaded 2-core machine; the point is that nothing waits for Redis beyond its timeout. */
const LATENCY_BOUND_MS = COMMAND_TIMEOUT_MS + 1000

async function redisUp (app: RunningBerry): Promise<number | undefined> {
  return metricValue(await (await app.get('/metrics', ADMIN_TOKEN)).text(), 'berry_redis_up')
}

/** Requests from `workers` clients in turn on `apps` until stopped, each status and latency kept. */
function load (apps: readonly RunningBerry[], workers: number) {
  const results: Array<{ status: number, ms: number, app: number }> = []
  const state = { running: true }
  const done = Promise.all(Array.from({ length: workers }, async (_w, worker) => {
    for (let i = worker; state.running; i += workers) {
      const app = i % apps.length
      const started = performance.now()
      const answer = await chat(apps[app]!, {}, TOKEN)
      results.push({ status: answer.status, ms: performance.now() - started, app })
    }
  }))
  return {
    results,
    /** Resolves once `count` more requests have ended. */
    async more (count: number): Promise<void> {
      const target = results.length + count
      while (results.length < target) await new Promise((resolve) => setImmediate(resolve))
    },
    async stop (): Promise<void> {
      state.running = false
      await done
    }
  }
}

t.test('Redis killed mid-load and back: no request lost or stalled, berry_redis_up 0 then 1, state resynchronised, usage exact', { skip }, async (t) => {
  const dir = t.testdir()
  const redis = await startRedis(t, { dir })
  const good = await startUpstream(json())
  const bad = await startUpstream(status(500))
  t.teardown(() => good.close())
  t.teardown(() => bad.close())
  const config = gatewayConfig({
    providers: { good: good.origin, bad: { origin: bad.origin } },
    backends: { bad: { weight: 0 } },
    settings: { redis_url: redis.url, circuit_breaker_failure_threshold: 1, max_retries: 1 },
    // Every request of alice goes through the shared rate limit and quota.
    users: { ...DEFAULT_USERS, alice: { ...DEFAULT_USERS.alice, rate_limit: { requests_per_minute: 100_000 }, quota: { tokens_per_day: 1_000_000_000 } } }
  })
  const a = await startBerry(t, { config }, 'debug')
  const b = await startBerry(t, { config }, 'debug')
  t.equal(await redisUp(a), 1)

  const traffic = load([a, b], 4)
  await traffic.more(40)
  await redis.kill()
  await within(5000, Promise.all([a.log((l) => l.msg === DOWN), b.log((l) => l.msg === DOWN)]), 'both instances noticing the outage')
  t.equal(await redisUp(a), 0, 'berry_redis_up is 0 during the outage')
  t.equal(await redisUp(b), 0)

  // A circuit opens on a while Redis is away: b cannot hear of it yet.
  t.equal((await chat(a, { backend: 'bad' }, ADMIN_TOKEN)).status, 500)
  await traffic.more(40)

  await startRedis(t, { dir, port: redis.port })
  await within(5000, Promise.all([a.log((l) => l.msg === BACK), b.log((l) => l.msg === BACK)]), 'both instances resynchronising')
  t.equal(await redisUp(a), 1, 'berry_redis_up is 1 again')
  t.equal(await redisUp(b), 1)
  await within(1000, b.log((l) => l.msg === 'berry: backend health from another instance' && l.backend === 'bad/model-bad' && l.state === 'open'), 'the circuit opened during the outage reaching b')
  const onB = (await (await b.get('/admin/backends', ADMIN_TOKEN)).json()).models[0].backends.find((x: { provider: string }) => x.provider === 'bad')
  t.equal(onB.health, 'open')

  await traffic.more(40)
  await traffic.stop()
  const { results } = traffic
  t.same(results.filter((r) => r.status !== 200), [], `all ${results.length} requests answered 200`)
  const slowest = Math.max(...results.map((r) => r.ms))
  t.ok(slowest < LATENCY_BOUND_MS, `none waited for Redis: the slowest took ${slowest.toFixed(1)} ms`)
  t.comment(`${results.length} requests through the outage; slowest ${slowest.toFixed(1)} ms`)

  // Usage: what went to Redis before the kill (on disk), what waited in the
  // instances during the outage, and what came after, each counted once.
  const perApp = [0, 1].map((i) => results.filter((r) => r.app === i).length)
  await Promise.all([requestsLogged(a, perApp[0]! + 1), requestsLogged(b, perApp[1]!)])
  await Promise.all([a, b].map((app) => app.app.berry.usage()))
  const totals = await b.app.berry.usage({ user: 'alice' })
  t.equal(totals.reduce((sum, row) => sum + row.requests, 0), results.length, 'every request of alice counted once')
  t.equal(totals.reduce((sum, row) => sum + row.prompt_tokens, 0), results.length * 5)
})

t.test('a Redis that hangs holds a request at most the command timeout, then the instance goes on alone', { skip }, async (t) => {
  const redis = await startRedis(t)
  const up = await startUpstream(json())
  t.teardown(() => up.close())
  const config = gatewayConfig({
    providers: { one: up.origin },
    settings: { redis_url: redis.url },
    users: { ...DEFAULT_USERS, alice: { ...DEFAULT_USERS.alice, rate_limit: { requests_per_minute: 1000 } } }
  })
  const a = await startBerry(t, { config })
  t.equal((await chat(a)).status, 200)
  redis.pause()
  const times: number[] = []
  for (let i = 0; i < 5; i++) {
    const started = performance.now()
    t.equal((await chat(a)).status, 200)
    times.push(performance.now() - started)
  }
  t.ok(Math.max(...times) < LATENCY_BOUND_MS, `each request waited at most about the command timeout (${times.map((x) => x.toFixed(0)).join(', ')} ms)`)
  await within(5000, a.log((l) => l.msg === DOWN), 'the hang noticed')
  t.equal(await redisUp(a), 0)
  redis.resume()
  await within(5000, a.log((l) => l.msg === BACK), 'Redis answering again')
  t.equal(await redisUp(a), 1)
  t.equal((await chat(a)).status, 200)
})

t.test('an instance started while Redis is away serves on local state and catches up when Redis comes', { skip }, async (t) => {
  const port = await freePort()
  const up = await startUpstream(json())
  t.teardown(() => up.close())
  const config = gatewayConfig({ providers: { one: up.origin }, settings: { redis_url: `redis://127.0.0.1:${port}` } })
  const started = performance.now()
  const a = await startBerry(t, { config })
  const waited = performance.now() - started
  t.ok(waited < 2000 + 1000, `it waited for Redis a bounded time (${waited.toFixed(0)} ms)`)
  t.ok(a.logs.some((l) => l.msg === DOWN), 'and said once that Redis is away')
  for (let i = 0; i < 3; i++) t.equal((await chat(a)).status, 200)
  await requestsLogged(a, 3)
  t.equal(await redisUp(a), 0)
  t.equal((await a.get('/admin/usage', ADMIN_TOKEN)).status, 503, 'the shared totals cannot be read yet')

  const redis = await startRedis(t, { port })
  await within(5000, a.log((l) => l.msg === BACK), 'Redis found')
  t.equal(await redisUp(a), 1)
  const inspect = new Redis(redis.url)
  t.teardown(() => inspect.disconnect())
  t.equal(await inspect.hget(`berry:tokens:${new Date().toISOString().slice(0, 10)}`, 'alice'), '18', 'the usage held during the outage was written')
  t.equal((await a.app.berry.usage())[0]?.requests, 3)
})
