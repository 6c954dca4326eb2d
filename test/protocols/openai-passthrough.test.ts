/** The OpenAI protocol: a passthrough whose stream watch stops at the first content. */
import t from 'tap'
import { createOpenAIProtocol } from '../../plugin/protocols/openai.js'
import { protocolFor, BACKEND_TYPES } from '../../plugin/protocols/registry.js'
import { sseChunk } from '../helpers/fake-upstream.js'
import { bytewise } from './support/pieces.js'

const protocol = createOpenAIProtocol()
const ctx = { model: 'gpt-4o-2024', basePath: '/v1', query: 'api-version=1', defaultMaxTokens: 4096 }

t.test('the request: the same body with the backend model, the route under the base path, the query', async (t) => {
  const body: Record<string, unknown> = { model: 'gpt-4o', messages: [], temperature: 0.3, stream: true }
  const request = protocol.request('chat', body, ctx)
  t.equal(request.body, body, 'the same object: no copy per attempt')
  t.same(request.body, { model: 'gpt-4o-2024', messages: [], temperature: 0.3, stream: true })
  t.equal(request.path, '/v1/chat/completions?api-version=1')
  t.equal(request.stream, true)
  t.equal(protocol.request('completions', { prompt: 'x' }, { ...ctx, query: '' }).path, '/v1/completions')
  t.equal(protocol.request('embeddings', { input: 'x' }, { ...ctx, basePath: '' }).path, '/embeddings?api-version=1')
  t.ok(protocol.serves('chat') && protocol.serves('completions') && protocol.serves('embeddings'))
  t.same(protocol.credentials('sk-1'), { authorization: 'Bearer sk-1' })
})

t.test('answers pass as they are; errors keep only their known fields', async (t) => {
  const json = { id: 'x', choices: [] }
  t.equal(protocol.answer('chat', json, { model: 'm', body: {} }), json)
  t.throws(() => protocol.answer('chat', 'nope', { model: 'm', body: {} }), { code: 'BERRY_ERR_UPSTREAM_BAD_ANSWER' })
  t.same(protocol.error(429, JSON.stringify({ error: { message: 'Slow down', type: 'rate_limit_error', code: 'rate_limit_exceeded', param: null, extra: 'x' } })),
    { status: 429, body: { error: { message: 'Slow down', type: 'rate_limit_error', code: 'rate_limit_exceeded' } } })
  t.same(protocol.error(502, '<html>nginx</html>'), { status: 502, body: { error: { message: 'The backend answered HTTP 502', type: 'api_error', code: null } } })
})

t.test('the stream: bytes unchanged; committed at the first content', async (t) => {
  const converter = protocol.stream('chat', { model: 'm', includeUsage: false })
  const role = Buffer.from(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { role: 'assistant', content: '' } }] })}\n\n`)
  t.equal(converter.push(role), role)
  t.notOk(converter.committed, 'an empty role chunk is not content')
  const content = Buffer.from(sseChunk('m', 'Hi'))
  t.equal(converter.push(content), content)
  t.ok(converter.committed)
  t.equal(converter.end(), undefined)
  t.equal(converter.failure, undefined)
})

t.test('a tool call commits; so does a refusal; the legacy completions text too', async (t) => {
  const tool = protocol.stream('chat', { model: 'm', includeUsage: false })
  tool.push(Buffer.from(`data: ${JSON.stringify({ choices: [{ delta: { tool_calls: [{ index: 0, id: 'c', function: { name: 'f', arguments: '' } }] } }] })}\n\n`))
  t.ok(tool.committed)
  const refusal = protocol.stream('chat', { model: 'm', includeUsage: false })
  refusal.push(Buffer.from(`data: ${JSON.stringify({ choices: [{ delta: { refusal: 'No.' } }] })}\n\n`))
  t.ok(refusal.committed)
  const legacy = protocol.stream('completions', { model: 'm', includeUsage: false })
  legacy.push(Buffer.from(`data: ${JSON.stringify({ choices: [{ text: 'Once' }] })}\n\n`))
  t.ok(legacy.committed)
})

t.test('an error event before content is a failure: nothing more is returned', async (t) => {
  const converter = protocol.stream('chat', { model: 'm', includeUsage: false })
  const out = converter.push(Buffer.from(`data: ${JSON.stringify({ error: { message: 'Overloaded', type: 'server_error', code: null } })}\n\n`))
  t.equal(out, undefined)
  t.notOk(converter.committed)
  t.same(converter.failure, { status: 500, type: 'server_error', message: 'Overloaded' })
  t.equal(converter.push(Buffer.from(sseChunk('m', 'late'))), undefined)
})

t.test('after commit nothing is parsed: even an oversized or broken event passes untouched', async (t) => {
  const converter = protocol.stream('chat', { model: 'm', includeUsage: false })
  for (const byte of bytewise(Buffer.from(sseChunk('m', 'Hi')))) converter.push(byte)
  t.ok(converter.committed)
  const huge = Buffer.from(`data: ${'x'.repeat(2 * 1024 * 1024)}`)
  t.equal(converter.push(huge), huge)
  const error = Buffer.from(`data: ${JSON.stringify({ error: { message: 'late' } })}\n\n`)
  t.equal(converter.push(error), error)
  t.equal(converter.failure, undefined)
})

t.test('the registry: openai, claude and its alias anthropic, gemini; unknown types undefined', async (t) => {
  t.same(BACKEND_TYPES, ['openai', 'claude', 'anthropic', 'gemini'])
  t.equal(protocolFor('openai')?.name, 'openai')
  t.equal(protocolFor('claude')?.name, 'claude')
  t.equal(protocolFor('anthropic'), protocolFor('claude'))
  t.equal(protocolFor('gemini')?.name, 'gemini')
  t.equal(protocolFor('cohere'), undefined)
})
