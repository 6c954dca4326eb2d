/**
 * Attack class: hostile request bodies and content types.
 *
 * Every bad body gets a 4xx in OpenAI's shape (never a 500 or a stack),
 * nothing reaches an upstream, and no `__proto__` / `constructor` key can
 * pollute a prototype or the rewritten body.
 */
import t from 'tap'
import { isOpenAIError, leaksIn, parseJson, rawRequest, startSecurity, tally, TOKENS, type SecSetup } from '../helpers/security.js'

async function send (s: SecSetup, body: string | Buffer, contentType: string | null = 'application/json', extra: string[] = []) {
  const { host } = new URL(s.berry.url)
  const bytes = typeof body === 'string' ? Buffer.from(body) : body
  const head = [
    'POST /v1/chat/completions HTTP/1.1',
    `Host: ${host}`,
    ...(contentType === null ? [] : [`Content-Type: ${contentType}`]),
    `Content-Length: ${bytes.length}`,
    `Authorization: Bearer ${TOKENS.bob}`,
    'Connection: close',
    ...extra
  ].join('\r\n')
  return rawRequest(s.berry.url, head, bytes)
}

/** [label, body, status, code] */
const BAD_BODIES: Array<[string, string, number, string]> = [
  ['truncated', '{"model":"gpt-4o"', 400, 'FST_ERR_CTP_INVALID_JSON_BODY'],
  ['trailing comma', '{"model":"gpt-4o",}', 400, 'FST_ERR_CTP_INVALID_JSON_BODY'],
  ['single quotes', "{'model':'gpt-4o'}", 400, 'FST_ERR_CTP_INVALID_JSON_BODY'],
  ['two documents', '{"model":"gpt-4o"}{"model":"gpt-4o-premium"}', 400, 'FST_ERR_CTP_INVALID_JSON_BODY'],
  ['NaN', '{"model":"gpt-4o","temperature":NaN}', 400, 'FST_ERR_CTP_INVALID_JSON_BODY'],
  ['comment', '{"model":"gpt-4o"/* x */}', 400, 'FST_ERR_CTP_INVALID_JSON_BODY'],
  ['not json', 'model=gpt-4o', 400, 'FST_ERR_CTP_INVALID_JSON_BODY'],
  ['lone surrogate escapes are JSON but the key is bad', '{"model":"gpt-4o",', 400, 'FST_ERR_CTP_INVALID_JSON_BODY'],
  ['empty', '', 400, 'FST_ERR_CTP_EMPTY_JSON_BODY'],
  ['whitespace only', '   \n', 400, 'FST_ERR_CTP_INVALID_JSON_BODY'],
  ['array', '[{"model":"gpt-4o"}]', 400, 'BERRY_ERR_INVALID_BODY'],
  ['string', '"gpt-4o"', 400, 'BERRY_ERR_INVALID_BODY'],
  ['number', '42', 400, 'BERRY_ERR_INVALID_BODY'],
  ['null', 'null', 400, 'BERRY_ERR_INVALID_BODY'],
  ['true', 'true', 400, 'BERRY_ERR_INVALID_BODY'],
  ['model missing', '{"messages":[]}', 400, 'BERRY_ERR_INVALID_BODY'],
  ['model empty', '{"model":""}', 400, 'BERRY_ERR_INVALID_BODY'],
  ['model number', '{"model":4}', 400, 'BERRY_ERR_INVALID_BODY'],
  ['model array', '{"model":["gpt-4o"]}', 400, 'BERRY_ERR_INVALID_BODY'],
  ['model object', '{"model":{"name":"gpt-4o"}}', 400, 'BERRY_ERR_INVALID_BODY'],
  ['model null', '{"model":null}', 400, 'BERRY_ERR_INVALID_BODY'],
  ['backend number', '{"model":"gpt-4o","backend":1}', 400, 'BERRY_ERR_INVALID_BODY'],
  ['backend null', '{"model":"gpt-4o","backend":null}', 400, 'BERRY_ERR_INVALID_BODY'],
  ['backend object', '{"model":"gpt-4o","backend":{"base_url":"http://evil"}}', 400, 'BERRY_ERR_INVALID_BODY'],
  ['deep nesting', `{"model":"gpt-4o","messages":${'['.repeat(100_000)}${']'.repeat(100_000)}}`, 400, 'BERRY_ERR_INVALID_BODY'],
  ['deep objects', `{"model":"gpt-4o","x":${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}}`, 400, 'BERRY_ERR_INVALID_BODY']
]

t.test('malformed and mistyped bodies: exact 4xx, OpenAI shape, nothing upstream', async (t) => {
  const s = await startSecurity(t)
  for (const [label, body, status, code] of BAD_BODIES) {
    const res = await send(s, body)
    t.equal(res.status, status, `${label}: ${status}`)
    const answer = parseJson(res.body)
    t.ok(isOpenAIError(answer), `${label}: OpenAI shape`)
    t.equal((answer as { error: { code: string } }).error.code, code, `${label}: ${code}`)
    t.notMatch(res.body, /at \w+ \(|node_modules|\.ts:\d+/, `${label}: no stack`)
  }
  t.same(s.received(), [])
  t.notOk(s.berry.logs.some((line) => line.level >= 50), 'nothing logged as an internal error')
  t.same(leaksIn(s.berry), [])
  tally('body: malformed JSON and types', BAD_BODIES.length)
})

t.test('a body nested just within the limit still goes through', async (t) => {
  const s = await startSecurity(t)
  const body = `{"model":"gpt-4o","x":${'['.repeat(250)}${']'.repeat(250)}}`
  const res = await send(s, body)
  t.equal(res.status, 200)
  t.equal(s.openai.received.length, 1)
  tally('body: depth boundary', 1)
})

t.test('prototype pollution: __proto__ and constructor.prototype are refused, nothing polluted', async (t) => {
  const s = await startSecurity(t)
  const hostile = [
    '{"model":"gpt-4o","__proto__":{"polluted":"yes"}}',
    '{"__proto__":{"model":"gpt-4o-premium"},"model":"gpt-4o"}',
    '{"model":"gpt-4o","messages":[{"role":"user","__proto__":{"polluted":"yes"}}]}',
    '{"model":"gpt-4o","\\u005f\\u005fproto\\u005f\\u005f":{"polluted":"yes"}}',
    '{"model":"gpt-4o","constructor":{"prototype":{"polluted":"yes"}}}',
    '{"model":"gpt-4o","tools":[{"constructor":{"prototype":{"polluted":"yes"}}}]}',
    '{"model":"gpt-4o","__proto__":{"backend":"azure_like"}}',
    '{"model":"gpt-4o","__proto__":null}'
  ]
  for (const body of hostile) {
    const res = await send(s, body)
    t.equal(res.status, 400, body)
    t.ok(isOpenAIError(parseJson(res.body)))
  }
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype untouched')
  t.equal(({} as Record<string, unknown>).backend, undefined)
  t.equal(({} as Record<string, unknown>).model, undefined)
  t.same(s.received(), [])
  // A harmless `constructor` value passes through as data, not as a prototype.
  const harmless = await send(s, '{"model":"gpt-4o","constructor":"x","prototype":{"a":1}}')
  t.equal(harmless.status, 200)
  const seen = s.openai.received[0]
  t.equal(seen?.json.constructor, 'x')
  t.equal(Object.getPrototypeOf(seen?.json), Object.prototype)
  t.same(Object.keys(seen?.json ?? {}).sort(), ['constructor', 'model', 'prototype'])
  tally('body: prototype pollution', hostile.length + 1)
})

t.test('content types: only JSON is parsed on JSON routes', async (t) => {
  const s = await startSecurity(t)
  const json = '{"model":"gpt-4o","messages":[]}'
  const cases: Array<[string | null, number]> = [
    ['application/x-www-form-urlencoded', 415],
    ['multipart/form-data; boundary=x', 415],
    ['application/octet-stream', 415],
    ['application/xml', 415],
    ['application/json-seq', 415],
    ['application/jsonx', 415],
    ['application/json, text/plain', 415],
    ['text/html', 415],
    [null, 415],
    ['text/plain', 415],
    // Media types are case-insensitive and parameters do not matter.
    ['application/json', 200],
    ['APPLICATION/JSON', 200],
    ['application/json; charset=utf-8', 200]
  ]
  for (const [contentType, status] of cases) {
    const before = s.received().length
    const res = await send(s, json, contentType)
    t.equal(res.status, status, `${contentType}: ${status}`)
    if (status !== 200) {
      t.ok(isOpenAIError(parseJson(res.body)), `${contentType}: OpenAI shape`)
      t.equal(s.received().length, before, `${contentType}: nothing upstream`)
    }
  }
  tally('body: content types', cases.length)
})

t.test('body_limit: 413 at one byte over, whether declared or chunked, nothing upstream', async (t) => {
  const limit = 4096
  const s = await startSecurity(t, { bodyLimit: limit })
  const exact = (size: number): string => {
    const head = '{"model":"gpt-4o","pad":"'
    return head + 'x'.repeat(size - head.length - 2) + '"}'
  }
  const atLimit = await send(s, exact(limit))
  t.equal(atLimit.status, 200, 'exactly body_limit bytes: accepted')
  const over = await send(s, exact(limit + 1))
  t.equal(over.status, 413, 'one byte over: 413')
  t.same(parseJson(over.body), { error: { message: 'The request body is larger than this gateway accepts', type: 'invalid_request_error', code: 'FST_ERR_CTP_BODY_TOO_LARGE' } })
  // Declared far beyond the limit: refused before any byte of the body is read.
  const { host } = new URL(s.berry.url)
  const declared = await rawRequest(s.berry.url, ['POST /v1/chat/completions HTTP/1.1', `Host: ${host}`, 'Content-Type: application/json', 'Content-Length: 1000000000000', `Authorization: Bearer ${TOKENS.bob}`].join('\r\n'))
  t.equal(declared.status, 413, 'declared 1 TB: 413')
  // Chunked, no length: counted as it streams.
  const body = exact(limit * 3)
  const chunked = await rawRequest(s.berry.url, ['POST /v1/chat/completions HTTP/1.1', `Host: ${host}`, 'Content-Type: application/json', 'Transfer-Encoding: chunked', `Authorization: Bearer ${TOKENS.bob}`, 'Connection: close'].join('\r\n'),
    `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`)
  t.equal(chunked.status, 413, 'chunked over the limit: 413')
  t.equal(s.received().length, 1, 'only the body at the limit went upstream')
  tally('body: size limit', 4)
})

t.test('the default body_limit is 10 MiB', async (t) => {
  const s = await startSecurity(t)
  const head = '{"model":"gpt-4o","pad":"'
  const body = head + 'x'.repeat(10 * 1024 * 1024 + 1 - head.length - 2) + '"}'
  const res = await send(s, body)
  t.equal(res.status, 413)
  t.same(s.received(), [])
  // Above the host's own 1 MiB bodyLimit but within berry's: accepted.
  const large = head + 'x'.repeat(5 * 1024 * 1024) + '"}'
  const ok = await send(s, large)
  t.equal(ok.status, 200, '5 MiB passes on a host whose bodyLimit is 1 MiB')
  t.equal(s.openai.received.length, 1)
  tally('body: default size limit', 2)
})

t.test('framing tricks: CL+TE, short Content-Length, bad chunk sizes', async (t) => {
  const s = await startSecurity(t)
  const { host } = new URL(s.berry.url)
  const base = ['POST /v1/chat/completions HTTP/1.1', `Host: ${host}`, 'Content-Type: application/json', `Authorization: Bearer ${TOKENS.bob}`]
  const smuggled = `{"model":"gpt-4o"}POST /v1/chat/completions HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: 30\r\n\r\n{"model":"gpt-4o-premium"}    `
  const cases: Array<[string, string[], string, number]> = [
    ['Content-Length and Transfer-Encoding', ['Content-Length: 5', 'Transfer-Encoding: chunked'], '0\r\n\r\n', 400],
    ['two Content-Lengths', ['Content-Length: 18', 'Content-Length: 40'], '{"model":"gpt-4o"}', 400],
    ['Transfer-Encoding: chunked, identity', ['Transfer-Encoding: chunked, identity'], '0\r\n\r\n', 400],
    ['bad chunk size', ['Transfer-Encoding: chunked'], 'zz\r\n{}\r\n0\r\n\r\n', 400],
    ['negative Content-Length', ['Content-Length: -1'], '{}', 400],
    ['Content-Length with a sign', ['Content-Length: +18'], '{"model":"gpt-4o"}', 400]
  ]
  for (const [label, extra, body, status] of cases) {
    const res = await rawRequest(s.berry.url, [...base, ...extra, 'Connection: close'].join('\r\n'), body)
    t.equal(res.status, status, `${label}: ${status}`)
    t.ok(isOpenAIError(parseJson(res.body)), `${label}: OpenAI shape`)
  }
  // A pipelined second request hidden in the first one's body runs as a
  // request of its own, with its own (missing) credentials: 401, not premium.
  const pipelined = await rawRequest(s.berry.url, [...base, 'Content-Length: 18'].join('\r\n'), smuggled)
  t.equal(pipelined.status, 200)
  t.match(pipelined.raw, /\r\n\r\n[\s\S]*HTTP\/1\.1 401 /, 'the second request was answered 401')
  t.equal(s.azure.received.length, 0, 'the smuggled request reached nothing')
  t.equal(s.openai.received.length, 1)
  tally('body: framing', cases.length + 1)
})
