/**
 * The fakes stay faithful: the official SDKs, as clients, read every answer
 * the fakes give as they would read the real APIs', and the fakes take the
 * SDKs' own requests. The SDKs' headers are also what the protocols send.
 */
import t from 'tap'
import Anthropic from '@anthropic-ai/sdk'
import { GoogleGenAI } from '@google/genai'
import * as anthropic from '../helpers/fake-anthropic.js'
import * as gemini from '../helpers/fake-gemini.js'
import { createClaudeProtocol } from '../../plugin/protocols/claude/protocol.js'
import { createGeminiProtocol } from '../../plugin/protocols/gemini/protocol.js'

const MODEL = 'claude-sonnet-5'
const ask = { model: MODEL, max_tokens: 64, messages: [{ role: 'user' as const, content: 'ping' }] }

t.test('the Anthropic SDK against the fake', async (t) => {
  const fake = await anthropic.startAnthropic()
  t.teardown(fake.close)
  const client = new Anthropic({ apiKey: anthropic.ANTHROPIC_KEY, baseURL: fake.origin, maxRetries: 0 })

  t.test('messages.create reads a whole message; the headers are what the protocol sends', async (t) => {
    const message = await client.messages.create(ask)
    t.equal(message.type, 'message')
    t.match(message.content, [{ type: 'text', text: 'pong' }])
    t.equal(message.stop_reason, 'end_turn')
    t.equal(message.usage.input_tokens, 12)
    const sent = fake.received.at(-1)
    for (const [name, value] of Object.entries(createClaudeProtocol().credentials(anthropic.ANTHROPIC_KEY))) {
      t.equal(sent?.headers[name], value, `the SDK sends ${name} as the protocol does`)
    }
    t.equal(sent?.url, '/v1/messages')
  })

  t.test('messages.stream().finalMessage() reads a text stream with ping', async (t) => {
    fake.behave(anthropic.textStream(['Hel', 'lo', ' world']))
    const message = await client.messages.stream(ask).finalMessage()
    t.match(message.content, [{ type: 'text', text: 'Hello world' }])
    t.equal(message.stop_reason, 'end_turn')
  })

  t.test('a streamed tool call in partial JSON pieces becomes its input', async (t) => {
    fake.behave(anthropic.toolStream('get_weather', ['{"ci', 'ty": "Par', 'is"}']))
    const message = await client.messages.stream(ask).finalMessage()
    t.match(message.content, [{ type: 'text', text: 'Let me check.' }, { type: 'tool_use', id: 'toolu_fake_01', name: 'get_weather' }])
    t.same(message.content[1]?.type === 'tool_use' ? message.content[1].input : undefined, { city: 'Paris' })
    t.equal(message.stop_reason, 'tool_use')
  })

  t.test('a thinking block and its signature', async (t) => {
    fake.behave(anthropic.stream({ blocks: [...anthropic.thinkingBlock(0, ['Hmm', '...']), ...anthropic.textBlock(1, ['Yes'])] }))
    const message = await client.messages.stream(ask).finalMessage()
    t.match(message.content, [{ type: 'thinking', thinking: 'Hmm...', signature: 'c2lnbmF0dXJl' }, { type: 'text', text: 'Yes' }])
  })

  t.test('an error event mid-stream and an overloaded_error first both raise APIError', async (t) => {
    fake.behave(anthropic.errorMidStream('overloaded_error'))
    await t.rejects(client.messages.stream(ask).finalMessage(), { type: 'overloaded_error', message: /Overloaded/ })
    fake.behave(anthropic.overloadedFirst())
    await t.rejects(client.messages.stream(ask).finalMessage(), { type: 'overloaded_error', message: /Overloaded/ })
  })

  t.test('529, 429 and 500 bodies are read as the SDK reads the API errors', async (t) => {
    fake.behave(anthropic.overloaded())
    await t.rejects(client.messages.create(ask), { status: 529, type: 'overloaded_error', message: /Overloaded/ })
    fake.behave(anthropic.rateLimited())
    await t.rejects(client.messages.create(ask), Anthropic.RateLimitError)
    fake.behave(anthropic.serverError())
    await t.rejects(client.messages.create(ask), Anthropic.InternalServerError)
  })

  t.test('the fake refuses what API version 2026-10-21 refuses', async (t) => {
    fake.behave(anthropic.answer())
    const bad = new Anthropic({ apiKey: 'wrong', baseURL: fake.origin, maxRetries: 0 })
    await t.rejects(bad.messages.create(ask), Anthropic.AuthenticationError)
    const response = await fetch(`${fake.origin}/v1/messages`, {
      method: 'POST',
      headers: { ...createClaudeProtocol().credentials(anthropic.ANTHROPIC_KEY), 'content-type': 'application/json' },
      body: JSON.stringify({ ...ask, temperature: 0.5 })
    })
    t.equal(response.status, 400)
    t.match(await response.json(), { type: 'error', error: { type: 'invalid_request_error', message: 'temperature: Extra inputs are not permitted' } })
  })
})

t.test('the Google GenAI SDK against the fake', async (t) => {
  const fake = await gemini.startGemini()
  t.teardown(fake.close)
  const ai = new GoogleGenAI({ apiKey: gemini.GEMINI_KEY, httpOptions: { baseUrl: fake.origin } })
  const model = 'gemini-2.5-flash'

  t.test('models.generateContent reads a whole answer; the key header is what the protocol sends', async (t) => {
    const response = await ai.models.generateContent({ model, contents: 'ping', config: { systemInstruction: 'Be brief.', temperature: 0.2, maxOutputTokens: 10 } })
    t.equal(response.text, 'pong')
    t.equal(response.usageMetadata?.totalTokenCount, 13)
    const sent = fake.received.at(-1)
    t.match(sent?.url, /^\/v1beta\/models\/gemini-2\.5-flash:generateContent/)
    t.notMatch(sent?.url, /key=/)
    for (const [name, value] of Object.entries(createGeminiProtocol().credentials(gemini.GEMINI_KEY))) {
      t.equal(sent?.headers[name], value, `the SDK sends ${name} as the protocol does`)
    }
    t.match(sent?.json, { contents: [{ role: 'user', parts: [{ text: 'ping' }] }], systemInstruction: { parts: [{ text: 'Be brief.' }] }, generationConfig: { temperature: 0.2, maxOutputTokens: 10 } })
  })

  t.test('generateContentStream reads the SSE chunks', async (t) => {
    fake.behave(gemini.textStream(['Hel', 'lo', ' world']))
    let text = ''
    for await (const chunk of await ai.models.generateContentStream({ model, contents: 'ping' })) text += chunk.text ?? ''
    t.equal(text, 'Hello world')
    t.match(fake.received.at(-1)?.url, /:streamGenerateContent\?alt=sse$/)
  })

  t.test('function calls, whole and streamed', async (t) => {
    fake.behave(gemini.functionCall('get_weather', { city: 'Paris' }))
    const response = await ai.models.generateContent({ model, contents: 'weather?' })
    t.match(response.functionCalls, [{ name: 'get_weather', args: { city: 'Paris' } }])
    fake.behave(gemini.functionCallStream('get_weather', { city: 'Rome' }))
    const calls = []
    for await (const chunk of await ai.models.generateContentStream({ model, contents: 'weather?' })) calls.push(...(chunk.functionCalls ?? []))
    t.match(calls, [{ name: 'get_weather', args: { city: 'Rome' } }])
  })

  t.test('an error chunk mid-stream and error bodies raise ApiError with their status', async (t) => {
    fake.behave(gemini.errorMidStream())
    await t.rejects(async () => {
      for await (const chunk of await ai.models.generateContentStream({ model, contents: 'ping' })) t.ok(chunk)
    }, { status: 503, message: /overloaded/ })
    fake.behave(gemini.rateLimited())
    await t.rejects(ai.models.generateContent({ model, contents: 'ping' }), { status: 429, message: /RESOURCE_EXHAUSTED/ })
    fake.behave(gemini.serverError())
    await t.rejects(ai.models.generateContent({ model, contents: 'ping' }), { status: 500, message: /INTERNAL/ })
  })

  t.test('a blocked prompt has feedback and no candidate', async (t) => {
    fake.behave(gemini.blocked())
    const response = await ai.models.generateContent({ model, contents: 'ping' })
    t.equal(response.promptFeedback?.blockReason, 'SAFETY')
    t.equal(response.candidates, undefined)
  })

  t.test('embedContent uses batchEmbedContents', async (t) => {
    fake.behave(gemini.embeddings())
    const response = await ai.models.embedContent({ model: 'gemini-embedding-001', contents: ['a', 'bbb'] })
    t.same(response.embeddings?.map((e) => e.values), [[1, 0.5, -0.25], [3, 0.5, -0.25]])
    t.match(fake.received.at(-1)?.url, /:batchEmbedContents$/)
  })

  t.test('a bad key is refused as Gemini does: 400 with API_KEY_INVALID', async (t) => {
    const bad = new GoogleGenAI({ apiKey: 'wrong', httpOptions: { baseUrl: fake.origin } })
    await t.rejects(bad.models.generateContent({ model, contents: 'ping' }), { status: 400, message: /API_KEY_INVALID/ })
  })
})
