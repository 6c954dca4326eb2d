/**
 * The embedded demo read by the two most used TypeScript LLM clients, the
 * official `openai` SDK and the Vercel AI SDK (`ai` with `@ai-sdk/openai`),
 * through berry: they check what OpenAI's wire format promises (a role in
 * the first delta, a finish reason at the end, usage), so the demo must
 * keep it, and berry must pass it through untouched.
 */
import { createOpenAI } from '@ai-sdk/openai'
import { embed, generateText, streamText } from 'ai'
import OpenAI from 'openai'
import t from 'tap'
import { DEMO_TOKEN, demoConfig } from '../example-app/demo-config.js'
import { startDemoUpstream } from '../example-app/demo-upstreams.js'
import { startBerry } from './helpers/berry.js'

async function demo (t: Parameters<typeof startBerry>[0]) {
  const alpha = await startDemoUpstream('alpha')
  const beta = await startDemoUpstream('beta')
  t.teardown(() => { alpha.server.close(); beta.server.close() })
  return startBerry(t, { config: demoConfig(alpha.origin, beta.origin) })
}

t.test('the openai SDK: chat, streamed chat with usage, legacy completions, embeddings', async (t) => {
  const berry = await demo(t)
  const client = new OpenAI({ apiKey: DEMO_TOKEN, baseURL: `${berry.url}/v1`, maxRetries: 0 })

  const chat = await client.chat.completions.create({ model: 'demo-model', messages: [{ role: 'user', content: 'Hello there' }] })
  t.match(chat, { object: 'chat.completion', choices: [{ message: { role: 'assistant', content: /^Hello from (alpha|beta)! You said: Hello there$/ }, finish_reason: 'stop' }], usage: { prompt_tokens: 2 } })

  const chunks = []
  for await (const chunk of await client.chat.completions.create({ model: 'demo-model', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Hi' }] })) chunks.push(chunk)
  t.equal(chunks[0]?.choices[0]?.delta.role, 'assistant', 'the role comes in the first delta')
  t.ok(chunks.every((c) => typeof c.created === 'number' && c.object === 'chat.completion.chunk'), '`created` on every chunk')
  const finished = chunks.filter((c) => c.choices[0]?.finish_reason !== null && c.choices[0]?.finish_reason !== undefined)
  t.same(finished.map((c) => c.choices[0]?.finish_reason), ['stop'], 'one finish_reason, in the last choice chunk')
  t.match(chunks.at(-1), { choices: [], usage: { prompt_tokens: 1, completion_tokens: 6 } })
  t.match(chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''), /^Hello from (alpha|beta)! You said: Hi$/)

  const legacy = await client.completions.create({ model: 'demo-model', prompt: 'Say this' })
  t.match(legacy, { object: 'text_completion', choices: [{ text: /You said: Say this$/, finish_reason: 'stop' }] })

  // The SDK asks for base64 by default and decodes it.
  const vectors = await client.embeddings.create({ model: 'demo-model', input: ['one', 'two', 'one'] })
  t.equal(vectors.data.length, 3)
  t.equal(vectors.data[0]?.embedding.length, 8)
  t.same(vectors.data[0]?.embedding, vectors.data[2]?.embedding, 'equal inputs, equal vectors')
  t.ok(Math.abs(Math.hypot(...(vectors.data[1]?.embedding ?? [])) - 1) < 1e-6, 'unit length')
})

t.test('the Vercel AI SDK: generateText, streamText to its finish reason, embed', async (t) => {
  const berry = await demo(t)
  const provider = createOpenAI({ apiKey: DEMO_TOKEN, baseURL: `${berry.url}/v1` })

  const generated = await generateText({ model: provider.chat('demo-model'), prompt: 'Hello' })
  t.match(generated.text, /^Hello from (alpha|beta)! You said: Hello$/)
  t.equal(generated.finishReason, 'stop')

  const streamed = streamText({ model: provider.chat('demo-model'), prompt: 'Stream please' })
  let text = ''
  for await (const part of streamed.textStream) text += part
  t.match(text, /You said: Stream please$/)
  t.equal(await streamed.finishReason, 'stop', 'the stream ends with a finish reason')
  t.match(await streamed.usage, { inputTokens: 2, outputTokens: 7 })

  const embedded = await embed({ model: provider.embedding('demo-model'), value: 'berry' })
  t.equal(embedded.embedding.length, 8)
})
