/**
 * Round trips through the library with official SDKs at both ends: the
 * `openai` SDK asks, the request is converted to Anthropic's or Gemini's,
 * the fake answers, and the answer comes back converted; and the reverse,
 * the Anthropic SDK asking an OpenAI-protocol backend. The SDKs parse and
 * type what they get, so a shape they do not accept fails here.
 */
import t from 'tap'
import OpenAI from 'openai'
import Anthropic from '@anthropic-ai/sdk'
import * as anthropic from '../helpers/fake-anthropic.js'
import * as gemini from '../helpers/fake-gemini.js'
import { sse as openAIStream, json as openAIAnswer, startUpstream } from '../helpers/fake-upstream.js'
import { createClaudeProtocol } from '../../plugin/protocols/claude/protocol.js'
import { createGeminiProtocol } from '../../plugin/protocols/gemini/protocol.js'
import { createOpenAIProtocol } from '../../plugin/protocols/openai.js'
import { anthropicClient } from '../../plugin/protocols/claude/client.js'
import { startGateway } from './support/mini-gateway.js'

const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }]

t.test('the openai SDK through an Anthropic backend', async (t) => {
  const fake = await anthropic.startAnthropic()
  const gateway = await startGateway({ protocol: createClaudeProtocol(), origin: fake.origin, basePath: '/v1', apiKey: anthropic.ANTHROPIC_KEY, model: 'claude-sonnet-5' }, anthropicClient)
  t.teardown(async () => { await gateway.close(); await fake.close() })
  const client = new OpenAI({ apiKey: 'berry-user-token', baseURL: `${gateway.origin}/v1`, maxRetries: 0 })

  t.test('chat.completions.create: the request converted, the answer a ChatCompletion', async (t) => {
    const completion: OpenAI.Chat.Completions.ChatCompletion = await client.chat.completions.create({
      model: 'claude', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'ping' }], max_completion_tokens: 50, stop: ['END'], temperature: 1
    })
    t.equal(completion.object, 'chat.completion')
    t.equal(completion.choices[0]?.message.content, 'pong')
    t.equal(completion.choices[0]?.finish_reason, 'stop')
    t.same(completion.usage, { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15, prompt_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 } })
    t.same(fake.received.at(-1)?.json, {
      model: 'claude-sonnet-5', max_tokens: 50, messages: [{ role: 'user', content: [{ type: 'text', text: 'ping' }] }], system: [{ type: 'text', text: 'Be brief.' }], stop_sequences: ['END']
    }, 'no temperature reaches API version 2026-10-21')
    t.equal(fake.received.at(-1)?.headers.authorization, `Bearer ${anthropic.ANTHROPIC_KEY}`)
  })

  t.test('a streamed text answer read by the SDK\'s stream helper, with usage', async (t) => {
    fake.behave(anthropic.textStream(['Hel', 'lo', ' world'], { input_tokens: 20, output_tokens: 3 }))
    const stream = client.chat.completions.stream({ model: 'claude', messages: [{ role: 'user', content: 'ping' }], stream_options: { include_usage: true } })
    const completion = await stream.finalChatCompletion()
    t.equal(completion.choices[0]?.message.content, 'Hello world')
    t.equal(completion.choices[0]?.finish_reason, 'stop')
    t.match(completion.usage, { prompt_tokens: 20, completion_tokens: 3, total_tokens: 23 })
  })

  t.test('a streamed tool call in pieces comes back whole; its result goes back as tool_result', async (t) => {
    fake.behave(anthropic.toolStream('get_weather', ['{"ci', 'ty": "Par', 'is"}']))
    const completion = await client.chat.completions.stream({ model: 'claude', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools }).finalChatCompletion()
    const call = completion.choices[0]?.message.tool_calls?.[0]
    t.equal(completion.choices[0]?.finish_reason, 'tool_calls')
    t.equal(completion.choices[0]?.message.content, 'Let me check.')
    t.ok(call !== undefined && call.type === 'function')
    if (call === undefined || call.type !== 'function') return
    t.same(JSON.parse(call.function.arguments), { city: 'Paris' })
    fake.behave(anthropic.answer())
    await client.chat.completions.create({
      model: 'claude',
      tools,
      messages: [{ role: 'user', content: 'Weather in Paris?' }, completion.choices[0]?.message ?? { role: 'assistant', content: null }, { role: 'tool', tool_call_id: call.id, content: 'Sunny' }]
    })
    t.match(fake.received.at(-1)?.json, {
      messages: [
        { role: 'user' },
        { role: 'assistant', content: [{ type: 'text', text: 'Let me check.' }, { type: 'tool_use', id: 'toolu_fake_01', name: 'get_weather', input: { city: 'Paris' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_fake_01', content: 'Sunny' }] }
      ],
      tools: [{ name: 'get_weather', input_schema: { type: 'object' } }]
    })
  })

  t.test('errors reach the SDK as OpenAI errors: 529, 429, a 400 of berry\'s own, an error after the first content', async (t) => {
    fake.behave(anthropic.overloaded())
    await t.rejects(client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'x' }] }), { status: 529, message: /Overloaded/, type: 'service_unavailable' })
    fake.behave(anthropic.rateLimited())
    await t.rejects(client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'x' }] }), { status: 429, message: /rate limit/, type: 'rate_limit_error' })
    await t.rejects(client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'x' }], temperature: 0.2 }), { status: 400, message: /'temperature'/, code: 'BERRY_ERR_UNSUPPORTED_PARAMETER' })
    fake.behave(anthropic.errorMidStream('api_error'))
    const received: string[] = []
    await t.rejects(async () => {
      const stream = await client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'x' }], stream: true })
      for await (const chunk of stream) received.push(chunk.choices[0]?.delta.content ?? '')
    }, { message: /broke off/ })
    t.same(received.join(''), 'Hel', 'what came before the error reached the client')
    fake.behave(anthropic.overloadedFirst())
    await t.rejects(client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'x' }], stream: true }), { status: 529, message: /Overloaded/ })
  })
})

t.test('the openai SDK through a Gemini backend', async (t) => {
  const fake = await gemini.startGemini()
  const gateway = await startGateway({ protocol: createGeminiProtocol(), origin: fake.origin, basePath: '/v1beta', apiKey: gemini.GEMINI_KEY, model: 'gemini-2.5-flash' }, anthropicClient)
  t.teardown(async () => { await gateway.close(); await fake.close() })
  const client = new OpenAI({ apiKey: 'berry-user-token', baseURL: `${gateway.origin}/v1`, maxRetries: 0 })

  t.test('create and stream', async (t) => {
    const completion = await client.chat.completions.create({ model: 'gemini', messages: [{ role: 'system', content: 'Brief.' }, { role: 'user', content: 'ping' }], temperature: 0.4 })
    t.equal(completion.choices[0]?.message.content, 'pong')
    t.same(fake.received.at(-1)?.json, { contents: [{ role: 'user', parts: [{ text: 'ping' }] }], systemInstruction: { parts: [{ text: 'Brief.' }] }, generationConfig: { temperature: 0.4 } })
    t.equal(fake.received.at(-1)?.headers['x-goog-api-key'], gemini.GEMINI_KEY)
    const streamed = await client.chat.completions.stream({ model: 'gemini', messages: [{ role: 'user', content: 'ping' }], stream_options: { include_usage: true } }).finalChatCompletion()
    t.equal(streamed.choices[0]?.message.content, 'Hello world')
    t.match(streamed.usage, { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 })
  })

  t.test('a function call, whole and streamed, and its result sent back by name', async (t) => {
    fake.behave(gemini.functionCall('get_weather', { city: 'Paris' }))
    const completion = await client.chat.completions.create({ model: 'gemini', messages: [{ role: 'user', content: 'Weather?' }], tools })
    const call = completion.choices[0]?.message.tool_calls?.[0]
    t.equal(completion.choices[0]?.finish_reason, 'tool_calls')
    if (call === undefined || call.type !== 'function') throw new Error('no function call')
    t.same(JSON.parse(call.function.arguments), { city: 'Paris' })
    fake.behave(gemini.functionCallStream('get_weather', { city: 'Rome' }))
    const streamed = await client.chat.completions.stream({ model: 'gemini', messages: [{ role: 'user', content: 'Weather?' }], tools }).finalChatCompletion()
    t.match(streamed.choices[0]?.message.tool_calls, [{ type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } }])
    fake.behave(gemini.answer())
    await client.chat.completions.create({ model: 'gemini', tools, messages: [{ role: 'user', content: 'Weather?' }, completion.choices[0]?.message ?? { role: 'assistant', content: null }, { role: 'tool', tool_call_id: call.id, content: 'Sunny' }] })
    t.match(fake.received.at(-1)?.json, {
      contents: [{ role: 'user' }, { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }] }, { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { output: 'Sunny' } } }] }]
    })
  })

  t.test('embeddings, as the SDK asks for them (base64) and as floats', async (t) => {
    fake.behave(gemini.embeddings())
    const base64 = await client.embeddings.create({ model: 'gemini-embedding', input: ['a', 'bbb'] })
    t.same(base64.data.map((d) => d.embedding), [[1, 0.5, -0.25], [3, 0.5, -0.25]])
    const floats = await client.embeddings.create({ model: 'gemini-embedding', input: 'xy', encoding_format: 'float' })
    t.same(floats.data[0]?.embedding, [2, 0.5, -0.25])
  })

  t.test('a Gemini error reaches the SDK with its status', async (t) => {
    fake.behave(gemini.rateLimited())
    await t.rejects(client.chat.completions.create({ model: 'gemini', messages: [{ role: 'user', content: 'x' }] }), { status: 429, message: /exhausted/ })
  })
})

t.test('the Anthropic SDK through an OpenAI-protocol backend', async (t) => {
  const upstream = await startUpstream(openAIAnswer('pong'))
  const gateway = await startGateway({ protocol: createOpenAIProtocol(), origin: upstream.origin, basePath: '/v1', apiKey: 'sk-openai', model: 'gpt-4o' }, anthropicClient)
  t.teardown(async () => { await gateway.close(); await upstream.close() })
  const client = new Anthropic({ apiKey: 'berry-user-token', baseURL: gateway.origin, maxRetries: 0 })
  const ask: Anthropic.MessageCreateParamsNonStreaming = { model: 'claude', max_tokens: 100, system: 'Brief.', messages: [{ role: 'user', content: 'ping' }] }

  t.test('messages.create', async (t) => {
    const message = await client.messages.create(ask)
    t.match(message.content, [{ type: 'text', text: 'pong' }])
    t.equal(message.stop_reason, 'end_turn')
    t.match(message.usage, { input_tokens: 5, output_tokens: 1 })
    t.same(upstream.received.at(-1)?.json, { model: 'gpt-4o', messages: [{ role: 'system', content: 'Brief.' }, { role: 'user', content: 'ping' }], max_completion_tokens: 100 })
    t.equal(upstream.received.at(-1)?.headers.authorization, 'Bearer sk-openai')
  })

  t.test('messages.stream().finalMessage(), with usage asked of the upstream', async (t) => {
    upstream.behave(openAIStream({ chunks: 3, usage: true }))
    const message = await client.messages.stream(ask).finalMessage()
    t.match(message.content, [{ type: 'text', text: 'c0c1c2' }])
    t.match(message.usage, { input_tokens: 7, output_tokens: 3 })
    t.match(upstream.received.at(-1)?.json, { stream: true, stream_options: { include_usage: true } })
  })

  t.test('a streamed tool call comes back as a tool_use block with its input', async (t) => {
    upstream.behave((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      const chunk = (delta: object, finish: string | null = null) => `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`
      res.write(chunk({ role: 'assistant', content: null, tool_calls: [{ index: 0, id: 'call_9', type: 'function', function: { name: 'get_weather', arguments: '' } }] }))
      res.write(chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":"Pa' } }] }))
      res.write(chunk({ tool_calls: [{ index: 0, function: { arguments: 'ris"}' } }] }))
      res.write(chunk({}, 'tool_calls'))
      res.end('data: [DONE]\n\n')
    })
    const message = await client.messages.stream({ ...ask, tools: [{ name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }] }).finalMessage()
    t.match(message.content, [{ type: 'tool_use', id: 'call_9', name: 'get_weather', input: { city: 'Paris' } }])
    t.equal(message.stop_reason, 'tool_use')
  })

  t.test('errors in Anthropic\'s shape: an upstream 429 and a stream cut after its first text', async (t) => {
    upstream.behave((_req, res) => {
      res.writeHead(429, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: { message: 'Rate limit reached', type: 'rate_limit_error', code: 'rate_limit_exceeded' } }))
    })
    await t.rejects(client.messages.create(ask), Anthropic.RateLimitError)
    upstream.behave((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write(`data: ${JSON.stringify({ id: 'c', choices: [{ index: 0, delta: { content: 'Hi' }, finish_reason: null }] })}\n\n`)
      res.end(`data: ${JSON.stringify({ error: { message: 'The server had an error', type: 'server_error' } })}\n\n`)
    })
    await t.rejects(client.messages.stream(ask).finalMessage(), { message: /The server had an error/ })
  })
})

t.test('the Anthropic SDK through a Gemini backend: two converters chained', async (t) => {
  const fake = await gemini.startGemini(gemini.textStream(['Bon', 'jour']))
  const gateway = await startGateway({ protocol: createGeminiProtocol(), origin: fake.origin, basePath: '/v1beta', apiKey: gemini.GEMINI_KEY, model: 'gemini-2.5-flash' }, anthropicClient)
  t.teardown(async () => { await gateway.close(); await fake.close() })
  const client = new Anthropic({ apiKey: 'berry-user-token', baseURL: gateway.origin, maxRetries: 0 })
  const message = await client.messages.stream({ model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 'salut' }] }).finalMessage()
  t.match(message.content, [{ type: 'text', text: 'Bonjour' }])
  t.match(message.usage, { input_tokens: 9, output_tokens: 4 })
})
