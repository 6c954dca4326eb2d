/**
 * The per-request log line (one per proxied request, errors and client
 * aborts included), the spec's pinning lines beside it, and no secret of
 * the config in the log output, even under a logger that prints headers.
 */
import Fastify from 'fastify'
import { Registry } from 'prom-client'
import { Writable } from 'node:stream'
import t from 'tap'
import berry from '../plugin/index.js'
import { ADMIN_TOKEN, specConfig, startBerry, TOKEN } from './helpers/berry.js'
import { deadOrigin, json, sse, startUpstream, status } from './helpers/fake-upstream.js'

t.test('one line per proxied request, with ids, status, latency, attempts and tokens', async (t) => {
  const upstream = await startUpstream(json())
  t.teardown(() => upstream.close())
  const app = await startBerry(t, { config: specConfig({ openai: upstream.origin, claude: upstream.origin }) })
  const ok = await app.post('/v1/chat/completions', { model: 'gpt-4o', messages: [] })
  await ok.arrayBuffer()
  const pinned = await app.post('/v1/chat/completions', { model: 'claude-sonnet-4', messages: [], backend: 'anthropic_claude' })
  await pinned.arrayBuffer()
  const bad = await app.post('/v1/chat/completions', { model: 'gpt-4o', messages: [], backend: 'invalid_backend' })
  await bad.arrayBuffer()
  await (await app.get('/v1/models')).arrayBuffer()

  const lines = app.logs.filter((l) => l.msg === 'berry request')
  t.equal(lines.length, 3, 'proxied requests only')
  t.match(lines[0], { level: 30, reqId: String, user: 'alice', model: 'gpt-4o', backend: 'openai_official', pinned: false, status: 200, latency_ms: Number, attempts: 1, prompt_tokens: 5, completion_tokens: 1, total_tokens: 6, body_error: null })
  t.match(lines[1], { user: 'alice', model: 'claude-sonnet-4', backend: 'anthropic_claude', pinned: true, status: 200, attempts: 1 })
  t.match(lines[2], { user: 'alice', model: 'gpt-4o', backend: '', pinned: true, status: 500, attempts: 0, prompt_tokens: null })
  t.not(lines[0]!.reqId, lines[1]!.reqId)

  const messages = app.logs.map((l) => l.msg)
  t.ok(messages.includes("Using specified backend 'anthropic_claude' for model 'claude-sonnet-4'"), "the spec's first pinning line stays")
  t.ok(messages.some((m) => typeof m === 'string' && m.startsWith("Selected specific backend for model 'claude-sonnet-4'")), "the spec's second pinning line stays")
})

t.test('a stream that breaks off after its status is logged with the reason', async (t) => {
  const upstream = await startUpstream(sse({ chunks: 5, cutAfter: 2 }))
  t.teardown(() => upstream.close())
  const app = await startBerry(t, { config: specConfig({ openai: upstream.origin, claude: upstream.origin }) })
  const res = await app.post('/v1/chat/completions', { model: 'gpt-4o', messages: [], stream: true })
  t.match(await res.text(), /BERRY_ERR_STREAM_INTERRUPTED/)
  t.match(await app.log((l) => l.msg === 'berry request'), { status: 200, body_error: String, prompt_tokens: null })
})

t.test('a client that leaves mid-stream is logged as 499 and leaves no request in flight', async (t) => {
  const upstream = await startUpstream(sse({ chunks: 50, delayMs: 20 }))
  t.teardown(() => upstream.close())
  const registry = new Registry()
  const app = await startBerry(t, { config: specConfig({ openai: upstream.origin, claude: upstream.origin }), metrics: { registry } })
  const controller = new AbortController()
  const res = await fetch(`${app.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ model: 'gpt-4o', messages: [], stream: true }),
    signal: controller.signal
  })
  const reader = res.body!.getReader()
  await reader.read()
  controller.abort()
  await reader.read().catch(() => {})
  await app.log((l) => l.msg === 'berry request')
  const lines = app.logs.filter((l) => l.msg === 'berry request')
  t.equal(lines.length, 1)
  t.match(lines[0], { user: 'alice', backend: 'openai_official', status: 499 })
  const text = await registry.metrics()
  t.match(text, /berry_in_flight_requests 0/)
  t.match(text, /berry_requests_total\{model="gpt-4o",backend="openai_official",status="499",pinned="false"\} 1/)
})

t.test('no token or key of the config ever reaches the log, even when headers are logged', async (t) => {
  const openai = await startUpstream(json())
  const claude = await startUpstream(status(503))
  const dead = await deadOrigin()
  t.teardown(() => openai.close())
  t.teardown(() => claude.close())
  let output = ''
  const stream = new Writable({ write (chunk: Buffer, _enc, cb) { output += chunk.toString('utf8'); cb() } })
  const app = Fastify({
    logger: {
      level: 'trace',
      stream,
      // A host that logs every request header: berry must still hide credentials.
      serializers: { req: (req) => ({ method: req.method, url: req.url, headers: req.headers }) }
    }
  })
  const config = specConfig({ openai: openai.origin, claude: claude.origin, disabled: dead })
    .replace('enabled = false', 'enabled = true')
    .replace('[users.alice]', '[users.alice]\nrate_limit = { requests_per_minute = 5 }')
  await app.register(berry, { config, metrics: { registry: new Registry() } })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
  const call = async (path: string, token: string, body?: unknown, extra: Record<string, string> = {}): Promise<void> => {
    const res = await fetch(url + path, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${token}`, 'x-api-key': token, cookie: `session=${token}`, ...extra, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    await res.arrayBuffer()
  }
  const chat = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }
  for (let i = 0; i < 7; i++) await call('/v1/chat/completions', TOKEN, chat) // some over the limit
  await call('/v1/chat/completions', ADMIN_TOKEN, { ...chat, backend: 'disabled_backend' }) // refused connection
  await call('/v1/chat/completions', ADMIN_TOKEN, { model: 'claude-sonnet-4', messages: [] }) // upstream 503
  await call('/v1/chat/completions', ADMIN_TOKEN, { ...chat, backend: 'invalid_backend' })
  await call('/v1/chat/completions', 'sk-client-sent-wrong-token-999', chat)
  await call('/v1/models', ADMIN_TOKEN)
  await call('/admin/backends', ADMIN_TOKEN)
  await call('/metrics', ADMIN_TOKEN)
  await call('/metrics', 'sk-client-sent-wrong-token-999')

  t.match(output, /"authorization":"\[redacted\]"/, 'headers were logged, redacted')
  t.match(output, /"status":429/, 'the rate limit was hit')
  t.match(output, /connection refused|ECONNREFUSED|could not be reached/i, 'the dead backend was tried')
  const secrets = [...config.matchAll(/(?:api_key|token) = "([^"]+)"/g)].map((m) => m[1]!)
  t.equal(secrets.length, 5, 'three keys and two tokens')
  for (const secret of [...secrets, 'sk-client-sent-wrong-token-999']) {
    t.notOk(output.includes(secret), `${secret.slice(0, 6)}... not in the log`)
  }
})
