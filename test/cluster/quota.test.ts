/**
 * Token quotas (`[users.<id>.quota]`) over real sockets: exact across two
 * instances sharing a real redis-server, at most one request past the quota
 * per instance when nobody waits for the news, OpenAI's 429
 * `insufficient_quota` saying when the quota resets, and
 * `x-ratelimit-remaining-tokens` on answers; per process without Redis.
 */
import { Redis } from 'ioredis'
import t from 'tap'
import { ADMIN_TOKEN, startBerry, type RunningBerry } from '../helpers/berry.js'
import { chat, requestsLogged, within } from '../helpers/cluster.js'
import { DEFAULT_USERS, gatewayConfig } from '../helpers/config.js'
import { json, startUpstream } from '../helpers/fake-upstream.js'
import { redisServerAvailable, startRedis } from '../helpers/redis-server.js'

const skip = redisServerAvailable() ? false : 'redis-server is not installed: the cluster tests need it (apt-get install redis-server)'

/** Each answer of the fake upstream reports 5 prompt + 1 completion tokens, and its own view of berry's key. */
const TOKENS_PER_REQUEST = 6

function nextUtcMidnight (): Date {
  const now = new Date()
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1))
}

const iso = (date: Date): string => date.toISOString().replace('.000Z', 'Z')

/** Resolves once `app` has heard `count` token totals from other instances in all. */
function totalsHeard (app: RunningBerry, count: number): Promise<unknown> {
  let seen = 0
  return app.log((l) => l.msg === 'berry: token totals from another instance' && ++seen >= count)
}

t.test('a daily quota holds exactly across two instances; the 429 says when it resets', { skip }, async (t) => {
  const redis = await startRedis(t)
  const up = await startUpstream(json('pong', { 'x-ratelimit-remaining-tokens': '999999' }))
  t.teardown(() => up.close())
  const config = gatewayConfig({
    providers: { one: up.origin },
    settings: { redis_url: redis.url },
    users: { ...DEFAULT_USERS, alice: { ...DEFAULT_USERS.alice, quota: { tokens_per_day: 20 } } }
  })
  const a = await startBerry(t, { config }, 'debug')
  const b = await startBerry(t, { config }, 'debug')
  const apps = [a, b]
  const served = [0, 0]

  const remaining: Array<string | null> = []
  for (let i = 0; i < 4; i++) {
    const app = apps[i % 2]!
    const other = apps[(i + 1) % 2]!
    const answer = await chat(app)
    t.equal(answer.status, 200, `request ${i + 1} is under the quota`)
    remaining.push(answer.headers.get('x-ratelimit-remaining-tokens'))
    served[i % 2]!++
    await requestsLogged(app, served[i % 2]!)
    // The other instance hears of it before the next request goes there.
    await within(1000, totalsHeard(other, served[i % 2]!), 'the new total reaching the other instance')
  }
  t.same(remaining, ['20', '14', '8', '2'], "berry's own count, over the upstream's header of the same name")

  const reset = nextUtcMidnight()
  for (const app of apps) {
    const refused = await chat(app)
    t.equal(refused.status, 429)
    t.match(refused.body, {
      error: {
        type: 'insufficient_quota',
        code: 'insufficient_quota',
        message: `You exceeded your token quota: 24 of 20 tokens per UTC day used. It resets at ${iso(reset)}, the start of the next UTC day`
      }
    })
    t.equal(refused.headers.get('x-ratelimit-remaining-tokens'), '0')
    const retryAfter = Number(refused.headers.get('retry-after'))
    const expected = (reset.getTime() - Date.now()) / 1000
    t.ok(Math.abs(retryAfter - expected) < 5, `Retry-After is the time to the reset (${retryAfter} s)`)
  }
  t.equal(up.received.length, 4, 'refused requests never reach the upstream')

  const admin = await chat(a, {}, ADMIN_TOKEN)
  t.equal(admin.status, 200, 'a user without a quota is not limited')
  t.equal(admin.headers.get('x-ratelimit-remaining-tokens'), '999999', "and gets the upstream's headers untouched")

  const inspect = new Redis(redis.url)
  t.teardown(() => inspect.disconnect())
  t.equal(await inspect.hget(`berry:tokens:${new Date().toISOString().slice(0, 10)}`, 'alice'), String(4 * TOKENS_PER_REQUEST))
})

t.test('without waiting for the news, at most one request per instance passes the quota', { skip }, async (t) => {
  const redis = await startRedis(t)
  const up = await startUpstream(json())
  t.teardown(() => up.close())
  const config = gatewayConfig({
    providers: { one: up.origin },
    settings: { redis_url: redis.url },
    users: { ...DEFAULT_USERS, alice: { ...DEFAULT_USERS.alice, quota: { tokens_per_day: 20 } } }
  })
  const apps = await Promise.all([0, 1, 2].map(() => startBerry(t, { config }, 'debug')))
  const statuses: number[] = []
  for (let i = 0; i < 12; i++) statuses.push((await chat(apps[i % 3]!)).status)
  const passed = statuses.filter((s) => s === 200).length
  const needed = Math.ceil(20 / TOKENS_PER_REQUEST)
  t.comment(`statuses in turn on three instances: ${statuses.join(' ')}`)
  t.ok(passed >= needed, `the quota was not cut short (${passed} passed)`)
  t.ok(passed <= needed + apps.length, `at most one request past the quota per instance (${passed} passed, ${needed} needed)`)
  t.same(statuses.slice(-3), [429, 429, 429], 'a round later every instance refuses')

  // When the news has settled every instance refuses, and the recorded total is exact.
  await Promise.all(apps.map((app, i) => requestsLogged(app, statuses.filter((_s, j) => j % 3 === i).length)))
  await Promise.all(apps.map((app) => app.app.berry.usage()))
  const inspect = new Redis(redis.url)
  t.teardown(() => inspect.disconnect())
  t.equal(Number(await inspect.hget(`berry:tokens:${new Date().toISOString().slice(0, 10)}`, 'alice')), passed * TOKENS_PER_REQUEST)
})

t.test('without Redis a monthly quota holds per process', async (t) => {
  const up = await startUpstream(json())
  t.teardown(() => up.close())
  const config = gatewayConfig({
    providers: { one: up.origin },
    users: { ...DEFAULT_USERS, alice: { ...DEFAULT_USERS.alice, quota: { tokens_per_month: 10 } } }
  })
  const a = await startBerry(t, { config })
  const b = await startBerry(t, { config })
  t.equal((await chat(a)).status, 200)
  await requestsLogged(a, 1)
  t.equal((await chat(a)).headers.get('x-ratelimit-remaining-tokens'), '4')
  await requestsLogged(a, 2)
  const refused = await chat(a)
  t.equal(refused.status, 429)
  const now = new Date()
  const reset = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1))
  t.match(refused.body.error.message, `You exceeded your token quota: 12 of 10 tokens per UTC month used. It resets at ${iso(reset)}, the start of the next UTC month`)
  t.equal((await chat(b)).status, 200, 'another process counts on its own')
  a.app.berry.reload(gatewayConfig({ providers: { one: up.origin } }))
  const lifted = await chat(a)
  t.equal(lifted.status, 200, 'a reload that takes the quota away lifts it at once')
  t.equal(lifted.headers.get('x-ratelimit-remaining-tokens'), null, 'and the header goes with it')
})
