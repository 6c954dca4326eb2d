/** Hot reload: atomic swap, invalid configs rejected, health kept, no request lost under load. */
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { ADMIN_TOKEN, startBerry } from '../helpers/berry.js'
import { gatewayConfig, type TomlValue } from '../helpers/config.js'
import { json, sse, startUpstream, status } from '../helpers/fake-upstream.js'

function config (origins: Record<string, string>, settings?: Record<string, TomlValue>): string {
  return gatewayConfig({ providers: origins, ...(settings === undefined ? {} : { settings }) })
}

t.test('reload swaps backends, reports the change, keeps health of unchanged ones', async (t) => {
  const a = await startUpstream(status(401))
  const b = await startUpstream(json('from b'))
  t.teardown(() => a.close())
  t.teardown(() => b.close())
  const berry = await startBerry(t, { config: config({ a: a.origin, c: b.origin }), random: () => 0 })
  await (await berry.post('/v1/chat/completions', { model: 'gpt-4o', messages: [] })).arrayBuffer()
  const change = berry.app.berry.reload(config({ a: a.origin, b: b.origin }))
  t.same(change, { modelsAdded: [], modelsRemoved: [], backendsAdded: ['gpt_4o:b/model-b'], backendsRemoved: ['gpt_4o:c/model-c'] })
  const backends = (await (await berry.get('/admin/backends', ADMIN_TOKEN)).json()).models[0].backends
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
  let now = 1_000_000
  const a = await startUpstream(status(500))
  const b = await startUpstream(json())
  t.teardown(() => a.close())
  t.teardown(() => b.close())
  const text = config({ a: a.origin, b: b.origin }, { health_check_interval_seconds: 0.05, circuit_breaker_failure_threshold: 2, circuit_breaker_timeout_seconds: 10 })
  const berry = await startBerry(t, { config: text, now: () => now })
  const state = async () => (await (await berry.get('/admin/backends', ADMIN_TOKEN)).json()).models[0].backends[0]
  // A round of probes starts only once the last one was recorded: when the
  // third probe arrives, two failures have been counted.
  await a.requests(3)
  t.match(await state(), { provider: 'a', health: 'open', last_error: 'probe HTTP 500' })
  t.ok(a.received.every((r) => r.method === 'GET' && r.url === '/v1/models'), 'probes spend no tokens')
  a.behave(json())
  const seen = a.received.length
  await a.requests(seen + 2)
  t.equal((await state()).health, 'open', 'a passing probe does not close a circuit still cooling')
  now += 10_000
  await a.requests(a.received.length + 2)
  t.equal((await state()).health, 'healthy', 'after the cooldown, a passing probe closes it')
})
