/**
 * Usage totals through a real redis-server: exact across three instances,
 * the same after every instance restarted, the same from `app.berry.usage()`
 * and `GET /admin/usage` on any of them; and a host's ioredis client (with
 * its key prefix) used without being closed.
 */
import { Redis } from 'ioredis'
import t from 'tap'
import { ADMIN_TOKEN, startBerry, TOKEN, type RunningBerry } from '../helpers/berry.js'
import { chat, requestsLogged } from '../helpers/cluster.js'
import { gatewayConfig } from '../helpers/config.js'
import { json, startUpstream, status } from '../helpers/fake-upstream.js'
import { redisServerAvailable, startRedis } from '../helpers/redis-server.js'

const skip = redisServerAvailable() ? false : 'redis-server is not installed: the cluster tests need it (apt-get install redis-server)'

t.test('usage totals are exact across instances and survive a restart of all of them', { skip }, async (t) => {
  const redis = await startRedis(t)
  const one = await startUpstream(json())
  const two = await startUpstream(status(503))
  t.teardown(() => one.close())
  t.teardown(() => two.close())
  const config = gatewayConfig({ providers: { one: one.origin, two: two.origin }, backends: { two: { weight: 0 } }, settings: { redis_url: redis.url, max_retries: 1 } })
  const day = new Date().toISOString().slice(0, 10)

  const start = (): Promise<RunningBerry[]> => Promise.all([0, 1, 2].map(() => startBerry(t, { config })))
  const [a, b, c] = await start()
  // alice: 4 on a, 3 on b; ops: 2 on c, one of them pinned to the failing backend.
  const plan: Array<[RunningBerry, string, Record<string, unknown>]> = [
    [a!, TOKEN, {}], [b!, TOKEN, {}], [a!, TOKEN, {}], [b!, TOKEN, {}], [a!, TOKEN, {}], [b!, TOKEN, {}], [a!, TOKEN, {}],
    [c!, ADMIN_TOKEN, {}], [c!, ADMIN_TOKEN, { backend: 'two' }]
  ]
  for (const [app, token, extra] of plan) await chat(app, extra, token)
  await Promise.all([requestsLogged(a!, 4), requestsLogged(b!, 3), requestsLogged(c!, 2)])

  const expected = [
    { user: 'alice', model: 'gpt_4o', backend: 'one', day, requests: 7, errors: 0, prompt_tokens: 35, completion_tokens: 7 },
    { user: 'ops', model: 'gpt_4o', backend: 'one', day, requests: 1, errors: 0, prompt_tokens: 5, completion_tokens: 1 },
    { user: 'ops', model: 'gpt_4o', backend: 'two', day, requests: 1, errors: 1, prompt_tokens: 0, completion_tokens: 0 }
  ]
  // Every instance's own batches written, then any of them reads the same totals.
  await Promise.all([a!, b!, c!].map((app) => app.app.berry.usage()))
  for (const app of [a!, b!, c!]) t.same(await app.app.berry.usage(), expected)
  const admin = await b!.get('/admin/usage?user=alice&from=' + day + '&to=' + day, ADMIN_TOKEN)
  t.same((await admin.json()).usage, [expected[0]], 'GET /admin/usage, filtered')

  // Every instance goes away (each writes what it still held), three new ones come.
  await Promise.all([a!, b!, c!].map((app) => app.app.close()))
  const [d, e] = await start()
  t.same(await d!.app.berry.usage(), expected, 'the totals survive a restart of every instance')
  await chat(e!)
  await requestsLogged(e!, 1)
  t.same((await e!.app.berry.usage({ user: 'alice' }))[0], { ...expected[0], requests: 8, prompt_tokens: 40, completion_tokens: 8 })
  t.same((await d!.app.berry.usage({ user: 'alice' }))[0]?.requests, 8, 'and d reads what e wrote')

  const inspect = new Redis(redis.url)
  t.teardown(() => inspect.disconnect())
  t.equal(await inspect.hget(`berry:tokens:${day}`, 'alice'), '48', 'the day\'s token total of alice')
  t.equal(await inspect.hget(`berry:tokens:${day.slice(0, 7)}`, 'ops'), '6', 'the month\'s token total of ops')
  t.same(await inspect.smembers('berry:usage:days'), [day])
})

t.test("a host's ioredis client: its key prefix is kept, it is left open, berry's own connections are closed", { skip }, async (t) => {
  const redis = await startRedis(t)
  const up = await startUpstream(json())
  t.teardown(() => up.close())
  const client = new Redis(redis.url, { keyPrefix: 'tenant1:' })
  t.teardown(() => client.disconnect())
  const config = gatewayConfig({ providers: { one: up.origin } })
  const app = await startBerry(t, { config, redis: client })
  await chat(app)
  await requestsLogged(app, 1)
  t.equal((await app.app.berry.usage())[0]?.requests, 1)
  const inspect = new Redis(redis.url)
  t.teardown(() => inspect.disconnect())
  const keys = await inspect.keys('*')
  t.ok(keys.length > 0 && keys.every((k) => k.startsWith('tenant1:berry:')), `every key under the host's prefix (${keys.join(', ')})`)
  const clients = (): Promise<number> => inspect.client('LIST').then((list) => String(list).trim().split('\n').length)
  const before = await clients()
  await app.app.close()
  t.equal(await client.ping(), 'PONG', "the host's client still works")
  t.equal(await clients(), before - 2, "berry's two connections are gone")
})
