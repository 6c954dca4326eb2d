/**
 * Two berry instances share one user's rate-limit counters through a real
 * redis-server (started here, killed on teardown). Skipped, saying so, only
 * when the redis-server binary is absent; .ci/run installs it.
 */
import { Redis } from 'ioredis'
import { Registry } from 'prom-client'
import t from 'tap'
import { specConfig, startBerry } from './helpers/berry.js'
import { json, startUpstream } from './helpers/fake-upstream.js'
import { redisServerAvailable, startRedis } from './helpers/redis-server.js'

const skip = redisServerAvailable() ? false : 'redis-server is not installed: the shared rate-limit tests need it (apt-get install redis-server)'

t.test('two instances share one user budget through Redis', { skip }, async (t) => {
  const redis = await startRedis(t)
  const upstream = await startUpstream(json())
  t.teardown(() => upstream.close())
  const base = specConfig({ openai: upstream.origin, claude: upstream.origin }).replace('[users.alice]', '[users.alice]\nrate_limit = { requests_per_minute = 3 }')
  // One instance finds Redis in the config, the other is given the URL.
  const a = await startBerry(t, { config: `[settings]\nredis_url = "${redis.url}"\n${base}`, metrics: { registry: new Registry() } })
  const b = await startBerry(t, { config: base, redis: redis.url, metrics: { registry: new Registry() } })
  const chat = async (app: typeof a): Promise<Response> => {
    const res = await app.post('/v1/chat/completions', { model: 'gpt-4o', messages: [] })
    await res.clone().arrayBuffer()
    return res
  }
  const statuses = []
  for (const app of [a, b, a, b, a]) statuses.push((await chat(app)).status)
  t.same(statuses, [200, 200, 200, 429, 429])
  const remaining = (await chat(b)).headers.get('x-ratelimit-remaining')
  t.equal(remaining, '0')

  const inspect = new Redis(redis.url)
  t.teardown(() => inspect.disconnect())
  t.same(await inspect.keys('berry-rate-limit:*'), ['berry-rate-limit:minute:alice'], 'one counter, keyed by the user id')
  t.equal(await inspect.get('berry-rate-limit:minute:alice'), '6')
  const ttl = await inspect.pttl('berry-rate-limit:minute:alice')
  t.ok(ttl > 0 && ttl <= 60_000, 'expires with the window')
  // Resetting the shared counter (as its expiry would) frees both instances.
  await inspect.del('berry-rate-limit:minute:alice')
  t.equal((await chat(a)).status, 200)
  t.equal((await chat(b)).status, 200)
})

t.test("a host's ioredis client is used and left open", { skip }, async (t) => {
  const redis = await startRedis(t)
  const upstream = await startUpstream(json())
  t.teardown(() => upstream.close())
  const client = new Redis(redis.url)
  t.teardown(() => client.disconnect())
  const config = specConfig({ openai: upstream.origin, claude: upstream.origin }).replace('[users.alice]', '[users.alice]\nrate_limit = { requests_per_minute = 1 }')
  const app = await startBerry(t, { config, redis: client, metrics: { registry: new Registry() } })
  t.equal((await app.post('/v1/chat/completions', { model: 'gpt-4o', messages: [] })).status, 200)
  t.equal((await app.post('/v1/chat/completions', { model: 'gpt-4o', messages: [] })).status, 429)
  t.equal(await client.get('berry-rate-limit:minute:alice'), '2')
  await app.app.close()
  t.equal(await client.ping(), 'PONG', 'not closed by berry')
})

t.test('a lost Redis: no request fails, counting goes on in the process, a warning without the password', { skip }, async (t) => {
  const redis = await startRedis(t, { password: 'redis-secret-pw-123' })
  const upstream = await startUpstream(json())
  t.teardown(() => upstream.close())
  const config = specConfig({ openai: upstream.origin, claude: upstream.origin }).replace('[users.alice]', '[users.alice]\nrate_limit = { requests_per_minute = 1 }')
  const app = await startBerry(t, { config, redis: redis.url, metrics: { registry: new Registry() } })
  t.equal((await app.post('/v1/chat/completions', { model: 'gpt-4o', messages: [] })).status, 200)
  await redis.stop()
  const res = await app.post('/v1/chat/completions', { model: 'gpt-4o', messages: [] })
  t.equal(res.status, 200, 'the shared count is out of reach: this process counts from 0')
  t.equal((await app.post('/v1/chat/completions', { model: 'gpt-4o', messages: [] })).status, 429, 'and holds the limit itself')
  await app.log((l) => l.msg === 'berry: Redis is unavailable; health, usage, quotas and rate limits are per process until it returns')
  t.notOk(JSON.stringify(app.logs).includes('redis-secret-pw-123'), "the URL's password is not logged")
})
