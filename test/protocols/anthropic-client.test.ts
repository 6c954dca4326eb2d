/** The reverse direction: Anthropic Messages clients served by OpenAI-protocol backends. */
import t from 'tap'
import { anthropicClient } from '../../plugin/protocols/claude/client.js'
import { chain } from '../../plugin/protocols/chain.js'
import { createGeminiProtocol } from '../../plugin/protocols/gemini/protocol.js'
import { response, sse } from '../helpers/fake-gemini.js'
import { bytewise, namedEvents, randomPieces, run, testEnv } from './support/pieces.js'

const ask = { model: 'claude-sonnet-5', max_tokens: 100, messages: [{ role: 'user', content: 'Hi' }] }

function convert (body: Record<string, unknown>) {
  return anthropicClient.request({ ...ask, ...body })
}

t.test('the minimal request: model, max_tokens as max_completion_tokens, the message', async (t) => {
  t.same(convert({}), { model: 'claude-sonnet-5', max_completion_tokens: 100, messages: [{ role: 'user', content: 'Hi' }] })
  t.throws(() => anthropicClient.request({ model: 'x', messages: [] }), { statusCode: 400, message: "'max_tokens' is required" })
})

t.test('system (string or blocks) first; system turns keep their place', async (t) => {
  t.same(convert({ system: 'Be brief.' }).messages, [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }])
  t.same((convert({ system: [{ type: 'text', text: 'A' }, { type: 'text', text: 'B', cache_control: { type: 'ephemeral' } }] }).messages as unknown[])[0],
    { role: 'system', content: [{ type: 'text', text: 'A' }, { type: 'text', text: 'B' }] })
  t.same(convert({ messages: [{ role: 'user', content: 'Hi' }, { role: 'system', content: 'Now terse.' }] }).messages, [{ role: 'user', content: 'Hi' }, { role: 'system', content: 'Now terse.' }])
})

t.test('content blocks: text, images (base64 and url), PDF and text documents', async (t) => {
  const out = convert({
    messages: [{
      role: 'user',
      content: [
        { type: 'text', text: 'Look' },
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBOR' } },
        { type: 'image', source: { type: 'url', url: 'https://x/cat.png' } },
        { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0=' }, title: 'r.pdf' },
        { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'plain' } }
      ]
    }]
  })
  t.same(out.messages, [{
    role: 'user',
    content: [
      { type: 'text', text: 'Look' },
      { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBOR' } },
      { type: 'image_url', image_url: { url: 'https://x/cat.png' } },
      { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0=', filename: 'r.pdf' } },
      { type: 'text', text: 'plain' }
    ]
  }])
  t.throws(() => convert({ messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'file', file_id: 'f' } }] }] }), { code: 'BERRY_ERR_UNSUPPORTED_PARAMETER', message: /'messages\[0\]\.content\[0\]'/ })
  t.throws(() => convert({ messages: [{ role: 'user', content: [{ type: 'search_result', source: 'x' }] }] }), { code: 'BERRY_ERR_UNSUPPORTED_PARAMETER' })
})

t.test('tool_use blocks as tool_calls; tool_result blocks as tool messages before the rest of the turn; thinking dropped', async (t) => {
  const out = convert({
    messages: [
      { role: 'user', content: 'Weather?' },
      {
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: 'hmm', signature: 's' },
          { type: 'text', text: 'Checking.' },
          { type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Paris' } }
        ]
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_1', content: 'Sunny' },
          { type: 'tool_result', tool_use_id: 'toolu_2', content: [{ type: 'text', text: 'Noon' }], is_error: true },
          { type: 'text', text: 'Thanks' }
        ]
      }
    ]
  })
  t.same(out.messages, [
    { role: 'user', content: 'Weather?' },
    { role: 'assistant', content: 'Checking.', tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } }] },
    { role: 'tool', tool_call_id: 'toolu_1', content: 'Sunny' },
    { role: 'tool', tool_call_id: 'toolu_2', content: [{ type: 'text', text: 'Noon' }] },
    { role: 'user', content: 'Thanks' }
  ])
  t.throws(() => convert({ messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'image', source: {} }] }] }] }), { code: 'BERRY_ERR_UNSUPPORTED_PARAMETER', message: /content\[0\]\.content\[0\]/ })
})

t.test('tools, tool_choice, stop_sequences, metadata.user_id, stream with usage, sampling of older clients', async (t) => {
  const out = convert({
    tools: [{ name: 'weather', description: 'Now', input_schema: { type: 'object', properties: {} }, strict: true, cache_control: { type: 'ephemeral' } }],
    tool_choice: { type: 'any', disable_parallel_tool_use: true },
    stop_sequences: ['END'],
    metadata: { user_id: 'u-1' },
    stream: true,
    temperature: 0.5,
    top_p: 0.9
  })
  t.same(out, {
    model: 'claude-sonnet-5',
    messages: [{ role: 'user', content: 'Hi' }],
    tools: [{ type: 'function', function: { name: 'weather', parameters: { type: 'object', properties: {} }, description: 'Now', strict: true } }],
    tool_choice: 'required',
    parallel_tool_calls: false,
    stop: ['END'],
    user: 'u-1',
    stream: true,
    stream_options: { include_usage: true },
    temperature: 0.5,
    top_p: 0.9,
    max_completion_tokens: 100
  })
  t.same(convert({ tool_choice: { type: 'tool', name: 'weather' } }).tool_choice, { type: 'function', function: { name: 'weather' } })
  t.same(convert({ tool_choice: { type: 'none' } }).tool_choice, 'none')
  t.same(convert({ tool_choice: { type: 'auto' } }).tool_choice, 'auto')
})

t.test('output_config: effort and a json_schema format', async (t) => {
  const schema = { type: 'object', properties: {} }
  const out = convert({ output_config: { effort: 'high', format: { type: 'json_schema', schema } } })
  t.equal(out.reasoning_effort, 'high')
  t.same(out.response_format, { type: 'json_schema', json_schema: { name: 'output', strict: true, schema } })
})

t.test('what has no equivalent is a 400; what does not change the answer is dropped', async (t) => {
  t.throws(() => convert({ top_k: 5 }), { code: 'BERRY_ERR_UNSUPPORTED_PARAMETER', message: /^The parameter 'top_k' cannot be sent to a backend speaking OpenAI/ })
  t.throws(() => convert({ container: 'c' }), { code: 'BERRY_ERR_UNSUPPORTED_PARAMETER' })
  t.throws(() => convert({ tools: [{ type: 'web_search_20250305', name: 'web_search' }] }), { code: 'BERRY_ERR_UNSUPPORTED_PARAMETER', message: /'tools\[0\]'/ })
  t.throws(() => convert({ mcp_servers: [] }), { code: 'BERRY_ERR_UNSUPPORTED_PARAMETER', message: /an Anthropic Messages parameter/ })
  const out = convert({ thinking: { type: 'enabled', budget_tokens: 2000 }, cache_control: { type: 'ephemeral' }, service_tier: 'auto', inference_geo: 'us', speed: 'fast' })
  t.same(Object.keys(out).sort(), ['max_completion_tokens', 'messages', 'model'])
})

t.test('an OpenAI answer as an Anthropic message', async (t) => {
  const message = anthropicClient.answer({
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1,
    model: 'gpt-4o',
    choices: [{
      index: 0,
      message: { role: 'assistant', content: 'Checking.', reasoning_content: 'hmm', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } }] },
      finish_reason: 'tool_calls'
    }],
    usage: { prompt_tokens: 120, completion_tokens: 9, total_tokens: 129, prompt_tokens_details: { cached_tokens: 100 } }
  })
  t.same(message, {
    id: 'chatcmpl-1',
    type: 'message',
    role: 'assistant',
    model: 'gpt-4o',
    content: [
      { type: 'thinking', thinking: 'hmm', signature: '' },
      { type: 'text', text: 'Checking.', citations: null },
      { type: 'tool_use', id: 'call_1', name: 'weather', input: { city: 'Paris' }, caller: { type: 'direct' } }
    ],
    stop_reason: 'tool_use',
    stop_sequence: null,
    stop_details: null,
    container: null,
    diagnostics: null,
    usage: {
      input_tokens: 20,
      output_tokens: 9,
      cache_read_input_tokens: 100,
      cache_creation_input_tokens: 0,
      cache_creation: null,
      inference_geo: null,
      output_tokens_details: null,
      server_tool_use: null,
      service_tier: null,
      speed: null
    }
  })
  for (const [finish, stop] of [['stop', 'end_turn'], ['length', 'max_tokens'], ['content_filter', 'refusal'], ['function_call', 'tool_use']] as const) {
    t.match(anthropicClient.answer({ choices: [{ message: { content: 'x' }, finish_reason: finish }] }), { stop_reason: stop }, finish)
  }
  t.throws(() => anthropicClient.answer({ nope: true }), { code: 'BERRY_ERR_UPSTREAM_BAD_ANSWER' })
})

const chunk = (delta: object, finish: string | null = null) => `data: ${JSON.stringify({ id: 'chatcmpl-9', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`
const usageChunk = `data: ${JSON.stringify({ id: 'chatcmpl-9', choices: [], usage: { prompt_tokens: 30, completion_tokens: 6, total_tokens: 36 } })}\n\n`

const openAIStream = Buffer.from([
  chunk({ role: 'assistant', content: '' }),
  chunk({ reasoning_content: 'Hmm' }),
  chunk({ content: 'Hel' }),
  chunk({ content: 'lo' }),
  chunk({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'weather', arguments: '' } }] }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
  chunk({ tool_calls: [{ index: 1, id: 'call_2', type: 'function', function: { name: 'time', arguments: '{}' } }] }),
  chunk({}, 'tool_calls'),
  usageChunk,
  'data: [DONE]\n\n'
].join(''))

t.test('an OpenAI stream as Anthropic events, in the documented order', async (t) => {
  const converter = anthropicClient.stream()
  const { text } = run(converter, [openAIStream])
  const events = namedEvents(text)
  t.same(events.map((e) => e.event), [
    'message_start',
    'content_block_start', 'content_block_delta', 'content_block_stop',
    'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_stop',
    'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_stop',
    'content_block_start', 'content_block_delta', 'content_block_stop',
    'message_delta', 'message_stop'
  ])
  t.match(events[0]?.data, { type: 'message_start', message: { id: 'chatcmpl-9', model: 'gpt-4o', role: 'assistant', content: [], stop_reason: null } })
  t.match(events[1]?.data, { index: 0, content_block: { type: 'thinking', thinking: '' } })
  t.match(events[2]?.data, { index: 0, delta: { type: 'thinking_delta', thinking: 'Hmm' } })
  t.match(events[4]?.data, { index: 1, content_block: { type: 'text', text: '' } })
  t.match(events[6]?.data, { index: 1, delta: { type: 'text_delta', text: 'lo' } })
  t.match(events[8]?.data, { index: 2, content_block: { type: 'tool_use', id: 'call_1', name: 'weather', input: {} } })
  t.match(events[10]?.data, { index: 2, delta: { type: 'input_json_delta', partial_json: '"Paris"}' } })
  t.match(events[12]?.data, { index: 3, content_block: { type: 'tool_use', id: 'call_2', name: 'time' } })
  t.match(events[15]?.data, { type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { input_tokens: 30, output_tokens: 6 } })
  t.ok(converter.committed)
  t.same(converter.usage, { promptTokens: 30, completionTokens: 6, totalTokens: 36 })
  t.equal(converter.failure, undefined)
})

t.test('the same events whole, byte by byte and cut at random', async (t) => {
  const whole = run(anthropicClient.stream(), [openAIStream]).text
  t.equal(run(anthropicClient.stream(), bytewise(openAIStream)).text, whole)
  for (const seed of [11, 12, 13]) t.equal(run(anthropicClient.stream(), randomPieces(openAIStream, seed)).text, whole)
})

t.test('an error chunk fails the stream; a stream cut before its finish fails; a finish without [DONE] completes', async (t) => {
  const failing = anthropicClient.stream()
  failing.push(Buffer.from(`data: ${JSON.stringify({ error: { message: 'Rate limited', type: 'rate_limit_error' } })}\n\n`))
  t.same(failing.failure, { status: 429, type: 'rate_limit_error', message: 'Rate limited' })
  t.notOk(failing.committed)
  const cut = anthropicClient.stream()
  run(cut, [Buffer.from(chunk({ content: 'Hi' }))])
  t.match(cut.failure, { status: 502, message: /before its finish_reason/ })
  const lenient = anthropicClient.stream()
  const { text } = run(lenient, [Buffer.from(chunk({ content: 'Hi' }) + chunk({}, 'stop'))])
  t.equal(lenient.failure, undefined)
  t.same(namedEvents(text).slice(-2).map((e) => e.event), ['message_delta', 'message_stop'])
})

t.test('errors in Anthropic\'s shape, and the stream\'s error event', async (t) => {
  const body = (type: string) => ({ error: { message: 'm', type, code: null } })
  t.same(anthropicClient.error(429, body('rate_limit_error')), { type: 'error', error: { type: 'rate_limit_error', message: 'm' }, request_id: null })
  t.match(anthropicClient.error(503, body('service_unavailable')), { error: { type: 'overloaded_error' } })
  t.match(anthropicClient.error(502, body('upstream_error')), { error: { type: 'api_error' } })
  t.match(anthropicClient.error(400, body('whatever')), { error: { type: 'invalid_request_error' } })
  t.match(anthropicClient.error(401, body('x')), { error: { type: 'authentication_error' } })
  t.match(anthropicClient.error(504, body('timeout_error')), { error: { type: 'timeout_error' } })
  t.equal(anthropicClient.streamError({ type: 'upstream_error', message: 'broke off' }).toString(),
    'event: error\ndata: {"type":"error","error":{"type":"api_error","message":"broke off"}}\n\n')
})

t.test('chained: a Gemini stream through OpenAI chunks into Anthropic events', async (t) => {
  const gemini = createGeminiProtocol(testEnv())
  const bytes = Buffer.from([
    sse(response('gemini-2.5-flash', [{ text: 'Bon' }], undefined, undefined)),
    sse(response('gemini-2.5-flash', [{ text: 'jour' }], 'STOP', { promptTokenCount: 4, candidatesTokenCount: 2 }))
  ].join(''))
  const converter = chain(gemini.stream('chat', { model: 'g', includeUsage: true }), anthropicClient.stream())
  const { text } = run(converter, bytewise(bytes))
  const events = namedEvents(text)
  t.same(events.map((e) => e.event), ['message_start', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop'])
  t.match(events.at(-2)?.data, { delta: { stop_reason: 'end_turn' }, usage: { input_tokens: 4, output_tokens: 2 } })
  t.ok(converter.committed)
  t.same(converter.usage, { promptTokens: 4, completionTokens: 2, totalTokens: 6 })
  const failing = chain(gemini.stream('chat', { model: 'g', includeUsage: true }), anthropicClient.stream())
  run(failing, [Buffer.from(sse(response('g', [{ text: 'x' }], undefined, undefined)))])
  t.match(failing.failure, { message: /ended before its last chunk/ })
})
