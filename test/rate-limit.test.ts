/**
 * Per-user rate limits (in memory): keyed by the user, not the IP; 429 in
 * OpenAI's shape with Retry-After and x-ratelimit-* headers; windows that
 * reset with the clock (Date.now, which @fastify/rate-limit's LocalStore
 * reads, is moved by hand: no sleeping for a minute).
 */
import rateLimit from '@fastify/rate-limit'
import Fastify from 'fastify'
import t, { type Test } from 'tap'
import berry from '../plugin/index.js'
import { ADMIN_TOKEN, specConfig, startBerry, TOKEN } from './helpers/berry.js'
import { json, startUpstream } from './helpers/fake-upstream.js'

/** Date.now() under the test's control, from the real time of the call. */
function clock (t: Test): { advance (ms: number): void } {
  const realNow = Date.now.bind(Date)
  let offset = 0
  t.capture(Date, 'now', () => realNow() + offset)
  return { advance (ms) { offset += ms } }
}

async function setup (t: Test, limits: string) {
  const upstream = await startUpstream(json())
  t.teardown(() => upstream.close())
  const config = specConfig({ openai: upstream.origin, claude: upstream.origin }).replace('[users.alice]', `[users.alice]\nrate_limit = { ${limits} }`)
  const app = await startBerry(t, { config })
  const chat = async (token = TOKEN): Promise<Response> => {
    const res = await app.post('/v1/chat/completions', { model: 'gpt-4o', messages: [] }, token)
    await res.clone().arrayBuffer()
    return res
  }
  return { app, chat, upstream }
}

t.test('over the minute limit: 429 in OpenAI shape, then a reset with the clock', async (t) => {
  const time = clock(t)
  const { app, chat, upstream } = await setup(t, 'requests_per_minute = 3')
  for (let i = 0; i < 3; i++) {
    const res = await chat()
    t.equal(res.status, 200)
    t.equal(res.headers.get('x-ratelimit-limit'), '3')
    t.equal(res.headers.get('x-ratelimit-remaining'), String(2 - i))
    t.equal(res.headers.get('x-ratelimit-reset'), '60')
  }
  time.advance(20_000)
  const over = await chat()
  t.equal(over.status, 429)
  t.equal(over.headers.get('retry-after'), '40')
  t.equal(over.headers.get('x-ratelimit-limit'), '3')
  t.equal(over.headers.get('x-ratelimit-remaining'), '0')
  t.equal(over.headers.get('x-ratelimit-reset'), '40')
  t.same(await over.json(), {
    error: { message: 'Rate limit reached: 3 requests per minute. Retry in 40s', type: 'rate_limit_error', code: 'BERRY_ERR_RATE_LIMITED' }
  })
  t.equal(upstream.received.length, 3, 'the refused request never reached an upstream')

  const other = await chat(ADMIN_TOKEN)
  t.equal(other.status, 200, 'another user from the same IP is not limited')
  t.equal(other.headers.get('x-ratelimit-limit'), null, 'a user without limits gets no headers')

  time.advance(39_000)
  t.equal((await chat()).status, 429, 'still inside the window')
  time.advance(1_000)
  const again = await chat()
  t.equal(again.status, 200, 'the window reset')
  t.equal(again.headers.get('x-ratelimit-remaining'), '2')

  const line = app.logs.find((l) => l.msg === 'berry request' && l.status === 429)
  t.match(line, { user: 'alice', status: 429 }, 'refusals are logged like any request')
})

t.test('the hour window, and refusals by the minute window do not spend it', async (t) => {
  const time = clock(t)
  const { chat } = await setup(t, 'requests_per_minute = 1, requests_per_hour = 3')
  t.equal((await chat()).status, 200)
  const minute = await chat()
  t.equal(minute.status, 429)
  t.match((await minute.json()).error.message, /1 requests per minute/)
  time.advance(60_000)
  const second = await chat()
  t.equal(second.status, 200)
  t.equal(second.headers.get('x-ratelimit-limit'), '1', 'the tightest window is reported')
  t.equal(second.headers.get('x-ratelimit-remaining'), '0')
  time.advance(60_000)
  t.equal((await chat()).status, 200, 'the third of the hour: the refused one was not counted')
  time.advance(60_000)
  const hour = await chat()
  t.equal(hour.status, 429)
  t.match((await hour.json()).error.message, /3 requests per hour/)
  t.equal(hour.headers.get('retry-after'), String(3600 - 180))
  time.advance(3_600_000)
  t.equal((await chat()).status, 200)
})

t.test('limits follow a reload, and cover every authenticated route', async (t) => {
  const { app, chat, upstream } = await setup(t, 'requests_per_day = 2')
  t.equal((await chat()).status, 200)
  t.equal((await app.get('/v1/models')).status, 200)
  t.equal((await chat()).status, 429, 'the day budget is spent')
  app.app.berry.reload(specConfig({ openai: upstream.origin, claude: upstream.origin }))
  t.equal((await chat()).status, 200, 'no limit after the reload removed it')
})

t.test('a bad redis option is refused at register time', async (t) => {
  for (const redis of ['localhost:6379', 42, {}]) {
    const app = Fastify()
    app.register(berry, { config: specConfig({ openai: 'http://127.0.0.1:1', claude: 'http://127.0.0.1:1' }), redis: redis as never, metrics: false })
    await t.rejects(async () => { await app.ready() }, { code: 'BERRY_ERR_INVALID_OPTS', message: /'redis'/ })
    await app.close()
  }
})

t.test('a host that registered @fastify/rate-limit itself: berry limits through it', async (t) => {
  const upstream = await startUpstream(json())
  t.teardown(() => upstream.close())
  const app = Fastify()
  await app.register(rateLimit, { global: false })
  const config = specConfig({ openai: upstream.origin, claude: upstream.origin }).replace('[users.alice]', '[users.alice]\nrate_limit = { requests_per_minute = 1 }')
  await app.register(berry, { config, metrics: false })
  t.teardown(() => app.close())
  const chat = () => app.inject({ method: 'POST', url: '/v1/chat/completions', headers: { authorization: `Bearer ${TOKEN}` }, payload: { model: 'gpt-4o', messages: [] } })
  t.equal((await chat()).statusCode, 200)
  const over = await chat()
  t.equal(over.statusCode, 429)
  t.equal(over.json().error.code, 'BERRY_ERR_RATE_LIMITED')
})
