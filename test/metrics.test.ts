/**
 * GET /metrics after known traffic: exact counter values, the health gauges
 * read at scrape time, failovers, tokens, in-flight; who may scrape; the
 * options that move, open, share or turn off the route.
 */
import Fastify from 'fastify'
import { Counter, Registry, register as defaultRegistry } from 'prom-client'
import t from 'tap'
import berry from '../plugin/index.js'
import { ADMIN_TOKEN, startBerry, TOKEN, specConfig } from './helpers/berry.js'
import { json, sse, startUpstream, status } from './helpers/fake-upstream.js'

/** The value of one sample line, or undefined when it is absent. */
function sample (text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels)
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue
    const match = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (match === null || match[1] !== name) continue
    const have = new Map([...(match[2] ?? '').matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]))
    if (have.size !== wanted.length) continue
    if (wanted.every(([k, v]) => have.get(k) === v)) return Number(match[3])
  }
  return undefined
}

function twoBackends (bad: string, good: string): string {
  return `
[providers.flaky]
base_url = "${bad}/v1"
api_key = "sk-flaky-secret-0001"
circuit_breaker_failure_threshold = 1

[providers.steady]
base_url = "${good}/v1"
api_key = "sk-steady-secret-0002"

[models.chat]
name = "chat"

[[models.chat.backends]]
provider = "flaky"
model = "up-chat"

[[models.chat.backends]]
provider = "steady"
model = "up-chat"

[users.alice]
token = "${TOKEN}"

[users.ops]
token = "${ADMIN_TOKEN}"
tags = ["admin"]
`
}

t.test('counters, histograms and gauges after known traffic', async (t) => {
  const flaky = await startUpstream(status(500))
  const steady = await startUpstream(json())
  t.teardown(() => flaky.close())
  t.teardown(() => steady.close())
  const registry = new Registry()
  // random() = 0 picks the first backend (flaky) while it is healthy.
  const app = await startBerry(t, { config: twoBackends(flaky.origin, steady.origin), random: () => 0, metrics: { registry } })

  const first = await app.post('/v1/chat/completions', { model: 'chat', messages: [] })
  t.equal(first.status, 200, 'failed over to steady')
  await first.arrayBuffer()
  for (let i = 0; i < 2; i++) {
    const res = await app.post('/v1/chat/completions', { model: 'chat', messages: [] })
    await res.arrayBuffer()
  }
  const pinned = await app.post('/v1/chat/completions', { model: 'chat', messages: [], backend: 'flaky' })
  t.equal(pinned.status, 500)
  await pinned.arrayBuffer()
  const denied = await app.post('/v1/chat/completions', { model: 'chat', messages: [] }, 'wrong-token')
  t.equal(denied.status, 401)
  await denied.arrayBuffer()
  const missing = await app.post('/v1/chat/completions', { model: 'nope-model', messages: [] })
  t.equal(missing.status, 404)
  await missing.arrayBuffer()

  const res = await app.get('/metrics', ADMIN_TOKEN)
  t.equal(res.status, 200)
  t.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/)
  const text = await res.text()

  t.equal(sample(text, 'berry_requests_total', { model: 'chat', backend: 'steady', status: '200', pinned: 'false' }), 3)
  t.equal(sample(text, 'berry_requests_total', { model: 'chat', backend: 'flaky', status: '500', pinned: 'true' }), 1)
  t.equal(sample(text, 'berry_requests_total', { model: '', backend: '', status: '401', pinned: 'false' }), 1)
  t.equal(sample(text, 'berry_requests_total', { model: '', backend: '', status: '404', pinned: 'false' }), 1)
  t.equal(text.match(/^berry_requests_total\{/gm)?.length, 4, 'no other series')
  t.equal(sample(text, 'berry_failovers_total', { model: 'chat', from: 'flaky', to: 'steady' }), 1)
  t.equal(sample(text, 'berry_tokens_total', { user: 'alice', model: 'chat', backend: 'steady', type: 'prompt' }), 15)
  t.equal(sample(text, 'berry_tokens_total', { user: 'alice', model: 'chat', backend: 'steady', type: 'completion' }), 3)
  t.equal(sample(text, 'berry_request_duration_seconds_count', { model: 'chat', backend: 'steady' }), 3)
  t.equal(sample(text, 'berry_upstream_ttfb_seconds_count', { model: 'chat', backend: 'steady' }), 3)
  t.equal(sample(text, 'berry_upstream_ttfb_seconds_count', { model: 'chat', backend: 'flaky' }), 1, 'the pinned 500 went back as it came')
  t.equal(sample(text, 'berry_in_flight_requests'), 0)
  t.equal(sample(text, 'berry_backend_healthy', { model: 'chat', backend: 'flaky' }), 0)
  t.equal(sample(text, 'berry_backend_healthy', { model: 'chat', backend: 'steady' }), 1)
  t.ok((sample(text, 'berry_backend_response_time_seconds', { model: 'chat', backend: 'steady' }) ?? 0) > 0)
  t.equal(sample(text, 'berry_backend_response_time_seconds', { model: 'chat', backend: 'flaky' }), undefined, 'no success, no latency')
  t.notMatch(text, /sk-|test-user-token|test-admin-token/, 'no keys or tokens in labels')
})

t.test('in-flight requests while a stream is open', async (t) => {
  const upstream = await startUpstream(sse({ chunks: 3, delayMs: 150 }))
  t.teardown(() => upstream.close())
  const app = await startBerry(t, { config: specConfig({ openai: upstream.origin, claude: upstream.origin }) })
  const res = await app.post('/v1/chat/completions', { model: 'gpt-4o', messages: [], stream: true })
  const reader = res.body!.getReader()
  await reader.read()
  const during = await (await app.get('/metrics', ADMIN_TOKEN)).text()
  t.equal(sample(during, 'berry_in_flight_requests'), 1)
  while (!(await reader.read()).done);
  // onResponse runs once the last byte is written: the log line says it has.
  await app.log((l) => l.msg === 'berry request')
  const after = await (await app.get('/metrics', ADMIN_TOKEN)).text()
  t.equal(sample(after, 'berry_in_flight_requests'), 0)
  t.equal(sample(after, 'berry_requests_total', { model: 'gpt-4o', backend: 'openai_official', status: '200', pinned: 'false' }), 1)
})

t.test('who may scrape', async (t) => {
  const upstream = await startUpstream(json())
  t.teardown(() => upstream.close())
  const app = await startBerry(t, { config: specConfig({ openai: upstream.origin, claude: upstream.origin }) })
  const anonymous = await app.get('/metrics', null)
  t.equal(anonymous.status, 401)
  t.equal((await anonymous.json()).error.code, 'BERRY_ERR_UNAUTHENTICATED')
  const user = await app.get('/metrics', TOKEN)
  t.equal(user.status, 403)
  t.equal((await user.json()).error.code, 'BERRY_ERR_ADMIN_ONLY')
  t.equal((await app.get('/metrics', ADMIN_TOKEN)).status, 200)
})

t.test('metrics.public, metrics.path, a prefix, and metrics: false', async (t) => {
  const upstream = await startUpstream(json())
  t.teardown(() => upstream.close())
  const config = specConfig({ openai: upstream.origin, claude: upstream.origin })
  const open = await startBerry(t, { config, prefix: '/llm', metrics: { public: true, path: '/prom', registry: new Registry() } })
  const res = await open.get('/llm/prom', null)
  t.equal(res.status, 200)
  t.match(await res.text(), /# TYPE berry_requests_total counter/)
  t.equal((await open.get('/llm/metrics', ADMIN_TOKEN)).status, 404)

  const off = await startBerry(t, { config, metrics: false })
  t.equal((await off.get('/metrics', ADMIN_TOKEN)).status, 404)
  const chat = await off.post('/v1/chat/completions', { model: 'gpt-4o', messages: [] })
  t.equal(chat.status, 200, 'proxying works without metrics')
  await chat.arrayBuffer()
})

t.test("a host's registry: its own metrics and berry's on one page", async (t) => {
  const upstream = await startUpstream(json())
  t.teardown(() => upstream.close())
  const registry = new Registry()
  new Counter({ name: 'host_jobs_total', help: 'the host app', registers: [registry] }).inc(2)
  const app = await startBerry(t, { config: specConfig({ openai: upstream.origin, claude: upstream.origin }), metrics: { registry } })
  const text = await (await app.get('/metrics', ADMIN_TOKEN)).text()
  t.equal(sample(text, 'host_jobs_total'), 2)
  t.match(text, /# TYPE berry_requests_total counter/)
  t.match(await registry.metrics(), /berry_backend_healthy\{model="gpt-4o",backend="openai_official"\} 1/, 'and the host serves berry\'s')
})

t.test("prom-client's default registry: shared with the host, freed on close, never claimed twice", async (t) => {
  const upstream = await startUpstream(json())
  t.teardown(() => upstream.close())
  const config = specConfig({ openai: upstream.origin, claude: upstream.origin })
  const first = Fastify()
  await first.register(berry, { config })
  await first.ready()
  t.ok(defaultRegistry.getSingleMetric('berry_requests_total'), 'registered in the default registry')

  const second = Fastify()
  second.register(berry, { config })
  await t.rejects(async () => { await second.ready() }, { code: 'BERRY_ERR_INVALID_OPTS', message: /berry_requests_total.*metrics\.registry/ })
  await second.close()

  await first.close()
  t.equal(defaultRegistry.getSingleMetric('berry_requests_total'), undefined, 'removed on close')
  const third = Fastify()
  await third.register(berry, { config })
  await third.ready()
  await third.close()
})

t.test('bad metrics options are refused at register time', async (t) => {
  const config = specConfig({ openai: 'http://127.0.0.1:1', claude: 'http://127.0.0.1:1' })
  for (const metrics of [{ path: 'metrics' }, { path: '/m/' }, { public: 'yes' }, { registry: {} }, true, 'on']) {
    const app = Fastify()
    app.register(berry, { config, metrics: metrics as never })
    await t.rejects(async () => { await app.ready() }, { code: 'BERRY_ERR_INVALID_OPTS', message: /'metrics/ }, JSON.stringify(metrics))
    await app.close()
  }
})
