/** Hot reload: atomic swap, invalid configs rejected, health kept, no request lost under load. */
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { startBerry, TOKEN } from '../helpers/berry.js'
import { json, sse, startUpstream, status } from '../helpers/fake-upstream.js'

function config (origins: Record<string, string>, model = 'gpt_4o'): string {
  let text = `[users.u]\ntoken = "${TOKEN}"\n[users.ops]\ntoken = "ops-admin-token"\ntags = ["admin"]\n`
  for (const [id, origin] of Object.entries(origins)) {
    text += `\n[providers.${id}]\nbase_url = "${origin}/v1"\napi_key = "sk-${id}-secret"\n\n[[models.${model}.backends]]\nprovider = "${id}"\nmodel = "m-${id}"\n`
  }
  return text
}

t.test('reload swaps backends, reports the change, keeps health of unchanged ones', async (t) => {
  const a = await startUpstream(status(401))
  const b = await startUpstream(json('from b'))
  t.teardown(() => a.close())
  t.teardown(() => b.close())
  const berry = await startBerry(t, { config: config({ a: a.origin, c: b.origin }), random: () => 0 })
  await (await berry.post('/v1/chat/completions', { model: 'gpt-4o', messages: [] })).arrayBuffer()
  const change = berry.app.berry.reload(config({ a: a.origin, b: b.origin }))
  t.same(change, { modelsAdded: [], modelsRemoved: [], backendsAdded: ['gpt_4o:b/m-b'], backendsRemoved: ['gpt_4o:c/m-c'] })
  const backends = (await (await berry.get('/admin/backends', 'ops-admin-token')).json()).models[0].backends
  t.match(backends[0], { provider: 'a', health: 'open' }, 'a is still known to be sick')
  const res = await berry.post('/v1/chat/completions', { model: 'gpt-4o', messages: [] })
  t.equal(res.headers.get('x-berry-backend'), 'b')
  await res.arrayBuffer()
})

t.test('an invalid config is rejected with path-naming errors; the old one stays', async (t) => {
  const a = await startUpstream(json())
  t.teardown(() => a.close())
  const berry = await startBerry(t, { config: config({ a: a.origin }) })
  t.throws(() => berry.app.berry.reload(config({ a: a.origin }).replace('provider = "a"', 'provider = "zz"')), {
    code: 'BERRY_ERR_INVALID_CONFIG', message: /models\.gpt_4o\.backends\[0\]\.provider: unknown provider 'zz'/
  })
  const res = await berry.post('/v1/chat/completions', { model: 'gpt-4o', messages: [] })
  t.equal(res.status, 200)
  await res.arrayBuffer()
})

t.test('reload under load loses no request; in-flight streams finish on the old config', async (t) => {
  const a = await startUpstream(sse({ chunks: 3, delayMs: 20 }))
  const b = await startUpstream(sse({ chunks: 3, delayMs: 20 }))
  t.teardown(() => a.close())
  t.teardown(() => b.close())
  const berry = await startBerry(t, { config: config({ a: a.origin }) })
  const configs = [config({ b: b.origin }), config({ a: a.origin }), config({ a: a.origin, b: b.origin })]
  const state = { stop: false }
  const reloader = (async () => {
    for (let i = 0; !state.stop; i++) {
      berry.app.berry.reload(configs[i % configs.length]!)
      await sleep(5)
    }
  })()
  const results = await Promise.all(Array.from({ length: 120 }, async () => {
    const res = await berry.post('/v1/chat/completions', { model: 'gpt-4o', stream: true, messages: [] })
    const text = await res.text()
    return res.status === 200 && text.endsWith('data: [DONE]\n\n')
  }))
  state.stop = true
  await reloader
  t.equal(results.filter(Boolean).length, 120, 'every request completed')
  t.ok(a.received.length > 0 && b.received.length > 0, 'both configs served traffic')
})

t.test('active probes mark a dead provider and bring it back', async (t) => {
  const a = await startUpstream(status(500))
  const b = await startUpstream(json())
  t.teardown(() => a.close())
  t.teardown(() => b.close())
  const text = config({ a: a.origin, b: b.origin }) + '\n[settings]\nhealth_check_interval_seconds = 0.05\ncircuit_breaker_failure_threshold = 2\ncircuit_breaker_timeout_seconds = 0.1\n'
  const berry = await startBerry(t, { config: text })
  const state = async () => (await (await berry.get('/admin/backends', 'ops-admin-token')).json()).models[0].backends[0]
  for (let i = 0; i < 100 && (await state()).health !== 'open'; i++) await sleep(20)
  t.match(await state(), { provider: 'a', health: 'open', last_error: 'probe HTTP 500' })
  t.ok(a.received.every((r) => r.method === 'GET' && r.url === '/v1/models'), 'probes spend no tokens')
  a.behave(json())
  for (let i = 0; i < 100 && (await state()).health !== 'healthy'; i++) await sleep(20)
  t.equal((await state()).health, 'healthy')
})
