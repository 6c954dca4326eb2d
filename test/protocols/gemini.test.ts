/** OpenAI requests as Gemini's, and Gemini's answers, streams, embeddings and errors as OpenAI's. */
import t from 'tap'
import { createGeminiProtocol, methodPath } from '../../plugin/protocols/gemini/protocol.js'
import { SKIP_SIGNATURE, toGeminiRequest } from '../../plugin/protocols/gemini/request.js'
import { finishReason } from '../../plugin/protocols/gemini/answer.js'
import { errorBody, response, sse } from '../helpers/fake-gemini.js'
import type { RequestContext } from '../../plugin/protocols/types.js'
import { bytewise, dataEvents, randomPieces, run, testEnv } from './support/pieces.js'

const protocol = createGeminiProtocol(testEnv())
const ctx: RequestContext = { model: 'gemini-2.5-flash', basePath: '/v1beta', query: '', defaultMaxTokens: 4096 }
const user = { role: 'user', content: 'Hi' }

function convert (body: Record<string, unknown>) {
  return toGeminiRequest({ model: 'public', messages: [user], ...body })
}

t.test('paths: generateContent, streamGenerateContent?alt=sse, batchEmbedContents, the provider query after', async (t) => {
  t.equal(methodPath('/v1beta', 'gemini-2.5-flash', 'generateContent', ''), '/v1beta/models/gemini-2.5-flash:generateContent')
  t.equal(methodPath('/v1beta', 'gemini-2.5-flash', 'streamGenerateContent', '', true), '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse')
  t.equal(methodPath('/v1beta', 'models/gemini-pro', 'generateContent', 'x=1', true), '/v1beta/models/gemini-pro:generateContent?alt=sse&x=1')
  t.equal(methodPath('', 'tunedModels/mine', 'generateContent', 'x=1'), '/tunedModels/mine:generateContent?x=1')
  t.equal(protocol.request('chat', { messages: [user], stream: true }, ctx).path, '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse')
  t.equal(protocol.request('chat', { messages: [user] }, ctx).stream, false)
  t.equal(protocol.request('embeddings', { input: 'x' }, ctx).path, '/v1beta/models/gemini-2.5-flash:batchEmbedContents')
})

t.test('serves chat and embeddings; the key goes in x-goog-api-key', async (t) => {
  t.ok(protocol.serves('chat'))
  t.ok(protocol.serves('embeddings'))
  t.notOk(protocol.serves('completions'))
  t.throws(() => protocol.request('completions', { prompt: 'x' }, ctx), { code: 'BERRY_ERR_ROUTE_NOT_SERVED' })
  t.same(protocol.credentials('AIza-1'), { 'x-goog-api-key': 'AIza-1' })
})

t.test('roles user and model, every system message gathered in systemInstruction, turns merged', async (t) => {
  const out = convert({
    messages: [
      { role: 'system', content: 'Be brief.' },
      user,
      { role: 'user', content: [{ type: 'text', text: 'there' }] },
      { role: 'assistant', content: 'Hello' },
      { role: 'developer', content: 'Use French.' },
      { role: 'user', content: 'Again' }
    ]
  })
  t.same(out, {
    systemInstruction: { parts: [{ text: 'Be brief.' }, { text: 'Use French.' }] },
    contents: [
      { role: 'user', parts: [{ text: 'Hi' }, { text: 'there' }] },
      { role: 'model', parts: [{ text: 'Hello' }] },
      { role: 'user', parts: [{ text: 'Again' }] }
    ]
  })
})

t.test('generationConfig from max tokens, temperature, top_p, stop, penalties, seed', async (t) => {
  t.same(convert({ max_tokens: 50, temperature: 0.3, top_p: 0.9, stop: 'END', presence_penalty: 0.5, frequency_penalty: 0.2, seed: 7 }).generationConfig,
    { maxOutputTokens: 50, temperature: 0.3, topP: 0.9, stopSequences: ['END'], presencePenalty: 0.5, frequencyPenalty: 0.2, seed: 7 })
  t.equal(convert({ max_tokens: 10, max_completion_tokens: 20 }).generationConfig?.maxOutputTokens, 20)
  t.equal(convert({}).generationConfig, undefined, 'no default max tokens: Gemini needs none')
})

t.test('response_format: json_object and json_schema as a JSON mime type and schema', async (t) => {
  t.same(convert({ response_format: { type: 'json_object' } }).generationConfig, { responseMimeType: 'application/json' })
  const schema = { type: 'object', properties: { a: { type: 'string' } } }
  t.same(convert({ response_format: { type: 'json_schema', json_schema: { name: 'x', schema } } }).generationConfig, { responseMimeType: 'application/json', responseJsonSchema: schema })
})

t.test('reasoning_effort as a thinking level, none as no thinking budget', async (t) => {
  t.same(convert({ reasoning_effort: 'high' }).generationConfig, { thinkingConfig: { thinkingLevel: 'HIGH' } })
  t.same(convert({ reasoning_effort: 'none' }).generationConfig, { thinkingConfig: { thinkingBudget: 0 } })
  t.throws(() => convert({ reasoning_effort: 'max' }), { code: 'BERRY_ERR_UNSUPPORTED_PARAMETER', message: /'reasoning_effort'/ })
})

t.test('images: data: URLs inline, http URLs as fileData with their type, else a 400 saying so; audio and files inline', async (t) => {
  const out = convert({
    messages: [{
      role: 'user',
      content: [
        { type: 'image_url', image_url: { url: 'data:image/webp;base64,UklGRg==' } },
        { type: 'image_url', image_url: { url: 'https://example.com/a/cat.JPG?size=big' } },
        { type: 'input_audio', input_audio: { data: 'AAAA', format: 'mp3' } },
        { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0=' } }
      ]
    }]
  })
  t.same(out.contents[0]?.parts, [
    { inlineData: { mimeType: 'image/webp', data: 'UklGRg==' } },
    { fileData: { fileUri: 'https://example.com/a/cat.JPG?size=big', mimeType: 'image/jpeg' } },
    { inlineData: { mimeType: 'audio/mp3', data: 'AAAA' } },
    { inlineData: { mimeType: 'application/pdf', data: 'JVBERi0=' } }
  ])
  t.throws(() => convert({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/image' } }] }] }),
    { statusCode: 400, code: 'BERRY_ERR_UNSUPPORTED_PARAMETER', message: /'messages\[0\]\.content\[0\]'.*must be told an image URL's type.*data: URL/ })
})

t.test('tool calls as functionCall parts, results as functionResponse named from the earlier call', async (t) => {
  const out = convert({
    messages: [
      user,
      {
        role: 'assistant',
        content: 'Checking',
        tool_calls: [
          { id: 'call_a', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' }, extra_content: { google: { thought_signature: 'sig-1' } } },
          { id: 'call_b', type: 'function', function: { name: 'time', arguments: '{}' } }
        ]
      },
      { role: 'tool', tool_call_id: 'call_b', content: 'Noon' },
      { role: 'tool', tool_call_id: 'call_a', content: [{ type: 'text', text: 'Sunny' }] }
    ]
  })
  t.same(out.contents.slice(1), [
    {
      role: 'model',
      parts: [
        { text: 'Checking' },
        { functionCall: { name: 'weather', args: { city: 'Paris' } }, thoughtSignature: 'sig-1' },
        { functionCall: { name: 'time', args: {} } }
      ]
    },
    {
      role: 'user',
      parts: [
        { functionResponse: { name: 'time', response: { output: 'Noon' } } },
        { functionResponse: { name: 'weather', response: { output: 'Sunny' } } }
      ]
    }
  ])
})

t.test('a first function call without its signature gets Google\'s documented stand-in', async (t) => {
  const out = convert({ messages: [user, { role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] }] })
  t.same(out.contents[1]?.parts, [{ functionCall: { name: 'f', args: {} }, thoughtSignature: SKIP_SIGNATURE }])
})

t.test('a tool result for no earlier call, and bad arguments, are 400s naming the message', async (t) => {
  t.throws(() => convert({ messages: [user, { role: 'tool', tool_call_id: 'nope', content: 'x' }] }), { statusCode: 400, message: "'messages[1].tool_call_id' names no tool call of an earlier assistant message" })
  t.throws(() => convert({ messages: [user, { role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: 'nope' } }] }] }), { statusCode: 400, message: /'messages\[1\]\.tool_calls\[0\]\.function\.arguments'/ })
})

t.test('tools as functionDeclarations with their JSON schema; tool_choice as functionCallingConfig', async (t) => {
  const tools = [{ type: 'function', function: { name: 'weather', description: 'Now', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: true } }, { type: 'function', function: { name: 'ping' } }]
  t.same(convert({ tools }).tools, [{ functionDeclarations: [{ name: 'weather', description: 'Now', parametersJsonSchema: { type: 'object', properties: { city: { type: 'string' } } } }, { name: 'ping' }] }])
  t.same(convert({ tools, tool_choice: 'auto' }).toolConfig, { functionCallingConfig: { mode: 'AUTO' } })
  t.same(convert({ tools, tool_choice: 'none' }).toolConfig, { functionCallingConfig: { mode: 'NONE' } })
  t.same(convert({ tools, tool_choice: 'required' }).toolConfig, { functionCallingConfig: { mode: 'ANY' } })
  t.same(convert({ tools, tool_choice: { type: 'function', function: { name: 'ping' } } }).toolConfig, { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['ping'] } })
  t.same(convert({ tools, tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: [{ type: 'function', function: { name: 'ping' } }] } } }).toolConfig,
    { functionCallingConfig: { mode: 'AUTO', allowedFunctionNames: ['ping'] } })
})

t.test('parameters with no equivalent are 400s naming them, unless they ask for the default', async (t) => {
  const refused: Array<[string, unknown]> = [['n', 3], ['logprobs', true], ['top_logprobs', 2], ['parallel_tool_calls', false], ['logit_bias', { 1: 1 }], ['audio', {}], ['modalities', ['audio']], ['verbosity', 'high'], ['web_search_options', {}], ['functions', []], ['top_k', 3]]
  for (const [name, value] of refused) {
    t.throws(() => convert({ [name]: value }), { statusCode: 400, code: 'BERRY_ERR_UNSUPPORTED_PARAMETER', message: new RegExp(`^The parameter '${name}' cannot be sent to a backend speaking Gemini`) }, name)
  }
  const out = convert({ n: 1, logprobs: false, parallel_tool_calls: true, user: 'u', safety_identifier: 's', metadata: {}, store: false, stream_options: { include_usage: true }, service_tier: 'auto' })
  t.same(Object.keys(out), ['contents'])
})

t.test('answers: text, thoughts, function calls with stable ids and their signatures, usage', async (t) => {
  const json = response('gemini-2.5-flash-001', [
    { text: 'Let me think', thought: true },
    { text: 'Checking. ' },
    { functionCall: { name: 'weather', args: { city: 'Paris' } }, thoughtSignature: 'sig' },
    { functionCall: { name: 'time', args: {} } }
  ], 'STOP', { promptTokenCount: 10, candidatesTokenCount: 5, thoughtsTokenCount: 3, cachedContentTokenCount: 4 })
  const answer = protocol.answer('chat', json, { model: 'gemini-2.5-flash', body: {} })
  t.same(answer, {
    id: 'resp-fake-01',
    object: 'chat.completion',
    created: 1_750_000_000,
    model: 'gemini-2.5-flash-001',
    choices: [{
      index: 0,
      message: {
        role: 'assistant',
        content: 'Checking. ',
        refusal: null,
        reasoning_content: 'Let me think',
        tool_calls: [
          { id: 'call_resp-fake-01_0', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' }, extra_content: { google: { thought_signature: 'sig' } } },
          { id: 'call_resp-fake-01_1', type: 'function', function: { name: 'time', arguments: '{}' } }
        ]
      },
      finish_reason: 'tool_calls',
      logprobs: null
    }],
    usage: { prompt_tokens: 10, completion_tokens: 8, total_tokens: 18, prompt_tokens_details: { cached_tokens: 4 }, completion_tokens_details: { reasoning_tokens: 3 } }
  })
})

t.test('a blocked prompt is content_filter with empty content', async (t) => {
  const answer = protocol.answer('chat', { promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 5, totalTokenCount: 5 }, responseId: 'r' }, { model: 'g', body: {} })
  t.match(answer, { id: 'r', model: 'g', choices: [{ message: { content: '' }, finish_reason: 'content_filter' }] })
})

t.test('finish reasons', async (t) => {
  t.equal(finishReason('STOP', false), 'stop')
  t.equal(finishReason('STOP', true), 'tool_calls')
  t.equal(finishReason('MAX_TOKENS', false), 'length')
  for (const reason of ['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY', 'LANGUAGE'] as const) t.equal(finishReason(reason, false), 'content_filter', reason)
  t.equal(finishReason('MALFORMED_FUNCTION_CALL', false), 'stop')
  t.equal(finishReason('OTHER', false), 'stop')
})

function streamBytes (chunks: object[]): Buffer {
  return Buffer.from(chunks.map(sse).join(''))
}

const streamed = [
  response('gemini-2.5-flash', [{ text: 'Hel' }], undefined, { promptTokenCount: 9, candidatesTokenCount: 1 }),
  response('gemini-2.5-flash', [{ text: 'lo 🍓' }], undefined, { promptTokenCount: 9, candidatesTokenCount: 2 }),
  response('gemini-2.5-flash', [{ functionCall: { name: 'f', args: { a: 1 } }, thoughtSignature: 's' }], 'STOP', { promptTokenCount: 9, candidatesTokenCount: 4 })
]

t.test('a stream: role chunk, content deltas, a whole tool call, the finish chunk; usage and [DONE] at the end', async (t) => {
  const converter = protocol.stream('chat', { model: 'm', includeUsage: true })
  const { text } = run(converter, [streamBytes(streamed)])
  t.match(dataEvents(text), [
    { id: 'resp-fake-01', object: 'chat.completion.chunk', created: 1_750_000_000, model: 'gemini-2.5-flash', choices: [{ delta: { role: 'assistant', content: '' } }] },
    { choices: [{ delta: { content: 'Hel' } }] },
    { choices: [{ delta: { content: 'lo 🍓' } }] },
    { choices: [{ delta: { tool_calls: [{ index: 0, id: 'call_resp-fake-01_0', type: 'function', function: { name: 'f', arguments: '{"a":1}' }, extra_content: { google: { thought_signature: 's' } } }] } }] },
    { choices: [{ delta: {}, finish_reason: 'tool_calls' }] },
    { choices: [], usage: { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 } },
    '[DONE]'
  ])
  t.ok(converter.committed)
  t.same(converter.usage, { promptTokens: 9, completionTokens: 4, totalTokens: 13 })
})

t.test('the same output whole, byte by byte and cut at random', async (t) => {
  const bytes = streamBytes(streamed)
  const whole = run(protocol.stream('chat', { model: 'm', includeUsage: true }), [bytes]).text
  t.equal(run(protocol.stream('chat', { model: 'm', includeUsage: true }), bytewise(bytes)).text, whole)
  for (const seed of [7, 8, 9]) t.equal(run(protocol.stream('chat', { model: 'm', includeUsage: true }), randomPieces(bytes, seed)).text, whole)
})

t.test('an error chunk before content is a failure with its status, before any commit', async (t) => {
  const converter = protocol.stream('chat', { model: 'm', includeUsage: false })
  converter.push(Buffer.from(sse(errorBody(503, 'UNAVAILABLE', 'The model is overloaded.'))))
  t.notOk(converter.committed)
  t.same(converter.failure, { status: 503, type: 'service_unavailable', message: 'The model is overloaded.' })
})

t.test('an error chunk after content: committed, failed, no [DONE]', async (t) => {
  const converter = protocol.stream('chat', { model: 'm', includeUsage: false })
  const { text } = run(converter, [streamBytes(streamed.slice(0, 1)), Buffer.from(sse(errorBody(500, 'INTERNAL', 'Boom')))])
  t.ok(converter.committed)
  t.same(converter.failure, { status: 500, type: 'api_error', message: 'Boom' })
  t.notMatch(text, /DONE/)
})

t.test('a stream that ends with no finishReason is a failure', async (t) => {
  const converter = protocol.stream('chat', { model: 'm', includeUsage: false })
  run(converter, [streamBytes(streamed.slice(0, 2))])
  t.match(converter.failure, { status: 502, message: /ended before its last chunk/ })
})

t.test('error bodies: status names the type; a rejected key is a 401; other bodies are not copied', async (t) => {
  t.same(protocol.error(429, JSON.stringify(errorBody(429, 'RESOURCE_EXHAUSTED', 'Quota exceeded'))), { status: 429, body: { error: { message: 'Quota exceeded', type: 'rate_limit_error', code: 'RESOURCE_EXHAUSTED' } } })
  t.same(protocol.error(400, JSON.stringify(errorBody(400, 'INVALID_ARGUMENT', 'API key not valid.', [{ reason: 'API_KEY_INVALID' }]))), { status: 401, body: { error: { message: 'API key not valid.', type: 'authentication_error', code: 'API_KEY_INVALID' } } })
  t.same(protocol.error(503, JSON.stringify(errorBody(503, 'UNAVAILABLE', 'Overloaded'))).body.error.type, 'service_unavailable')
  t.same(protocol.error(500, 'upstream connect error'), { status: 500, body: { error: { message: 'The Gemini backend answered HTTP 500', type: 'api_error', code: null } } })
})

t.test('embeddings: one request per input; float and base64 answers; token arrays refused', async (t) => {
  const request = protocol.request('embeddings', { model: 'public', input: ['a', 'bb'], dimensions: 3, encoding_format: 'base64', user: 'u' }, { ...ctx, model: 'gemini-embedding-001' })
  t.same(request.body, {
    requests: [
      { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'a' }] }, outputDimensionality: 3 },
      { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'bb' }] }, outputDimensionality: 3 }
    ]
  })
  const json = { embeddings: [{ values: [1, 0.5, -0.25] }, { values: [2, 0, 1] }] }
  t.same(protocol.answer('embeddings', json, { model: 'gemini-embedding-001', body: { input: ['a', 'bb'] } }), {
    object: 'list',
    data: [{ object: 'embedding', index: 0, embedding: [1, 0.5, -0.25] }, { object: 'embedding', index: 1, embedding: [2, 0, 1] }],
    model: 'gemini-embedding-001',
    usage: { prompt_tokens: 0, total_tokens: 0 }
  })
  const encoded = protocol.answer('embeddings', json, { model: 'g', body: { encoding_format: 'base64' } }) as { data: Array<{ embedding: string }> }
  const first = encoded.data[0]?.embedding ?? ''
  t.same(Array.from(new Float32Array(new Uint8Array(Buffer.from(first, 'base64')).buffer)), [1, 0.5, -0.25])
  t.throws(() => protocol.request('embeddings', { input: [[1, 2, 3]] }, ctx), { code: 'BERRY_ERR_UNSUPPORTED_PARAMETER', message: /'input\[0\]'.*token arrays/ })
  t.throws(() => protocol.request('embeddings', { input: [] }, ctx), { statusCode: 400, message: /'input'/ })
  t.throws(() => protocol.request('embeddings', { input: 'x', encoding_format: 'int8' }, ctx), { statusCode: 400, message: /'encoding_format'/ })
  t.throws(() => protocol.request('embeddings', { input: 'x', extra: true }, ctx), { code: 'BERRY_ERR_UNSUPPORTED_PARAMETER', message: /'extra'/ })
})

t.test('streamed thoughts are reasoning_content and commit; a blocked prompt ends with content_filter; a chunk that is not JSON fails', async (t) => {
  const thinking = protocol.stream('chat', { model: 'm', includeUsage: false })
  const out = thinking.push(streamBytes([response('g', [{ text: 'Pondering', thought: true }], undefined, undefined)]))?.toString() ?? ''
  t.match(dataEvents(out).at(-1), { choices: [{ delta: { reasoning_content: 'Pondering' } }] })
  t.ok(thinking.committed, 'a thought is the answer under way: it is not held back')
  const blocked = protocol.stream('chat', { model: 'm', includeUsage: false })
  const { text } = run(blocked, [streamBytes([{ promptFeedback: { blockReason: 'PROHIBITED_CONTENT' }, responseId: 'r9' }])])
  t.match(dataEvents(text), [{ id: 'r9' }, { choices: [{ delta: {}, finish_reason: 'content_filter' }] }, '[DONE]'])
  t.equal(blocked.failure, undefined)
  const broken = protocol.stream('chat', { model: 'm', includeUsage: false })
  broken.push(Buffer.from('data: {not json\r\n\r\n'))
  t.match(broken.failure, { status: 502, message: /not JSON/ })
})
