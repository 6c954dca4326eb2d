/**
 * Anthropic and Gemini backends behind berry's OpenAI API, over real
 * sockets, with the official `openai` SDK as the client: plain, streamed,
 * tools, failover before the first token (also across protocols), errors,
 * routes a protocol cannot serve, credentials as each provider expects them,
 * usage counted from converted answers.
 */
import OpenAI from 'openai'
import t, { type Test } from 'tap'
import { startBerry, TOKEN } from '../helpers/berry.js'
import { gatewayConfig, type TomlValue } from '../helpers/config.js'
import * as anthropic from '../helpers/fake-anthropic.js'
import { json, sse, startUpstream, type Behaviour } from '../helpers/fake-upstream.js'
import * as gemini from '../helpers/fake-gemini.js'

interface Fakes {
  claude: anthropic.FakeServer
  gemini: gemini.FakeServer
  openai: Awaited<ReturnType<typeof startUpstream>>
}

async function fakes (t: Test, behaviours: { claude?: anthropic.Behaviour, gemini?: anthropic.Behaviour, openai?: Behaviour } = {}): Promise<Fakes> {
  const claude = await anthropic.startAnthropic(behaviours.claude)
  const fakeGemini = await gemini.startGemini(behaviours.gemini)
  const openai = await startUpstream(behaviours.openai ?? json('from openai'))
  t.teardown(() => Promise.all([claude.close(), fakeGemini.close(), openai.close()]))
  return { claude, gemini: fakeGemini, openai }
}

/** Model `gpt-4o` served by the backends named in `order` (claude, gemini, openai). */
function config (f: Fakes, order: Array<'claude' | 'gemini' | 'openai'>, extra: { settings?: Record<string, TomlValue>, claude?: Record<string, TomlValue> } = {}): string {
  const providers: Record<string, { origin: string } & Record<string, TomlValue>> = {
    claude: { origin: f.claude.origin, base_url: f.claude.origin, api_key: anthropic.ANTHROPIC_KEY, backend_type: 'claude', ...extra.claude },
    gemini: { origin: f.gemini.origin, base_url: `${f.gemini.origin}/v1beta`, api_key: gemini.GEMINI_KEY, backend_type: 'gemini' },
    openai: { origin: f.openai.origin }
  }
  return gatewayConfig({
    providers: Object.fromEntries(order.map((id) => [id, providers[id]!])),
    backends: { claude: { model: 'claude-sonnet-5' }, gemini: { model: 'gemini-2.5-flash' }, openai: { model: 'gpt-4o-up' } },
    settings: { circuit_breaker_failure_threshold: 5, ...extra.settings }
  })
}

function client (url: string): OpenAI {
  return new OpenAI({ apiKey: TOKEN, baseURL: `${url}/v1`, maxRetries: 0 })
}

const weather = [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }]

t.test('Claude: a plain answer, with the key and version as the official SDK sends them', async (t) => {
  const f = await fakes(t)
  const berry = await startBerry(t, { config: config(f, ['claude']) })
  const answer = await client(berry.url).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'ping' }] })
  t.match(answer, { object: 'chat.completion', choices: [{ message: { role: 'assistant', content: 'pong' }, finish_reason: 'stop' }], usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 } })
  const seen = f.claude.received[0]!
  t.equal(seen.url, '/v1/messages', 'a base_url without /v1 reaches /v1/messages')
  t.equal(seen.headers.authorization, `Bearer ${anthropic.ANTHROPIC_KEY}`)
  t.equal(seen.headers['anthropic-version'], '2026-10-21')
  t.match(seen.json, { model: 'claude-sonnet-5', system: [{ type: 'text', text: 'Be brief.' }], max_tokens: 4096, messages: [{ role: 'user' }] })
  t.notMatch(JSON.stringify(seen.headers), TOKEN, "the client's token never goes upstream")
  t.match(await berry.log((l) => l.msg === 'berry request'), { backend: 'claude', status: 200, prompt_tokens: 12, completion_tokens: 3 })
})

t.test('Claude: a base_url ending in /v1 reaches the same path; default_max_tokens and provider headers apply', async (t) => {
  const f = await fakes(t)
  const berry = await startBerry(t, { config: config(f, ['claude'], { claude: { base_url: `${f.claude.origin}/v1`, default_max_tokens: 1000, headers: { 'anthropic-beta': 'extended-cache-ttl' } } }) })
  await client(berry.url).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'ping' }] })
  t.equal(f.claude.received[0]!.url, '/v1/messages')
  t.match(f.claude.received[0]!.json, { max_tokens: 1000 })
  t.equal(f.claude.received[0]!.headers['anthropic-beta'], 'extended-cache-ttl')
})

t.test('Claude: a streamed answer, and a streamed tool call reassembled by the SDK', async (t) => {
  const f = await fakes(t)
  const berry = await startBerry(t, { config: config(f, ['claude']) })
  const openai = client(berry.url)
  let text = ''
  const chunks = []
  for await (const chunk of await openai.chat.completions.create({ model: 'gpt-4o', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] })) {
    chunks.push(chunk)
    text += chunk.choices[0]?.delta.content ?? ''
  }
  t.equal(text, 'Hello world')
  t.equal(chunks[0]?.choices[0]?.delta.role, 'assistant')
  t.equal(chunks.find((c) => c.choices[0]?.finish_reason !== null && c.choices[0]?.finish_reason !== undefined)?.choices[0]?.finish_reason, 'stop')
  t.match(chunks.at(-1), { choices: [], usage: { prompt_tokens: 12 } })

  f.claude.behave(anthropic.toolStream())
  const runner = openai.chat.completions.stream({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: weather })
  const final = await runner.finalChatCompletion()
  t.match(final.choices[0], { finish_reason: 'tool_calls', message: { content: 'Let me check.', tool_calls: [{ id: 'toolu_fake_01', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Paris"}' } }] } })
  t.match(f.claude.received[1]!.json, { tools: [{ name: 'get_weather', input_schema: { type: 'object' } }] })
})

t.test('Claude: tool results go back as tool_result blocks; the answer is a tool call', async (t) => {
  const f = await fakes(t, { claude: anthropic.answer({ content: [{ type: 'tool_use', id: 'toolu_2', name: 'get_weather', input: { city: 'Rome' }, caller: { type: 'direct' } }], stopReason: 'tool_use' }) })
  const berry = await startBerry(t, { config: config(f, ['claude']) })
  const answer = await client(berry.url).chat.completions.create({
    model: 'gpt-4o',
    tools: weather,
    messages: [
      { role: 'user', content: 'Weather?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', tool_call_id: 'toolu_1', content: '18C' }
    ]
  })
  t.match(answer.choices[0], { finish_reason: 'tool_calls', message: { tool_calls: [{ id: 'toolu_2', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } }] } })
  t.match(f.claude.received[0]!.json, { messages: [{ role: 'user' }, { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', input: { city: 'Paris' } }] }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1' }] }] })
})

t.test('Gemini: plain, streamed and embeddings, the key in a header and never in the URL', async (t) => {
  const f = await fakes(t)
  const berry = await startBerry(t, { config: config(f, ['gemini']) })
  const openai = client(berry.url)
  const answer = await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'ping' }] })
  t.match(answer.choices[0], { message: { content: 'pong' }, finish_reason: 'stop' })
  let text = ''
  for await (const chunk of await openai.chat.completions.create({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hi' }] })) text += chunk.choices[0]?.delta.content ?? ''
  t.equal(text, 'Hello world')
  const vectors = await openai.embeddings.create({ model: 'gpt-4o', input: ['a', 'b'] })
  t.equal(vectors.data.length, 2)
  t.same(f.gemini.received.map((r) => r.url), [
    '/v1beta/models/gemini-2.5-flash:generateContent',
    '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
    '/v1beta/models/gemini-2.5-flash:batchEmbedContents'
  ])
  for (const r of f.gemini.received) {
    t.equal(r.headers['x-goog-api-key'], gemini.GEMINI_KEY)
    t.equal(r.headers.authorization, undefined)
    t.notMatch(r.url, /key=/)
  }
})

t.test('a 200 whose first event is an error fails over before the first token, across protocols', async (t) => {
  const f = await fakes(t, { claude: anthropic.overloadedFirst(), openai: sse({ chunks: 3 }) })
  const berry = await startBerry(t, { config: config(f, ['claude', 'openai']), random: () => 0 })
  const res = await berry.post('/v1/chat/completions', { model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hi' }] })
  t.equal(res.status, 200)
  t.equal(res.headers.get('x-berry-backend'), 'openai')
  t.equal(res.headers.get('x-berry-attempts'), '2')
  const text = await res.text()
  t.match(text, /"c0"[^]*"c2"[^]*data: \[DONE\]\n\n$/)
  t.notMatch(text, /overloaded|Overloaded/, 'nothing of the failed attempt reached the client')
  t.equal(f.claude.received.length, 1)
  t.equal(f.openai.received[0]!.json.model, 'gpt-4o-up', 'the body was converted back for the OpenAI backend')
})

t.test('an OpenAI stream cut before its first content fails over too', async (t) => {
  const f = await fakes(t, { openai: sse({ chunks: 3, cutAfter: 0 }) })
  const berry = await startBerry(t, { config: config(f, ['openai', 'claude']), random: () => 0 })
  const res = await berry.post('/v1/chat/completions', { model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hi' }] })
  t.equal(res.headers.get('x-berry-backend'), 'claude')
  t.match(await res.text(), /"Hel"[^]*data: \[DONE\]\n\n$/)
})

t.test('pinned, a failure before the first token is answered with its status, not a broken stream', async (t) => {
  const f = await fakes(t, { claude: anthropic.overloadedFirst() })
  const berry = await startBerry(t, { config: config(f, ['claude', 'openai']) })
  const error = await client(berry.url).chat.completions.create({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hi' }], backend: 'claude' } as OpenAI.ChatCompletionCreateParamsStreaming).then(() => undefined, (err: unknown) => err)
  t.ok(error instanceof OpenAI.APIError)
  if (error instanceof OpenAI.APIError) {
    t.equal(error.status, 529)
    t.match(error.message, /Backend 'claude' failed before its first token: Overloaded/)
  }
})

t.test('an error event after the first token ends the stream with an error event and no [DONE]', async (t) => {
  const f = await fakes(t, { claude: anthropic.errorMidStream() })
  const berry = await startBerry(t, { config: config(f, ['claude', 'openai']), random: () => 0 })
  const res = await berry.post('/v1/chat/completions', { model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hi' }] })
  t.equal(res.headers.get('x-berry-backend'), 'claude')
  const text = await res.text()
  t.match(text, /"Hel"/)
  t.notMatch(text, '[DONE]')
  const last = JSON.parse(text.trim().split('\n\n').pop()!.replace(/^data: /, ''))
  t.match(last, { error: { code: 'BERRY_ERR_STREAM_INTERRUPTED', message: /^The stream from backend 'claude' broke off: the upstream sent an error \(529\): Overloaded/ } })
  t.equal(f.openai.received.length, 0, 'no failover once a token went out')
  t.match(await berry.log((l) => l.msg === 'berry request'), { status: 200, body_error: /Overloaded/ })
})

t.test("Anthropic's errors: 529 and 429 fail over; a 400 comes back in OpenAI's shape with its message", async (t) => {
  const f = await fakes(t, { claude: anthropic.overloaded() })
  const berry = await startBerry(t, { config: config(f, ['claude', 'openai']), random: () => 0 })
  const over = await berry.post('/v1/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })
  t.equal(over.headers.get('x-berry-backend'), 'openai')
  t.equal((await over.json()).choices[0].message.content, 'from openai')

  f.claude.behave(anthropic.status(400, 'invalid_request_error', 'messages: text content blocks must be non-empty'))
  const bad = await berry.post('/v1/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], backend: 'claude' })
  t.equal(bad.status, 400)
  t.same((await bad.json()).error, { message: 'messages: text content blocks must be non-empty', type: 'invalid_request_error', code: 'invalid_request_error' }, "the provider's own type stays as the code")

  f.claude.behave(anthropic.rateLimited())
  const limited = await berry.post('/v1/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], backend: 'claude' })
  t.equal(limited.status, 429)
  t.equal(limited.headers.get('retry-after'), '7')
  t.match((await limited.json()).error, { type: 'rate_limit_error', message: /per-minute rate limit/ })
})

t.test('routes a protocol cannot serve: never chosen load-balanced, a clear 400 when pinned', async (t) => {
  const f = await fakes(t)
  const berry = await startBerry(t, { config: config(f, ['claude', 'openai']), random: () => 0 })
  for (let i = 0; i < 5; i++) {
    const res = await berry.post('/v1/embeddings', { model: 'gpt-4o', input: 'x' })
    t.equal(res.headers.get('x-berry-backend'), 'openai')
    await res.arrayBuffer()
  }
  t.equal(f.claude.received.length, 0)
  const pinned = await berry.post('/v1/embeddings', { model: 'gpt-4o', input: 'x', backend: 'claude' })
  t.equal(pinned.status, 400)
  t.same((await pinned.json()).error, { message: 'A backend speaking Anthropic does not serve /v1/embeddings', type: 'invalid_request_error', code: 'BERRY_ERR_ROUTE_NOT_SERVED' })

  const claudeOnly = await startBerry(t, { config: config(f, ['claude']) })
  const none = await claudeOnly.post('/v1/completions', { model: 'gpt-4o', prompt: 'x' })
  t.equal(none.status, 400)
  t.equal((await none.json()).error.code, 'BERRY_ERR_ROUTE_NOT_SERVED')
})

t.test('a parameter one protocol cannot carry: that backend is passed over, or pinned, a 400 naming it', async (t) => {
  const f = await fakes(t)
  const berry = await startBerry(t, { config: config(f, ['claude', 'openai']), random: () => 0 })
  const res = await berry.post('/v1/chat/completions', { model: 'gpt-4o', n: 2, messages: [{ role: 'user', content: 'hi' }] })
  t.equal(res.status, 200)
  t.equal(res.headers.get('x-berry-backend'), 'openai', 'claude cannot give n = 2: the OpenAI backend serves it')
  t.equal(res.headers.get('x-berry-attempts'), '1', 'passing a backend over is not an attempt')
  await res.arrayBuffer()
  t.equal(f.claude.received.length, 0)
  const pinned = await berry.post('/v1/chat/completions', { model: 'gpt-4o', n: 2, messages: [{ role: 'user', content: 'hi' }], backend: 'claude' })
  t.equal(pinned.status, 400)
  t.match((await pinned.json()).error, { code: 'BERRY_ERR_UNSUPPORTED_PARAMETER', message: /^The parameter 'n' cannot be sent to a backend speaking Anthropic/ })
})

t.test('usage and token metrics count converted answers and streams, pinned or not', async (t) => {
  const f = await fakes(t)
  const berry = await startBerry(t, { config: config(f, ['claude', 'gemini']), random: () => 0 })
  await client(berry.url).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })
  const stream = await berry.post('/v1/chat/completions', { model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hi' }], backend: 'gemini' })
  await stream.text()
  await berry.log((l) => l.msg === 'berry request' && l.backend === 'gemini')
  const totals = await berry.app.berry.usage()
  t.match(totals.find((u) => u.backend === 'claude'), { requests: 1, prompt_tokens: 12, completion_tokens: 3 })
  t.match(totals.find((u) => u.backend === 'gemini'), { requests: 1, prompt_tokens: Number, completion_tokens: Number })
  t.ok((totals.find((u) => u.backend === 'gemini')?.prompt_tokens ?? 0) > 0, "a stream's usage is counted without include_usage")
})
