/**
 * A request that finds every upstream connection busy
 * (`connections_per_origin`) waits visibly and for a bounded time: it is
 * counted in `berry_upstream_queued_requests`, and after
 * `upstream_queue_timeout_seconds` it ends in a 503 BERRY_ERR_UPSTREAM_BUSY
 * (or on another backend with room), counted in `berry_upstream_busy_total`
 * and never against the backend's circuit. Before this, such a request
 * waited silently until its client gave up.
 */
import t, { type Test } from 'tap'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { ADMIN_TOKEN, startBerry, type RunningBerry } from '../helpers/berry.js'
import { gatewayConfig, type TomlValue } from '../helpers/config.js'
import { completion, json, startUpstream } from '../helpers/fake-upstream.js'

/** An upstream that holds every answer until `release()`, and counts its TCP connections. */
interface HeldUpstream {
  readonly origin: string
  readonly models: string[]
  connections: number
  /** Resolves once `count` requests in all have arrived. */
  requests (count: number): Promise<void>
  /** Answers every request held so far. */
  release (): void
}

async function heldUpstream (t: Test): Promise<HeldUpstream> {
  const held: Array<{ res: ServerResponse, model: string }> = []
  const waiters: Array<{ count: number, resolve: () => void }> = []
  const state: HeldUpstream = {
    origin: '',
    models: [],
    connections: 0,
    requests: (count) => state.models.length >= count ? Promise.resolve() : new Promise((resolve) => waiters.push({ count, resolve })),
    release () {
      for (const { res, model } of held.splice(0)) {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify(completion(model)))
      }
    }
  }
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = ''
    req.on('data', (chunk: Buffer) => { body += chunk.toString('utf8') })
    req.on('end', () => {
      const model = String(JSON.parse(body).model)
      state.models.push(model)
      held.push({ res, model })
      for (const w of waiters.filter((w) => state.models.length >= w.count)) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve()
      }
    })
  })
  server.on('connection', () => { state.connections++ })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
  return Object.assign(state, { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })
}

const ask = (content: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ model: 'gpt-4o', messages: [{ role: 'user', content }], ...extra })

/** One connection per origin, a short wait, and a circuit that one failure would open. */
function settings (extra: Record<string, TomlValue> = {}): Record<string, TomlValue> {
  return { connections_per_origin: 1, upstream_queue_timeout_seconds: 0.3, circuit_breaker_failure_threshold: 1, ...extra }
}

async function metric (berry: RunningBerry, name: string, provider: string): Promise<number | undefined> {
  const text = await (await berry.get('/metrics', ADMIN_TOKEN)).text()
  const line = text.split('\n').find((l) => l.startsWith(`${name}{provider="${provider}"}`))
  return line === undefined ? undefined : Number(line.split(' ').at(-1))
}

/** Resolves once the metric reads `value` (scraped again while it does not). */
async function metricReaches (berry: RunningBerry, name: string, provider: string, value: number): Promise<void> {
  while (await metric(berry, name, provider) !== value) await new Promise((resolve) => setImmediate(resolve))
}

t.test('a request that finds the connection busy is counted, then gets 503 BERRY_ERR_UPSTREAM_BUSY; the circuit stays closed', async (t) => {
  const a = await heldUpstream(t)
  const berry = await startBerry(t, { config: gatewayConfig({ providers: { a: a.origin }, settings: settings() }) })
  const first = berry.post('/v1/chat/completions', ask('first'))
  await a.requests(1)
  const second = berry.post('/v1/chat/completions', ask('second'))
  await metricReaches(berry, 'berry_upstream_queued_requests', 'a', 1)

  const res = await second
  t.equal(res.status, 503)
  t.equal(res.headers.get('retry-after'), '1')
  t.same((await res.json()).error, {
    message: "Every connection to backend 'a' stayed busy for 0.3s; retry shortly",
    type: 'service_unavailable',
    code: 'BERRY_ERR_UPSTREAM_BUSY'
  })
  t.equal(await metric(berry, 'berry_upstream_queued_requests', 'a'), 0)
  t.equal(await metric(berry, 'berry_upstream_busy_total', 'a'), 1)
  t.equal(await metric(berry, 'berry_upstream_connections', 'a'), 1)
  t.equal(berry.app.berry.health().summary.provider_health.healthy, 1, 'a full pool is not a sick backend')
  const line = await berry.log((l) => l.msg === 'berry request' && l.status === 503)
  t.equal(line.attempts, 1)

  a.release()
  t.equal((await first).status, 200)
  // The given-up request reaches the head of undici's queue when the
  // connection frees: it is dropped unwritten, and the connection kept.
  const pending = berry.post('/v1/chat/completions', ask('third'))
  await a.requests(2)
  a.release()
  const third = await pending
  t.equal(third.status, 200)
  t.equal((await third.json()).choices[0].message.content, 'pong')
  t.equal(a.models.length, 2, 'the given-up request never reached the upstream')
  t.equal(a.connections, 1, 'and its connection was not closed for it')
})

t.test('a busy backend fails over to one with room', async (t) => {
  const a = await heldUpstream(t)
  const b = await startUpstream(json('from b'))
  t.teardown(() => b.close())
  const config = gatewayConfig({ providers: { a: a.origin, b: b.origin }, modelKeys: { strategy: 'failover' }, backends: { b: { priority: 1 } }, settings: settings() })
  const berry = await startBerry(t, { config })
  const first = berry.post('/v1/chat/completions', ask('first'))
  await a.requests(1)
  const res = await berry.post('/v1/chat/completions', ask('second'))
  t.equal(res.status, 200)
  t.equal(res.headers.get('x-berry-backend'), 'b')
  t.equal(res.headers.get('x-berry-attempts'), '2')
  t.equal((await res.json()).choices[0].message.content, 'from b')
  t.equal(await metric(berry, 'berry_upstream_busy_total', 'a'), 1)
  t.equal(berry.app.berry.health().summary.provider_health.healthy, 2)
  // The log stream may lag the answer: wait for the line rather than look once.
  await berry.log((l) => /Backend 'a' failed for model 'gpt-4o' \(upstream busy\); failing over to 'b'/.test(l.msg ?? ''))
  a.release()
  t.equal((await first).status, 200)
})

t.test('a request that gets a connection within the wait is served', async (t) => {
  const a = await heldUpstream(t)
  const berry = await startBerry(t, { config: gatewayConfig({ providers: { a: a.origin }, settings: settings({ upstream_queue_timeout_seconds: 30 }) }) })
  const first = berry.post('/v1/chat/completions', ask('first'))
  await a.requests(1)
  const second = berry.post('/v1/chat/completions', ask('second'))
  await metricReaches(berry, 'berry_upstream_queued_requests', 'a', 1)
  a.release()
  await a.requests(2)
  a.release()
  t.equal((await first).status, 200)
  t.equal((await second).status, 200)
  t.equal(await metric(berry, 'berry_upstream_queued_requests', 'a'), 0)
  t.equal(await metric(berry, 'berry_upstream_busy_total', 'a'), undefined, 'nothing was given up')
})

t.test('a client that leaves while its request waits is forgotten at once, and its request never sent', async (t) => {
  const a = await heldUpstream(t)
  const berry = await startBerry(t, { config: gatewayConfig({ providers: { a: a.origin }, settings: settings({ upstream_queue_timeout_seconds: 30 }) }) })
  const first = berry.post('/v1/chat/completions', ask('first'))
  await a.requests(1)
  const controller = new AbortController()
  const second = fetch(`${berry.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer test-user-token-123456' },
    body: JSON.stringify(ask('second')),
    signal: controller.signal
  })
  await metricReaches(berry, 'berry_upstream_queued_requests', 'a', 1)
  controller.abort()
  await t.rejects(second)
  await metricReaches(berry, 'berry_upstream_queued_requests', 'a', 0)
  const line = await berry.log((l) => l.msg === 'berry request' && l.status === 499)
  t.equal(line.backend, 'a')
  a.release()
  t.equal((await first).status, 200)
  const pending = berry.post('/v1/chat/completions', ask('third'))
  await a.requests(2)
  a.release()
  const third = await pending
  t.equal(third.status, 200)
  await third.arrayBuffer()
  t.equal(a.models.length, 2, 'the abandoned request was never sent upstream')
  t.equal(berry.app.berry.health().summary.provider_health.healthy, 1)
})

t.test('a pool still opening its connection is not busy: the connect timeout decides, and blames the backend', async (t) => {
  // Accepts TCP but never answers the TLS handshake: the connection stays
  // "being opened" until undici's connect timeout.
  const { createServer: createTcpServer } = await import('node:net')
  const sockets = new Set<Socket>()
  const silent = createTcpServer((socket) => { sockets.add(socket) })
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    for (const socket of sockets) socket.destroy()
    silent.close()
  })
  const origin = `https://127.0.0.1:${(silent.address() as AddressInfo).port}`
  const config = gatewayConfig({ providers: { a: { origin, timeout_seconds: 0.8 } }, settings: settings({ upstream_queue_timeout_seconds: 0.1 }) })
  const berry = await startBerry(t, { config })
  const res = await berry.post('/v1/chat/completions', ask('hi'))
  t.equal(res.status, 504)
  t.equal((await res.json()).error.code, 'BERRY_ERR_UPSTREAM_TIMEOUT')
  t.equal(await metric(berry, 'berry_upstream_busy_total', 'a'), undefined)
  t.equal(berry.app.berry.health().summary.provider_health.healthy, 0, 'a backend that cannot be reached is blamed as before')
})
