/** The proxy path over real sockets: rewrite, headers, streaming, aborts, paths, errors. */
import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import { request as undiciRequest } from 'undici'
import { startBerry, TOKEN } from './helpers/berry.js'
import { deadOrigin, hang, json, sse, startUpstream, type FakeUpstream } from './helpers/fake-upstream.js'

function config (origin: string, extra = '', providerExtra = ''): string {
  return `
[providers.main]
base_url = "${origin}/v1"
api_key = "sk-main-secret-0001"
headers = { "OpenAI-Organization" = "org-berry" }
${providerExtra}

[[models.gpt_4o.backends]]
provider = "main"
model = "gpt-4o-2024"

[users.alice]
token = "${TOKEN}"
${extra}
`
}

async function upstream (t: Test, behaviour = json()): Promise<FakeUpstream> {
  const u = await startUpstream(behaviour)
  t.teardown(() => u.close())
  return u
}

t.test('body rewrite keeps everything else, with a correct length for multibyte text', async (t) => {
  const u = await upstream(t)
  const berry = await startBerry(t, { config: config(u.origin) })
  const body = { model: 'gpt-4o', backend: 'main', messages: [{ role: 'user', content: 'héllo 你好 🍓' }], temperature: 0.2, tools: [{ type: 'function', function: { name: 'f' } }] }
  const res = await berry.post('/v1/chat/completions', body)
  t.equal(res.status, 200)
  await res.arrayBuffer()
  const seen = u.received[0]!
  t.same(seen.json, { model: 'gpt-4o-2024', messages: body.messages, temperature: 0.2, tools: body.tools })
  t.equal(Number(seen.headers['content-length']), Buffer.byteLength(seen.body))
  t.equal(seen.headers['content-type'], 'application/json')
})

t.test('headers: provider credentials in, client credentials and cookies out', async (t) => {
  const u = await upstream(t)
  const berry = await startBerry(t, { config: config(u.origin) })
  const res = await berry.post('/v1/chat/completions', { model: 'gpt-4o', messages: [] }, undefined, {
    cookie: 'session=abc', 'x-forwarded-for': '10.0.0.1', 'x-api-key': 'client-key', 'openai-beta': 'assistants=v2', 'user-agent': 'test-agent'
  })
  await res.arrayBuffer()
  const h = u.received[0]!.headers
  t.equal(h.authorization, 'Bearer sk-main-secret-0001')
  t.equal(h['openai-organization'], 'org-berry')
  t.equal(h.cookie, undefined)
  t.equal(h['x-forwarded-for'], undefined)
  t.equal(h['x-api-key'], undefined)
  t.equal(h['openai-beta'], 'assistants=v2')
  t.equal(h['user-agent'], 'test-agent')
  t.notMatch(JSON.stringify(h), TOKEN)
})

t.test('keyless provider: no Authorization upstream', async (t) => {
  const u = await upstream(t)
  const berry = await startBerry(t, { config: config(u.origin).replace('api_key = "sk-main-secret-0001"', 'api_key = ""') })
  await (await berry.post('/v1/chat/completions', { model: 'gpt-4o', messages: [] })).arrayBuffer()
  t.equal(u.received[0]!.headers.authorization, undefined)
})

t.test('base_url with a path and a query (Azure / Gemini style)', async (t) => {
  const u = await upstream(t)
  const text = config(u.origin).replace(`base_url = "${u.origin}/v1"`, `base_url = "${u.origin}/v1beta/openai?api-version=2024-10-21"`)
  const berry = await startBerry(t, { config: text })
  const res = await berry.post('/v1/chat/completions?injected=1', { model: 'gpt-4o', messages: [] })
  t.equal(res.status, 200)
  await res.arrayBuffer()
  t.equal(u.received[0]!.url, '/v1beta/openai/chat/completions?api-version=2024-10-21', 'client query dropped, provider query kept')
})

t.test('completions and embeddings routes', async (t) => {
  const u = await upstream(t)
  const berry = await startBerry(t, { config: config(u.origin) })
  for (const path of ['/v1/completions', '/v1/embeddings']) {
    const res = await berry.post(path, { model: 'gpt-4o', input: 'x' })
    t.equal(res.status, 200, path)
    await res.arrayBuffer()
  }
  t.same(u.received.map((r) => r.url), ['/v1/completions', '/v1/embeddings'])
})

t.test('the first SSE event reaches the client while the upstream is still sending', async (t) => {
  const u = await upstream(t, sse({ chunks: 4, delayMs: 400 }))
  const berry = await startBerry(t, { config: config(u.origin) })
  const started = Date.now()
  const res = await undiciRequest(`${berry.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o', stream: true, messages: [] })
  })
  t.equal(res.statusCode, 200)
  const chunks: string[] = []
  let firstAt = 0
  for await (const chunk of res.body) {
    if (chunks.length === 0) firstAt = Date.now() - started
    chunks.push(String(chunk))
  }
  t.match(chunks[0], /^data: \{.*"c0"/)
  // The whole stream takes >= 1.2 s (3 gaps of 400 ms); the first event must not wait for it.
  t.ok(firstAt < 1000, `first event after ${firstAt} ms`)
  t.ok(chunks.length >= 4, 'arrived in pieces')
  t.match(chunks.join(''), /data: \[DONE\]\n\n$/)
  t.ok(Date.now() - started >= 1100, 'the stream really was spread out')
})

t.test('a client that disconnects aborts the upstream request', async (t) => {
  t.test('while waiting for headers', async (t) => {
    const u = await upstream(t, hang())
    const berry = await startBerry(t, { config: config(u.origin) })
    const controller = new AbortController()
    const pending = fetch(`${berry.url}/v1/chat/completions`, {
      method: 'POST',
      signal: controller.signal,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', messages: [] })
    }).catch((err: Error) => err)
    while (u.received.length === 0) await sleep(10)
    controller.abort()
    await pending
    for (let i = 0; i < 100 && u.aborted.length === 0; i++) await sleep(10)
    t.equal(u.aborted.length, 1, 'the upstream saw the abort')
    t.equal(berry.app.berry.health().status, 'healthy', 'a client abort is not the backend\'s failure')
  })
  t.test('mid-stream', async (t) => {
    const u = await upstream(t, sse({ chunks: 50, delayMs: 50 }))
    const berry = await startBerry(t, { config: config(u.origin) })
    const controller = new AbortController()
    const res = await fetch(`${berry.url}/v1/chat/completions`, {
      method: 'POST',
      signal: controller.signal,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', stream: true, messages: [] })
    })
    const reader = res.body!.getReader()
    await reader.read()
    controller.abort()
    for (let i = 0; i < 100 && u.aborted.length === 0; i++) await sleep(10)
    t.equal(u.aborted.length, 1, 'the upstream saw the abort')
  })
})

t.test('unreachable upstream: 502 naming the provider, not its address', async (t) => {
  const dead = await deadOrigin()
  const berry = await startBerry(t, { config: config(dead) })
  const res = await berry.post('/v1/chat/completions', { model: 'gpt-4o', messages: [] })
  t.equal(res.status, 502)
  const body = await res.json()
  t.same(body.error, { message: "Backend 'main' could not be reached: connection refused", type: 'upstream_error', code: 'BERRY_ERR_UPSTREAM_UNREACHABLE' })
  t.notMatch(JSON.stringify(body), /127\.0\.0\.1|sk-main/)
})

t.test('upstream that never answers: 504 within timeout_seconds', async (t) => {
  const u = await upstream(t, hang())
  const berry = await startBerry(t, { config: config(u.origin, '', 'timeout_seconds = 0.5') })
  const started = Date.now()
  const res = await berry.post('/v1/chat/completions', { model: 'gpt-4o', messages: [] })
  const took = Date.now() - started
  t.equal(res.status, 504)
  t.same((await res.json()).error, { message: "Backend 'main' did not answer within 0.5s", type: 'timeout_error', code: 'BERRY_ERR_UPSTREAM_TIMEOUT' })
  t.ok(took >= 450 && took < 5000, `took ${took} ms`)
})

t.test('an upstream 4xx goes back as it came', async (t) => {
  const u = await upstream(t, (_req, res) => {
    res.writeHead(400, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ error: { message: 'bad temperature', type: 'invalid_request_error', code: null } }))
  })
  const berry = await startBerry(t, { config: config(u.origin) })
  const res = await berry.post('/v1/chat/completions', { model: 'gpt-4o', messages: [] })
  t.equal(res.status, 400)
  t.equal((await res.json()).error.message, 'bad temperature')
})

t.test('prefix option mounts every route under it', async (t) => {
  const u = await upstream(t)
  const berry = await startBerry(t, { config: config(u.origin), prefix: '/llm' })
  const res = await berry.post('/llm/v1/chat/completions', { model: 'gpt-4o', messages: [] })
  t.equal(res.status, 200)
  await res.arrayBuffer()
  t.equal((await berry.get('/llm/health')).status, 200)
  t.equal((await berry.post('/v1/chat/completions', { model: 'gpt-4o' })).status, 404)
})

t.test('body limit is the setting, 10 MiB by default', async (t) => {
  const u = await upstream(t)
  const berry = await startBerry(t, { config: config(u.origin, '[settings]\nbody_limit = 2000') })
  const big = { model: 'gpt-4o', messages: [{ role: 'user', content: 'x'.repeat(3000) }] }
  const res = await berry.post('/v1/chat/completions', big)
  t.equal(res.status, 413)
  t.equal((await res.json()).error.code, 'FST_ERR_CTP_BODY_TOO_LARGE')
  const def = await startBerry(t, { config: config(u.origin) })
  const two = await def.post('/v1/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 'x'.repeat(2 * 1024 * 1024) }] })
  t.equal(two.status, 200, 'a 2 MiB prompt passes (Fastify alone would refuse over 1 MiB)')
  await two.arrayBuffer()
  t.equal(u.received.length, 1)
})
