/** OpenAI chat requests as Anthropic Messages requests: every row of the table, and the 400s. */
import t from 'tap'
import { createClaudeProtocol, messagesPath } from '../../plugin/protocols/claude/protocol.js'
import { toAnthropicRequest } from '../../plugin/protocols/claude/request.js'
import type { RequestContext } from '../../plugin/protocols/types.js'

const ctx: RequestContext = { model: 'claude-sonnet-5', basePath: '/v1', query: '', defaultMaxTokens: 4096 }
const user = { role: 'user', content: 'Hi' }

function convert (body: Record<string, unknown>, context: RequestContext = ctx) {
  return toAnthropicRequest({ model: 'public-name', messages: [user], ...body }, context)
}

t.test('the minimal request: the backend model, the default max_tokens, the message', async (t) => {
  t.same(convert({}), { model: 'claude-sonnet-5', max_tokens: 4096, messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }] })
  t.equal(convert({}, { ...ctx, defaultMaxTokens: 1000 }).max_tokens, 1000)
})

t.test('max_completion_tokens wins over max_tokens, in any order', async (t) => {
  t.equal(convert({ max_tokens: 10 }).max_tokens, 10)
  t.equal(convert({ max_completion_tokens: 20 }).max_tokens, 20)
  t.equal(convert({ max_tokens: 10, max_completion_tokens: 20 }).max_tokens, 20)
  t.equal(convert({ max_completion_tokens: 20, max_tokens: 10 }).max_tokens, 20)
  t.throws(() => convert({ max_tokens: 0 }), { statusCode: 400, message: /'max_tokens' must be an integer of at least 1/ })
})

t.test('system and developer messages before the conversation become system; later ones keep their place', async (t) => {
  const out = convert({
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'developer', content: [{ type: 'text', text: 'Use French.' }] },
      user,
      { role: 'assistant', content: 'Salut' },
      { role: 'system', content: 'Now English.' },
      { role: 'user', content: 'Again' }
    ]
  })
  t.same(out.system, [{ type: 'text', text: 'Be brief.' }, { type: 'text', text: 'Use French.' }])
  t.same(out.messages, [
    { role: 'user', content: [{ type: 'text', text: 'Hi' }] },
    { role: 'assistant', content: [{ type: 'text', text: 'Salut' }] },
    { role: 'system', content: [{ type: 'text', text: 'Now English.' }] },
    { role: 'user', content: [{ type: 'text', text: 'Again' }] }
  ])
})

t.test('consecutive turns of one role merge into one', async (t) => {
  const out = convert({ messages: [user, { role: 'user', content: [{ type: 'text', text: 'there' }] }, { role: 'assistant', content: 'a' }, { role: 'assistant', content: 'b' }] })
  t.same(out.messages, [
    { role: 'user', content: [{ type: 'text', text: 'Hi' }, { type: 'text', text: 'there' }] },
    { role: 'assistant', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] }
  ])
})

t.test('images: data: URLs as base64 blocks with their type, http(s) URLs as url blocks', async (t) => {
  const out = convert({
    messages: [{
      role: 'user',
      content: [
        { type: 'text', text: 'What is this?' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
        { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'high' } }
      ]
    }]
  })
  t.same(out.messages[0]?.content, [
    { type: 'text', text: 'What is this?' },
    { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
    { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } }
  ])
  t.throws(() => convert({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/tiff;base64,AAAA' } }] }] }),
    { statusCode: 400, code: 'BERRY_ERR_UNSUPPORTED_PARAMETER', message: /'messages\[0\]\.content\[0\]'.*not image\/tiff/ })
  t.throws(() => convert({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'ftp://x/y.png' } }] }] }), { statusCode: 400, message: /http\(s\) URL or a base64 data: URL/ })
})

t.test('files: PDFs and plain text as documents; file ids and audio are 400s', async (t) => {
  const out = convert({
    messages: [{
      role: 'user',
      content: [
        { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0=', filename: 'a.pdf' } },
        { type: 'file', file: { file_data: `data:text/plain;base64,${Buffer.from('hello').toString('base64')}` } }
      ]
    }]
  })
  t.same(out.messages[0]?.content, [
    { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0=' }, title: 'a.pdf' },
    { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'hello' } }
  ])
  t.throws(() => convert({ messages: [{ role: 'user', content: [{ type: 'file', file: { file_id: 'file-1' } }] }] }), { code: 'BERRY_ERR_UNSUPPORTED_PARAMETER', message: /file id/ })
  t.throws(() => convert({ messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } }] }] }), { code: 'BERRY_ERR_UNSUPPORTED_PARAMETER', message: /'messages\[0\]\.content\[0\]'.*audio/ })
})

t.test('assistant tool calls become tool_use blocks; tool messages merge into one user turn of tool_result blocks', async (t) => {
  const out = convert({
    messages: [
      user,
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
          { id: 'call_2', type: 'function', function: { name: 'time', arguments: '' } }
        ]
      },
      { role: 'tool', tool_call_id: 'call_1', content: 'Sunny' },
      { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: 'Noon' }] },
      { role: 'user', content: 'Thanks' }
    ]
  })
  t.same(out.messages.slice(1), [
    {
      role: 'assistant',
      content: [
        { type: 'tool_use', id: 'call_1', name: 'weather', input: { city: 'Paris' } },
        { type: 'tool_use', id: 'call_2', name: 'time', input: {} }
      ]
    },
    {
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'call_1', content: 'Sunny' },
        { type: 'tool_result', tool_use_id: 'call_2', content: [{ type: 'text', text: 'Noon' }] },
        { type: 'text', text: 'Thanks' }
      ]
    }
  ])
})

t.test('tool call arguments that are not a JSON object are a 400 naming the message', async (t) => {
  const call = (args: string) => convert({ messages: [user, { role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: args } }] }] })
  t.throws(() => call('{"city": '), { statusCode: 400, code: 'BERRY_ERR_INVALID_BODY', message: "'messages[1].tool_calls[0].function.arguments' must be a JSON object" })
  t.throws(() => call('[1,2]'), { statusCode: 400, message: /messages\[1\]\.tool_calls\[0\]/ })
})

t.test('tools with input_schema (strict kept), a tool without parameters, custom tools refused', async (t) => {
  const out = convert({
    tools: [
      { type: 'function', function: { name: 'weather', description: 'Weather now', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }, strict: true } },
      { type: 'function', function: { name: 'ping' } }
    ]
  })
  t.same(out.tools, [
    { name: 'weather', description: 'Weather now', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }, strict: true },
    { name: 'ping', input_schema: { type: 'object', properties: {} } }
  ])
  t.throws(() => convert({ tools: [{ type: 'custom', custom: { name: 'grammar' } }] }), { code: 'BERRY_ERR_UNSUPPORTED_PARAMETER', message: /'tools\[0\]'/ })
  t.throws(() => convert({ tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'array' } } }] }), { statusCode: 400, message: /must describe an object/ })
})

t.test('tool_choice: auto, none, required, a named function; parallel_tool_calls false', async (t) => {
  const tools = [{ type: 'function', function: { name: 'f' } }]
  t.same(convert({ tools, tool_choice: 'auto' }).tool_choice, { type: 'auto' })
  t.same(convert({ tools, tool_choice: 'none' }).tool_choice, { type: 'none' })
  t.same(convert({ tools, tool_choice: 'required' }).tool_choice, { type: 'any' })
  t.same(convert({ tools, tool_choice: { type: 'function', function: { name: 'f' } } }).tool_choice, { type: 'tool', name: 'f' })
  t.same(convert({ tools, tool_choice: 'required', parallel_tool_calls: false }).tool_choice, { type: 'any', disable_parallel_tool_use: true })
  t.same(convert({ tools, parallel_tool_calls: false }).tool_choice, { type: 'auto', disable_parallel_tool_use: true })
  t.equal(convert({ tools, parallel_tool_calls: true }).tool_choice, undefined)
  t.throws(() => convert({ tools, tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: [] } } }), { code: 'BERRY_ERR_UNSUPPORTED_PARAMETER', message: /'tool_choice'/ })
})

t.test('stop (string or array), user and safety_identifier, stream', async (t) => {
  t.same(convert({ stop: 'END' }).stop_sequences, ['END'])
  t.same(convert({ stop: ['a', 'b'] }).stop_sequences, ['a', 'b'])
  t.same(convert({ user: 'u-1' }).metadata, { user_id: 'u-1' })
  t.same(convert({ safety_identifier: 's-1' }).metadata, { user_id: 's-1' })
  t.same(convert({ safety_identifier: 's-1', user: 'u-1' }).metadata, { user_id: 'u-1' })
  t.equal(convert({ stream: true }).stream, true)
  t.equal(convert({ stream: false }).stream, undefined)
})

t.test('reasoning_effort and response_format json_schema go to output_config', async (t) => {
  t.same(convert({ reasoning_effort: 'high' }).output_config, { effort: 'high' })
  const schema = { type: 'object', properties: { a: { type: 'string' } }, required: ['a'], additionalProperties: false }
  t.same(convert({ response_format: { type: 'json_schema', json_schema: { name: 'x', schema, strict: true } }, reasoning_effort: 'low' }).output_config,
    { format: { type: 'json_schema', schema }, effort: 'low' })
  t.equal(convert({ response_format: { type: 'text' } }).output_config, undefined)
  t.throws(() => convert({ response_format: { type: 'json_object' } }), { code: 'BERRY_ERR_UNSUPPORTED_PARAMETER', message: /'response_format'/ })
  t.throws(() => convert({ reasoning_effort: 'minimal' }), { code: 'BERRY_ERR_UNSUPPORTED_PARAMETER', message: /'reasoning_effort'/ })
})

t.test('parameters with no equivalent are 400s naming them, unless they ask for the default', async (t) => {
  const refused: Array<[string, unknown]> = [
    ['temperature', 0.2], ['top_p', 0.9], ['n', 2], ['logprobs', true], ['top_logprobs', 3], ['presence_penalty', 0.5],
    ['frequency_penalty', -1], ['seed', 42], ['logit_bias', { 50256: -100 }], ['audio', { voice: 'alloy', format: 'mp3' }],
    ['modalities', ['text', 'audio']], ['verbosity', 'low'], ['web_search_options', {}], ['moderation', { model: 'omni' }],
    ['functions', [{ name: 'f' }]], ['function_call', 'auto'], ['top_k', 5], ['made_up', 1]
  ]
  for (const [name, value] of refused) {
    t.throws(() => convert({ [name]: value }), { statusCode: 400, code: 'BERRY_ERR_UNSUPPORTED_PARAMETER', message: new RegExp(`^The parameter '${name}' cannot be sent to a backend speaking Anthropic`) }, name)
  }
  const allowed: Record<string, unknown> = {
    temperature: 1,
    top_p: 1,
    n: 1,
    logprobs: false,
    top_logprobs: 0,
    presence_penalty: 0,
    frequency_penalty: 0,
    logit_bias: {},
    modalities: ['text'],
    metadata: { a: 'b' },
    store: true,
    prompt_cache_key: 'k',
    prompt_cache_retention: '24h',
    service_tier: 'auto',
    prediction: { type: 'content', content: 'x' },
    stream_options: { include_usage: true },
    seed: null
  }
  const out = convert(allowed)
  t.same(Object.keys(out).sort(), ['max_tokens', 'messages', 'model'], 'defaults and harmless parameters leave nothing behind')
})

t.test('the temperature refusal says why', async (t) => {
  t.throws(() => convert({ temperature: 0 }), { message: /2026-10-21 has no sampling parameters/ })
})

t.test('malformed requests are 400s naming where', async (t) => {
  t.throws(() => toAnthropicRequest({ model: 'x' }, ctx), { statusCode: 400, message: "'messages' is required" })
  t.throws(() => convert({ messages: [] }), { statusCode: 400, message: /at least one message/ })
  t.throws(() => convert({ messages: [{ role: 'robot', content: 'x' }] }), { statusCode: 400, message: /'messages\[0\]\.role'/ })
  t.throws(() => convert({ messages: [{ role: 'user', content: [{ type: 'video', url: 'x' }] }] }), { statusCode: 400, message: /'messages\[0\]\.content\[0\]\.type'/ })
  t.throws(() => convert({ messages: [{ role: 'tool', content: 'x' }] }), { statusCode: 400, message: /'messages\[0\]\.tool_call_id' must be a string/ })
  t.throws(() => convert({ messages: [{ role: 'function', name: 'f', content: 'x' }] }), { statusCode: 400, message: /retired functions API/ })
  t.throws(() => convert({ stop: [1] }), { statusCode: 400, message: "'stop[0]' must be a string" })
  t.throws(() => convert({ stream: 'yes' }), { statusCode: 400, message: "'stream' must be a boolean" })
})

t.test('the path: /v1/messages whether base_url ends in /v1 or not, the provider query after', async (t) => {
  t.equal(messagesPath('', ''), '/v1/messages')
  t.equal(messagesPath('/v1', ''), '/v1/messages')
  t.equal(messagesPath('/anthropic', 'beta=true'), '/anthropic/v1/messages?beta=true')
  t.equal(messagesPath('/anthropic/v1', ''), '/anthropic/v1/messages')
  const protocol = createClaudeProtocol()
  const request = protocol.request('chat', { model: 'x', messages: [user], stream: true }, { ...ctx, basePath: '', query: 'a=1' })
  t.equal(request.path, '/v1/messages?a=1')
  t.equal(request.stream, true)
})

t.test('Claude serves chat only', async (t) => {
  const protocol = createClaudeProtocol()
  t.ok(protocol.serves('chat'))
  t.notOk(protocol.serves('completions'))
  t.notOk(protocol.serves('embeddings'))
  t.throws(() => protocol.request('embeddings', { input: 'x' }, ctx), { statusCode: 400, code: 'BERRY_ERR_ROUTE_NOT_SERVED', message: 'A backend speaking Anthropic does not serve /v1/embeddings' })
})

t.test('credentials: the key as a bearer token and the SDK\'s API version', async (t) => {
  t.same(createClaudeProtocol().credentials('sk-ant-1'), { authorization: 'Bearer sk-ant-1', 'anthropic-version': '2026-10-21' })
})

t.test('author names are left out: Anthropic has none', async (t) => {
  t.same(convert({ messages: [{ role: 'user', name: 'alice', content: 'Hi' }] }).messages, [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }])
})
