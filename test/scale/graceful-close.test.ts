/**
 * `app.close()` drains berry for any host, not only the example app: the
 * plugin's own preClose hook lets proxied requests in flight finish for up
 * to `shutdown_grace_seconds`, then ends the rest (a stream with berry's
 * error event, a request still waiting for its upstream with 503), and
 * never blames a backend for either.
 */
import t, { type Test } from 'tap'
import type { FastifyServerOptions } from 'fastify'
import type { Writable } from 'node:stream'
import { ADMIN_TOKEN, startBerry, type RunningBerry } from '../helpers/berry.js'
import { gatewayConfig, type TomlValue } from '../helpers/config.js'
import { hang, json, sse, startUpstream, type Behaviour, type FakeUpstream } from '../helpers/fake-upstream.js'

const ask = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }
const askStream = { ...ask, stream: true }

async function upstream (t: Test, behaviour: Behaviour): Promise<FakeUpstream> {
  const u = await startUpstream(behaviour)
  t.teardown(() => u.close())
  return u
}

/** A host that lets requests reach berry while it closes (as the example app does). */
const drainingHost = (stream: Writable): FastifyServerOptions => ({ logger: { level: 'info', stream }, return503OnClosing: false })

/** Backend `a` drawn first; one failure would open a circuit, so a blamed backend shows. */
async function gateway (t: Test, a: string, b: string, settings: Record<string, TomlValue> = {}, host = drainingHost): Promise<RunningBerry> {
  const config = gatewayConfig({
    providers: { a, b },
    modelKeys: { strategy: 'failover' },
    backends: { b: { priority: 1 } },
    settings: { circuit_breaker_failure_threshold: 1, ...settings }
  })
  return startBerry(t, { config }, 'info', host)
}

async function readAll (res: Response): Promise<string> {
  return await res.text()
}

t.test('close waits for the stream in flight; meanwhile /health and new requests answer 503', async (t) => {
  const a = await upstream(t, sse({ chunks: 8, delayMs: 100 }))
  const b = await upstream(t, json())
  const berry = await gateway(t, a.origin, b.origin)
  const res = await berry.post('/v1/chat/completions', askStream)
  await a.requests(1)
  const closed = berry.app.close()
  await berry.log((line) => /closing, waiting up to 30s for 1 proxied requests in flight/.test(line.msg ?? ''))

  const health = await berry.get('/health', null)
  t.equal(health.status, 503)
  t.match(await health.json(), { status: 'draining', service_running: false, summary: { model_health: { healthy: 1 } } })
  t.equal(berry.app.berry.health().status, 'draining')

  const refused = await berry.post('/v1/chat/completions', ask)
  t.equal(refused.status, 503)
  t.equal(refused.headers.get('connection'), 'close')
  t.equal(refused.headers.get('retry-after'), '1')
  t.equal((await refused.json()).error.code, 'BERRY_ERR_SHUTTING_DOWN')
  t.equal(b.received.length, 0, 'a refused request reaches no upstream')

  const text = await readAll(res)
  t.equal(text.match(/"content":"c\d+"/g)?.length, 8)
  t.match(text, /data: \[DONE\]\n\n$/)
  await closed
  t.ok(berry.logs.some((line) => /every request in flight finished/.test(line.msg ?? '')))
  const refusedLog = await berry.log((line) => line.msg === 'berry request' && line.status === 503)
  t.equal(refusedLog.attempts, 0, 'refused before any attempt')
})

t.test('with Fastify\'s own return503OnClosing (the default), the stream in flight still finishes', async (t) => {
  const a = await upstream(t, sse({ chunks: 6, delayMs: 100 }))
  const b = await upstream(t, json())
  const berry = await gateway(t, a.origin, b.origin, {}, (stream) => ({ logger: { level: 'info', stream } }))
  const res = await berry.post('/v1/chat/completions', askStream)
  await a.requests(1)
  const closed = berry.app.close()
  await berry.log((line) => /closing, waiting up to/.test(line.msg ?? ''))
  const refused = await berry.post('/v1/chat/completions', ask)
  t.equal(refused.status, 503, "Fastify's own 503 while it closes")
  t.equal(refused.headers.get('connection'), 'close')
  await refused.arrayBuffer()
  t.match(await readAll(res), /data: \[DONE\]\n\n$/)
  await closed
})

t.test('past the grace a stream ends with the error event, and the backend is not blamed', async (t) => {
  const a = await upstream(t, sse({ chunks: 100, delayMs: 50 }))
  const b = await upstream(t, json())
  const berry = await gateway(t, a.origin, b.origin, { shutdown_grace_seconds: 0.2 })
  const res = await berry.post('/v1/chat/completions', askStream)
  await a.requests(1)
  const health = berry.app.berry.health
  const closed = berry.app.close()
  const text = await readAll(res)
  t.equal(res.status, 200)
  t.notMatch(text, /\[DONE\]/)
  t.match(text, /"code":"BERRY_ERR_STREAM_INTERRUPTED"/)
  t.match(text, /broke off: the gateway is shutting down/)
  await a.aborts(1)
  await closed
  t.equal(health().summary.provider_health.healthy, 2, 'no circuit opened')
  const line = await berry.log((l) => l.msg === 'berry request')
  t.equal(line.status, 200)
  t.equal(line.body_error, 'the gateway is shutting down')
  t.ok(berry.logs.some((l) => /shutdown grace of 0\.2s over, ending 1 of 1 requests still in flight/.test(l.msg ?? '')))
  t.equal(b.received.length, 0, 'no failover')
})

t.test('past the grace a request waiting for its upstream gets 503, no failover, no blame', async (t) => {
  const a = await upstream(t, hang())
  const b = await upstream(t, json())
  const berry = await gateway(t, a.origin, b.origin, { shutdown_grace_seconds: 0.2 })
  const pending = berry.post('/v1/chat/completions', ask)
  await a.requests(1)
  const health = berry.app.berry.health
  const closed = berry.app.close()
  const res = await pending
  t.equal(res.status, 503)
  t.equal(res.headers.get('retry-after'), '1')
  t.equal((await res.json()).error.code, 'BERRY_ERR_SHUTTING_DOWN')
  await a.aborts(1)
  await closed
  t.equal(b.received.length, 0, 'no failover to the next backend')
  t.equal(health().summary.provider_health.healthy, 2, 'no circuit opened')
})

t.test('a close with nothing in flight is immediate and logs nothing about draining', async (t) => {
  const a = await upstream(t, json())
  const berry = await gateway(t, a.origin, a.origin)
  const res = await berry.post('/v1/chat/completions', ask)
  t.equal(res.status, 200)
  await res.arrayBuffer()
  await berry.app.close()
  t.notOk(berry.logs.some((line) => /closing, waiting/.test(line.msg ?? '')))
})

t.test('past the grace a request still waiting for an upstream connection gets 503 and is never sent', async (t) => {
  const a = await upstream(t, hang())
  const b = await upstream(t, json())
  const berry = await gateway(t, a.origin, b.origin, { shutdown_grace_seconds: 0.2, connections_per_origin: 1, upstream_queue_timeout_seconds: 30 })
  const first = berry.post('/v1/chat/completions', ask)
  await a.requests(1)
  const queued = berry.post('/v1/chat/completions', ask)
  // Queued behind the first on the one connection: visible in the gauge.
  while (!/berry_upstream_queued_requests\{provider="a"\} 1/.test(await (await berry.get('/metrics', ADMIN_TOKEN)).text())) await new Promise((resolve) => setImmediate(resolve))
  const closed = berry.app.close()
  for (const res of [await first, await queued]) {
    t.equal(res.status, 503)
    t.equal((await res.json()).error.code, 'BERRY_ERR_SHUTTING_DOWN')
  }
  await closed
  t.equal(a.received.length, 1, 'the queued request never reached the upstream')
  t.equal(b.received.length, 0)
  t.ok(berry.logs.some((l) => /ending 2 of 2 requests still in flight/.test(l.msg ?? '')))
})
