/**
 * Anthropic's Messages API inbound (`POST /v1/messages`), with the official
 * `@anthropic-ai/sdk` as the client: to a Claude backend passed through
 * natively, to an OpenAI backend converted both ways (text and a tool call,
 * plain and streamed), the same users, pinning and limits, errors in
 * Anthropic's shape, usage counted either way.
 */
import Anthropic from '@anthropic-ai/sdk'
import t, { type Test } from 'tap'
import { startBerry, TOKEN } from '../helpers/berry.js'
import { gatewayConfig } from '../helpers/config.js'
import * as anthropic from '../helpers/fake-anthropic.js'
import { json, sse, startUpstream, type Behaviour, type FakeUpstream } from '../helpers/fake-upstream.js'

async function openaiUpstream (t: Test, behaviour: Behaviour = json('from openai')): Promise<FakeUpstream> {
  const u = await startUpstream(behaviour)
  t.teardown(() => u.close())
  return u
}

async function claudeUpstream (t: Test, behaviour?: anthropic.Behaviour): Promise<anthropic.FakeServer> {
  const c = await anthropic.startAnthropic(behaviour)
  t.teardown(() => c.close())
  return c
}

function claudeProvider (origin: string) {
  return { origin, base_url: origin, api_key: anthropic.ANTHROPIC_KEY, backend_type: 'claude' }
}

const sdk = (url: string): Anthropic => new Anthropic({ apiKey: TOKEN, baseURL: url, maxRetries: 0 })
const ask = { model: 'gpt-4o', max_tokens: 256, messages: [{ role: 'user' as const, content: 'ping' }] }
const weather = [{ name: 'get_weather', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } } } }]

t.test('to a Claude backend: passed through natively, plain and streamed, usage from message_start and message_delta', async (t) => {
  const claude = await claudeUpstream(t)
  const berry = await startBerry(t, { config: gatewayConfig({ providers: { claude: claudeProvider(claude.origin) }, backends: { claude: { model: 'claude-sonnet-5' } } }) })
  const client = sdk(berry.url)
  const message = await client.messages.create({ ...ask, system: 'Be brief.' })
  t.match(message, { type: 'message', role: 'assistant', content: [{ type: 'text', text: 'pong' }], stop_reason: 'end_turn', usage: { input_tokens: 12, output_tokens: 3 } })
  t.match(claude.received[0]!.json, { model: 'claude-sonnet-5', system: 'Be brief.', max_tokens: 256 }, 'the body went as the client sent it, model renamed')
  t.equal(claude.received[0]!.headers.authorization, `Bearer ${anthropic.ANTHROPIC_KEY}`, "berry's key, not the client's token")

  claude.behave(anthropic.textStream(['Hel', 'lo', ' world'], { input_tokens: 20, output_tokens: 7 }))
  const final = await client.messages.stream(ask).finalMessage()
  t.match(final.content, [{ type: 'text', text: 'Hello world' }])
  await berry.log((l) => l.msg === 'berry request' && berry.logs.filter((x) => x.msg === 'berry request').length === 2)
  t.match(await berry.app.berry.usage(), [{ backend: 'claude', requests: 2, prompt_tokens: 32, completion_tokens: 10 }], 'the stream counts its input from message_start and its output from message_delta')
})

t.test('to an OpenAI backend: converted both ways, text and a streamed tool call', async (t) => {
  const openai = await openaiUpstream(t)
  const berry = await startBerry(t, { config: gatewayConfig({ providers: { openai: openai.origin } }) })
  const client = sdk(berry.url)
  const message = await client.messages.create(ask)
  t.match(message, { type: 'message', content: [{ type: 'text', text: 'from openai' }], stop_reason: 'end_turn', usage: { input_tokens: 5, output_tokens: 1 } })
  t.match(openai.received[0]!.json, { model: 'model-openai', max_completion_tokens: 256, messages: [{ role: 'user', content: 'ping' }] })

  openai.behave((_req, res, received) => {
    const model = received.json?.model
    const chunk = (delta: object, finish: string | null = null) => `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write(chunk({ role: 'assistant', content: '' }))
    res.write(chunk({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '' } }] }))
    res.write(chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }))
    res.write(chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }))
    res.write(chunk({}, 'tool_calls'))
    res.write(`data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model, choices: [], usage: { prompt_tokens: 30, completion_tokens: 9, total_tokens: 39 } })}\n\n`)
    res.end('data: [DONE]\n\n')
  })
  const final = await client.messages.stream({ ...ask, tools: weather }).finalMessage()
  t.match(final, { stop_reason: 'tool_use', content: [{ type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } }], usage: { output_tokens: 9 } })
  t.match(openai.received[1]!.json, { stream: true, stream_options: { include_usage: true }, tools: [{ type: 'function', function: { name: 'get_weather' } }] })
})

t.test("the caller's token as Anthropic clients send it; errors in Anthropic's shape", async (t) => {
  const openai = await openaiUpstream(t)
  const berry = await startBerry(t, { config: gatewayConfig({ providers: { openai: openai.origin } }) })
  const post = (headers: Record<string, string>, body: unknown = ask) => fetch(`${berry.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', ...headers }, body: JSON.stringify(body) })
  const keyed = await post({ 'x-api-key': TOKEN })
  t.equal(keyed.status, 200, 'x-api-key is accepted on /v1/messages')
  await keyed.arrayBuffer()

  const refused = await post({ 'x-api-key': 'not-a-token' })
  t.equal(refused.status, 401)
  t.same(await refused.json(), { type: 'error', error: { type: 'authentication_error', message: 'Invalid API token' }, request_id: null })

  const unknownModel = await sdk(berry.url).messages.create({ ...ask, model: 'claude-nope' }).then(() => undefined, (err: unknown) => err)
  t.ok(unknownModel instanceof Anthropic.NotFoundError)
  if (unknownModel instanceof Anthropic.APIError) t.match(unknownModel.error, { type: 'error', error: { type: 'not_found_error', message: "The model 'claude-nope' does not exist" } })

  const pinned = await post({ authorization: `Bearer ${TOKEN}` }, { ...ask, backend: 'nope' })
  t.equal(pinned.status, 500)
  t.same(await pinned.json(), { type: 'error', error: { type: 'api_error', message: "Specified backend 'nope' is not available for model 'gpt-4o': Backend 'nope' not found or disabled for model 'gpt-4o'" }, request_id: null }, "the spec's pinned error, in Anthropic's shape")

  const chat = await berry.post('/v1/chat/completions', { model: 'gpt-4o', messages: [] }, null, { 'x-api-key': TOKEN })
  t.equal(chat.status, 401, "OpenAI's routes take no x-api-key")
})

t.test("an error before the first token fails over; after it, a Claude backend's own error event reaches the client", async (t) => {
  const claude = await claudeUpstream(t, anthropic.overloadedFirst())
  const openai = await openaiUpstream(t, sse({ chunks: 3 }))
  const berry = await startBerry(t, {
    config: gatewayConfig({ providers: { claude: claudeProvider(claude.origin), openai: openai.origin }, backends: { claude: { model: 'claude-sonnet-5' } } }),
    random: () => 0
  })
  const final = await sdk(berry.url).messages.stream(ask).finalMessage()
  t.match(final.content, [{ type: 'text', text: 'c0c1c2' }], 'the overloaded Claude backend was passed over for the OpenAI one')
  t.equal(claude.received.length, 1)

  claude.behave(anthropic.errorMidStream())
  const res = await fetch(`${berry.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': TOKEN }, body: JSON.stringify({ ...ask, stream: true, backend: 'claude' }) })
  const text = await res.text()
  t.match(text, /text_delta[^]*"Hel"/)
  t.notMatch(text, 'message_stop', 'never a complete-looking stream')
  t.match(text, /event: error\ndata: \{"type":"error","error":\{"type":"overloaded_error","message":"Overloaded"\}\}\n\n$/, 'the native stream passes through, its error event included')
})

t.test('an OpenAI stream cut after its first token ends with an Anthropic error event, never message_stop', async (t) => {
  const openai = await openaiUpstream(t, sse({ chunks: 5, cutAfter: 2 }))
  const berry = await startBerry(t, { config: gatewayConfig({ providers: { openai: openai.origin } }) })
  const res = await fetch(`${berry.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': TOKEN }, body: JSON.stringify({ ...ask, stream: true }) })
  const text = await res.text()
  t.match(text, /"text":"c0"/)
  t.notMatch(text, 'message_stop')
  t.match(text, /event: error\ndata: \{"type":"error","error":\{"type":"api_error","message":"The stream from backend 'openai' broke off: [^"]+"\}\}\n\n$/)
  const failed = await sdk(berry.url).messages.stream(ask).finalMessage().then(() => undefined, (err: unknown) => err)
  t.ok(failed instanceof Anthropic.APIError, 'the Anthropic SDK raises it as an error, not a short answer')
})

t.test('count_tokens goes to a Claude backend; a model without one answers 400 in Anthropic shape', async (t) => {
  const claude = await claudeUpstream(t, (res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ input_tokens: 42 }))
  })
  const openai = await openaiUpstream(t)
  const berry = await startBerry(t, {
    config: gatewayConfig({ providers: { claude: claudeProvider(claude.origin), openai: openai.origin }, backends: { claude: { model: 'claude-sonnet-5' } } }),
    random: () => 0.99
  })
  const counted = await sdk(berry.url).messages.countTokens({ model: 'gpt-4o', messages: ask.messages })
  t.same(counted, { input_tokens: 42 })
  t.match(claude.received[0], { url: '/v1/messages/count_tokens', json: { model: 'claude-sonnet-5' } })

  const openaiOnly = await startBerry(t, { config: gatewayConfig({ providers: { openai: openai.origin } }) })
  const res = await fetch(`${openaiOnly.url}/v1/messages/count_tokens`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': TOKEN }, body: JSON.stringify({ model: 'gpt-4o', messages: ask.messages }) })
  t.equal(res.status, 400)
  t.match(await res.json(), { type: 'error', error: { type: 'invalid_request_error', message: /does not serve \/v1\/messages\/count_tokens/ } })
})
