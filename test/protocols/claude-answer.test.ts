/** Anthropic answers, streams and errors as OpenAI's. */
import t from 'tap'
import { fromAnthropicMessage, finishReason } from '../../plugin/protocols/claude/answer.js'
import { createClaudeProtocol } from '../../plugin/protocols/claude/protocol.js'
import { event, streamEvents, textBlock, thinkingBlock, toolBlock, type StreamPlan } from '../helpers/fake-anthropic.js'
import { bytewise, dataEvents, randomPieces, run, testEnv } from './support/pieces.js'

const protocol = createClaudeProtocol(testEnv())

function message (content: object[], stopReason = 'end_turn', usage: object = { input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 }) {
  return { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-sonnet-5', content, stop_reason: stopReason, stop_sequence: null, usage }
}

t.test('a text answer: blocks joined, id, created in seconds, the upstream\'s model, usage', async (t) => {
  const answer = fromAnthropicMessage(message([{ type: 'text', text: 'Hello ' }, { type: 'text', text: 'world' }]), 1_750_000_000)
  t.same(answer, {
    id: 'msg_1',
    object: 'chat.completion',
    created: 1_750_000_000,
    model: 'claude-sonnet-5',
    choices: [{ index: 0, message: { role: 'assistant', content: 'Hello world', refusal: null }, finish_reason: 'stop', logprobs: null }],
    usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, prompt_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 } }
  })
  t.match(protocol.answer('chat', message([{ type: 'text', text: 'x' }]), { model: 'm', body: {} }), { created: 1_750_000_000 }, 'created from the injected clock')
})

t.test('tool_use blocks become tool_calls with JSON arguments; content is null without text', async (t) => {
  const answer = fromAnthropicMessage(message([{ type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Paris' }, caller: { type: 'direct' } }], 'tool_use'), 1)
  t.same(answer.choices[0]?.message, { role: 'assistant', content: null, refusal: null, tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } }] })
  t.equal(answer.choices[0]?.finish_reason, 'tool_calls')
})

t.test('thinking becomes reasoning_content; redacted thinking and server blocks are left out', async (t) => {
  const answer = fromAnthropicMessage(message([
    { type: 'thinking', thinking: 'Let me see', signature: 'sig' },
    { type: 'redacted_thinking', data: 'xxx' },
    { type: 'server_tool_use', id: 'srv', name: 'web_search', input: {} },
    { type: 'text', text: 'Answer' }
  ]), 1)
  t.same(answer.choices[0]?.message, { role: 'assistant', content: 'Answer', refusal: null, reasoning_content: 'Let me see' })
})

t.test('usage: prompt tokens count cache reads and writes; total is their sum; thinking tokens are reasoning tokens', async (t) => {
  const answer = fromAnthropicMessage(message([{ type: 'text', text: 'x' }], 'end_turn', {
    input_tokens: 10, output_tokens: 7, cache_read_input_tokens: 100, cache_creation_input_tokens: 20, output_tokens_details: { thinking_tokens: 4 }
  }), 1)
  t.same(answer.usage, {
    prompt_tokens: 130,
    completion_tokens: 7,
    total_tokens: 137,
    prompt_tokens_details: { cached_tokens: 100, cache_write_tokens: 20 },
    completion_tokens_details: { reasoning_tokens: 4 }
  })
})

t.test('finish_reason for every stop_reason', async (t) => {
  t.equal(finishReason('end_turn'), 'stop')
  t.equal(finishReason('stop_sequence'), 'stop')
  t.equal(finishReason('max_tokens'), 'length')
  t.equal(finishReason('tool_use'), 'tool_calls')
  t.equal(finishReason('refusal'), 'content_filter')
  t.equal(finishReason('pause_turn'), 'length')
  t.equal(finishReason('model_context_window_exceeded'), 'length')
  t.equal(finishReason(null), 'stop')
})

t.test('an answer that is not an Anthropic message is a 502', async (t) => {
  t.throws(() => fromAnthropicMessage({ choices: [] }, 1), { statusCode: 502, code: 'BERRY_ERR_UPSTREAM_BAD_ANSWER' })
})

t.test('error bodies: the provider\'s message and type kept, the type mapped, nothing else copied', async (t) => {
  const body = (type: string, msg: string) => JSON.stringify({ type: 'error', error: { type, message: msg }, request_id: 'req_1' })
  t.same(protocol.error(529, body('overloaded_error', 'Overloaded')), { status: 529, body: { error: { message: 'Overloaded', type: 'service_unavailable', code: 'overloaded_error' } } })
  t.same(protocol.error(429, body('rate_limit_error', 'Slow down')).body, { error: { message: 'Slow down', type: 'rate_limit_error', code: 'rate_limit_error' } })
  t.same(protocol.error(400, body('invalid_request_error', 'temperature: Extra inputs are not permitted')).body.error.type, 'invalid_request_error')
  t.same(protocol.error(402, body('billing_error', 'Credit balance too low')).body.error.type, 'insufficient_quota')
  const rows: Array<[string, number, string]> = [
    ['authentication_error', 401, 'authentication_error'], ['permission_error', 403, 'permission_error'], ['not_found_error', 404, 'not_found_error'],
    ['conflict_error', 409, 'invalid_request_error'], ['api_error', 500, 'api_error'], ['timeout_error', 504, 'timeout_error']
  ]
  for (const [type, status, openAIType] of rows) {
    t.same(protocol.error(status, body(type, 'm')).body.error, { message: 'm', type: openAIType, code: type }, type)
  }
  const failing = protocol.stream('chat', { model: 'm', includeUsage: false })
  failing.push(Buffer.from(event('error', { error: { type: 'rate_limit_error', message: 'Slow' } })))
  t.same(failing.failure, { status: 429, type: 'rate_limit_error', message: 'Slow' }, 'the status an error event stands for')
  t.same(protocol.error(413, body('request_too_large', 'Too big')).body, { error: { message: 'Too big', type: 'invalid_request_error', code: 'request_too_large' } })
  t.same(protocol.error(502, '<html>Bad gateway at 10.0.0.1 key=sk-ant-secret</html>'), { status: 502, body: { error: { message: 'The Anthropic backend answered HTTP 502', type: 'api_error', code: null } } })
})

function stream (plan: StreamPlan, model = 'claude-sonnet-5'): Buffer {
  return Buffer.from(streamEvents(model, plan).join(''))
}

const textPlan: StreamPlan = { blocks: textBlock(0, ['Hel', 'lo']), usage: { input_tokens: 12, output_tokens: 2, cache_read_input_tokens: 3 } }

t.test('a text stream: role chunk, content deltas, finish chunk, [DONE]; ping dropped', async (t) => {
  const converter = protocol.stream('chat', { model: 'm', includeUsage: false })
  const { text, commits } = run(converter, [stream(textPlan)])
  const events = dataEvents(text)
  t.match(events, [
    { id: 'msg_fake_01', object: 'chat.completion.chunk', created: 1_750_000_000, model: 'claude-sonnet-5', choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
    { choices: [{ delta: { content: 'Hel' }, finish_reason: null }] },
    { choices: [{ delta: { content: 'lo' }, finish_reason: null }] },
    { choices: [{ delta: {}, finish_reason: 'stop' }] },
    '[DONE]'
  ])
  t.equal(events.length, 5)
  t.same(commits, [true])
  t.equal(converter.failure, undefined)
  t.same(converter.usage, { promptTokens: 15, completionTokens: 2, totalTokens: 17 })
})

t.test('include_usage: a last chunk with no choices and the usage', async (t) => {
  const { text } = run(protocol.stream('chat', { model: 'm', includeUsage: true }), [stream(textPlan)])
  const events = dataEvents(text)
  t.same(events.at(-2), {
    id: 'msg_fake_01',
    object: 'chat.completion.chunk',
    created: 1_750_000_000,
    model: 'claude-sonnet-5',
    choices: [],
    usage: { prompt_tokens: 15, completion_tokens: 2, total_tokens: 17, prompt_tokens_details: { cached_tokens: 3, cache_write_tokens: 0 } }
  })
  t.equal(events.at(-1), '[DONE]')
})

t.test('a tool call: the tool_calls delta with id and name, then its argument pieces', async (t) => {
  const bytes = stream({ blocks: [...textBlock(0, ['Checking.'], false), ...toolBlock(1, 'toolu_1', 'weather', ['{"ci', 'ty": "Paris"}'])], stopReason: 'tool_use' })
  const events = dataEvents(run(protocol.stream('chat', { model: 'm', includeUsage: false }), [bytes]).text)
  t.match(events.slice(1), [
    { choices: [{ delta: { content: 'Checking.' } }] },
    { choices: [{ delta: { tool_calls: [{ index: 0, id: 'toolu_1', type: 'function', function: { name: 'weather', arguments: '' } }] } }] },
    { choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: '{"ci' } }] } }] },
    { choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: 'ty": "Paris"}' } }] } }] },
    { choices: [{ delta: {}, finish_reason: 'tool_calls' }] },
    '[DONE]'
  ])
})

t.test('two tool calls are indexed 0 and 1; a call with no input pieces gets "{}"', async (t) => {
  const bytes = stream({ blocks: [...toolBlock(0, 'a', 'f', []), ...toolBlock(1, 'b', 'g', ['{"x":1}'])], stopReason: 'tool_use' })
  const events = dataEvents(run(protocol.stream('chat', { model: 'm', includeUsage: false }), [bytes]).text)
  t.match(events.slice(1, 5), [
    { choices: [{ delta: { tool_calls: [{ index: 0, id: 'a', function: { name: 'f', arguments: '' } }] } }] },
    { choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: '{}' } }] } }] },
    { choices: [{ delta: { tool_calls: [{ index: 1, id: 'b', function: { name: 'g', arguments: '' } }] } }] },
    { choices: [{ delta: { tool_calls: [{ index: 1, function: { arguments: '{"x":1}' } }] } }] }
  ])
})

t.test('thinking deltas become reasoning_content and commit: a long thinking is not held back', async (t) => {
  const converter = protocol.stream('chat', { model: 'm', includeUsage: false })
  const thinking = Buffer.from(streamEvents('claude-sonnet-5', { blocks: [...thinkingBlock(0, ['Hmm']), ...textBlock(1, ['Yes'])] }).join(''))
  const start = thinking.indexOf('thinking_delta')
  converter.push(thinking.subarray(0, start - 80))
  t.notOk(converter.committed, 'message_start and the block start are not the answer yet')
  const first = converter.push(thinking.subarray(start - 80, thinking.indexOf('content_block_start', start)))?.toString() ?? ''
  t.ok(converter.committed, 'the first thinking delta is')
  t.match(dataEvents(first).at(-1), { choices: [{ delta: { reasoning_content: 'Hmm' } }] })
})

t.test('the same output whether the bytes come whole, byte by byte or cut at random', async (t) => {
  const bytes = stream({ blocks: [...thinkingBlock(0, ['A', 'B']), ...textBlock(1, ['日本', '語 🍓']), ...toolBlock(2, 't', 'f', ['{"a"', ':1}'])], stopReason: 'tool_use' })
  const whole = run(protocol.stream('chat', { model: 'm', includeUsage: true }), [bytes]).text
  t.equal(run(protocol.stream('chat', { model: 'm', includeUsage: true }), bytewise(bytes)).text, whole)
  for (const seed of [1, 2, 3, 4, 5]) t.equal(run(protocol.stream('chat', { model: 'm', includeUsage: true }), randomPieces(bytes, seed)).text, whole, `seed ${seed}`)
})

t.test('overloaded_error as the first event after a 200: a failure before any commit', async (t) => {
  const converter = protocol.stream('chat', { model: 'm', includeUsage: false })
  const out = converter.push(Buffer.from(event('error', { error: { type: 'overloaded_error', message: 'Overloaded' } })))
  t.equal(out, undefined)
  t.notOk(converter.committed)
  t.same(converter.failure, { status: 529, type: 'service_unavailable', message: 'Overloaded' })
  t.equal(converter.end(), undefined)
})

t.test('an error event after content: committed, then a failure; nothing after it, no [DONE]', async (t) => {
  const converter = protocol.stream('chat', { model: 'm', includeUsage: false })
  const bytes = Buffer.from(streamEvents('claude-sonnet-5', { blocks: textBlock(0, ['Hel', 'lo']), errorAfter: 3, errorType: 'api_error' }).join(''))
  const { text } = run(converter, [bytes, Buffer.from(event('message_stop', {}))])
  t.ok(converter.committed)
  t.same(converter.failure, { status: 500, type: 'api_error', message: 'Overloaded' })
  t.notMatch(text, /\[DONE\]/)
  t.match(dataEvents(text).at(-1), { choices: [{ delta: { content: 'Hel' } }] })
})

t.test('a stream that ends before message_stop is a failure, not a complete answer', async (t) => {
  const converter = protocol.stream('chat', { model: 'm', includeUsage: false })
  const events = streamEvents('claude-sonnet-5', textPlan)
  run(converter, [Buffer.from(events.slice(0, -2).join(''))])
  t.match(converter.failure, { status: 502, type: 'upstream_error', message: /ended before message_stop/ })
})

t.test('an event that is not JSON, or JSON of the wrong shape, fails the stream', async (t) => {
  const notJson = protocol.stream('chat', { model: 'm', includeUsage: false })
  notJson.push(Buffer.from('event: message_start\ndata: {nope\n\n'))
  t.match(notJson.failure, { status: 502, message: /not JSON/ })
  const wrong = protocol.stream('chat', { model: 'm', includeUsage: false })
  wrong.push(Buffer.from('event: content_block_delta\ndata: {"type":"content_block_delta","index":0}\n\n'))
  t.match(wrong.failure, { status: 502, message: /could not read/ })
})

t.test('an event larger than 1 MiB fails the stream instead of growing', async (t) => {
  const converter = protocol.stream('chat', { model: 'm', includeUsage: false })
  converter.push(Buffer.from(`event: content_block_delta\ndata: ${'x'.repeat(1024 * 1024 + 1)}`))
  t.match(converter.failure, { status: 502, message: /larger than 1048576 bytes/ })
})

t.test('events newer than these types are skipped', async (t) => {
  const bytes = Buffer.from(streamEvents('claude-sonnet-5', { blocks: [event('content_block_start', { index: 0, content_block: { type: 'hologram' } }), event('brand_new_event', {}), ...textBlock(1, ['ok'])] }).join(''))
  const converter = protocol.stream('chat', { model: 'm', includeUsage: false })
  const events = dataEvents(run(converter, [bytes]).text)
  t.equal(converter.failure, undefined)
  t.match(events[1], { choices: [{ delta: { content: 'ok' } }] })
})
