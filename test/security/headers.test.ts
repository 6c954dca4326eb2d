/**
 * Attack class: request and response headers.
 *
 * berry forwards an allow-list of request headers: the client's token,
 * cookies, forwarding and proxy headers never reach a provider, and a
 * client header cannot override the provider's credentials. Malformed
 * header bytes (CR, LF, NUL, folding) and oversized header blocks are
 * refused by the HTTP parser with an OpenAI-shaped 4xx.
 */
import t from 'tap'
import { FORWARDED_REQUEST_HEADERS } from '../../plugin/proxy/upstream-headers.js'
import { findSecrets, isOpenAIError, KEYS, leaksIn, parseJson, rawPost, startSecurity, tally, TOKENS, USER_SECRETS } from '../helpers/security.js'
import { json } from '../helpers/fake-upstream.js'

const BODY = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })
const CLAUDE = JSON.stringify({ model: 'claude-sonnet-4', messages: [{ role: 'user', content: 'hi' }] })

/** Headers the upstream may see: berry's own, the allow-list, the provider's. */
const ALLOWED_UPSTREAM = new Set(['host', 'connection', 'content-type', 'content-length', 'x-request-id', 'authorization', 'x-api-key', 'api-key', ...FORWARDED_REQUEST_HEADERS])

const HOSTILE_HEADERS = [
  `Cookie: session=${TOKENS.bob}; other=1`,
  `X-Api-Key: ${TOKENS.bob}`,
  `Api-Key: ${TOKENS.bob}`,
  `Proxy-Authorization: Bearer ${TOKENS.bob}`,
  'X-Forwarded-For: 10.0.0.1',
  'X-Forwarded-Host: evil.example',
  'X-Forwarded-Proto: http',
  'Forwarded: for=10.0.0.1;host=evil.example',
  'X-Real-IP: 10.0.0.1',
  'X-Original-URL: /v1/admin',
  'X-Rewrite-URL: /v1/admin',
  'X-HTTP-Method-Override: DELETE',
  'OpenAI-Organization: org-victim',
  'OpenAI-Project: proj-victim',
  'X-Berry-Backend: azure_like',
  'Backend: azure_like',
  'X-Model: gpt-4o-premium',
  'X-Request-Id: client-chosen-id',
  'Request-Id: client-chosen-id',
  'Via: 1.1 evil',
  'TE: trailers',
  'Upgrade: h2c',
  'Expect: 100-continue',
  'Origin: https://evil.example',
  'Referer: https://evil.example/page',
  'X-Custom: anything',
  'User-Agent: test-agent/1.0',
  'Accept: application/json',
  'OpenAI-Beta: assistants=v2',
  'Idempotency-Key: idem-123'
]

t.test('the upstream sees the allow-list and the provider credentials only', async (t) => {
  const s = await startSecurity(t)
  const res = await rawPost(s.berry.url, '/v1/chat/completions', TOKENS.bob, BODY, HOSTILE_HEADERS)
  t.equal(res.status, 200)
  const seen = s.openai.received[0]!
  for (const name of Object.keys(seen.headers)) t.ok(ALLOWED_UPSTREAM.has(name), `upstream got '${name}'`)
  t.equal(seen.headers.authorization, `Bearer ${KEYS.openai}`, 'the provider key, not the client token')
  t.equal(seen.headers.host, new URL(s.openai.origin).host, 'Host is the upstream, not the client\'s')
  t.equal(seen.headers.cookie, undefined)
  t.equal(seen.headers['x-forwarded-for'], undefined)
  t.not(seen.headers['x-request-id'], 'client-chosen-id', 'berry names the request, not the client')
  t.equal(seen.headers['user-agent'], 'test-agent/1.0', 'allow-listed headers pass')
  t.equal(seen.headers['openai-beta'], 'assistants=v2')
  t.equal(seen.headers['idempotency-key'], 'idem-123')
  t.same(findSecrets(JSON.stringify(seen), USER_SECRETS), [], 'no user token upstream, in any form')
  t.same(findSecrets(JSON.stringify(seen), [KEYS.claude, KEYS.claudeHeader, KEYS.azureHeader, KEYS.disabled]), [], 'no other provider\'s secret')
  tally('headers: hostile request headers', HOSTILE_HEADERS.length)
})

t.test('a client header cannot replace or strip the provider\'s credentials', async (t) => {
  const s = await startSecurity(t)
  const attempts: string[][] = [
    [`X-Api-Key: ${TOKENS.bob}`],
    ['Connection: keep-alive, x-api-key, authorization'],
    ['Connection: authorization'],
    [`Authorization: Bearer ${TOKENS.bob}`]
  ]
  for (const extra of attempts) {
    const res = await rawPost(s.berry.url, '/v1/chat/completions', TOKENS.bob, CLAUDE, extra)
    t.equal(res.status, 200, extra.join())
  }
  t.equal(s.claude.received.length, attempts.length)
  for (const seen of s.claude.received) {
    t.equal(seen.headers.authorization, `Bearer ${KEYS.claude}`)
    t.equal(seen.headers['x-api-key'], KEYS.claudeHeader, 'the provider header, not the client\'s')
  }
  // Each provider sees its own secrets only.
  await (await s.berry.post('/v1/chat/completions', { model: 'gpt-4o-premium', messages: [] }, TOKENS.bob)).arrayBuffer()
  const azure = s.azure.received[0]!
  t.equal(azure.headers['api-key'], KEYS.azureHeader)
  t.equal(azure.headers.authorization, undefined, 'a keyless provider gets no Authorization')
  t.same(findSecrets(JSON.stringify(s.claude.received), [KEYS.openai, KEYS.azureHeader, KEYS.disabled, ...USER_SECRETS]), [])
  t.same(findSecrets(JSON.stringify(s.azure.received), [KEYS.openai, KEYS.claude, KEYS.claudeHeader, KEYS.disabled, ...USER_SECRETS]), [])
  tally('headers: credential override', attempts.length)
})

t.test('CR, LF, NUL, folding and bad names in headers: 400 in OpenAI shape, nothing upstream', async (t) => {
  const s = await startSecurity(t)
  const bad: string[][] = [
    ['User-Agent: a\rb'],
    ['User-Agent: a\nAuthorization: Bearer evil'],
    [`User-Agent: a\r\nX-Injected: 1\rAuthorization: Bearer ${TOKENS.ops}`],
    ['User-Agent: a\u0000b'],
    ['User-Agent: a\u007fb'],
    ['User-Agent: a', ' folded continuation'],
    ['User-Agent: a', '\tfolded continuation'],
    ['Bad Name: x'],
    ['Bad(Name): x'],
    ['User-Agent : x'],
    [': x'],
    ['OpenAI-Beta: a\r\n\r\nGET /admin/backends HTTP/1.1']
  ]
  for (const extra of bad) {
    const res = await rawPost(s.berry.url, '/v1/chat/completions', TOKENS.bob, BODY, extra)
    const label = JSON.stringify(extra)
    // The last one is two requests: the first has a valid header block and a
    // body that is not JSON; the parser never lets the bytes reach a header value.
    t.ok(res.status === 400, `${label}: 400 (${res.status})`)
    t.ok(isOpenAIError(parseJson(res.body)), `${label}: OpenAI shape`)
  }
  t.same(s.received(), [])
  t.same(leaksIn(s.berry), [])
  tally('headers: malformed bytes', bad.length)
})

t.test('header counts and sizes: many small headers pass, an oversized block is 431', async (t) => {
  const s = await startSecurity(t)
  const many = Array.from({ length: 1000 }, (_, i) => `a${i}:1`)
  const ok = await rawPost(s.berry.url, '/v1/chat/completions', TOKENS.bob, BODY, many)
  t.equal(ok.status, 200, '1,000 tiny headers within 16 KiB')
  t.equal(Object.keys(s.openai.received[0]!.headers).filter((name) => /^a\d+$/.test(name)).length, 0, 'none forwarded')
  const cases: Array<[string, string[]]> = [
    ['3,000 headers', Array.from({ length: 3000 }, (_, i) => `x-a${i}: 1`)],
    ['one 20 KiB header', [`X-Big: ${'a'.repeat(20_000)}`]],
    ['a 20 KiB Authorization', [`Authorization: Bearer ${'b'.repeat(20_000)}`]]
  ]
  for (const [label, extra] of cases) {
    const res = await rawPost(s.berry.url, '/v1/chat/completions', TOKENS.bob, BODY, extra)
    t.equal(res.status, 431, `${label}: 431`)
    t.same(parseJson(res.body), { error: { message: 'The request headers are too large', type: 'invalid_request_error', code: 'BERRY_ERR_HEADERS_TOO_LARGE' } })
  }
  t.equal(s.openai.received.length, 1)
  tally('headers: counts and sizes', cases.length + 1)
})

t.test('response headers: upstream cookies and hop-by-hop headers do not reach the client', async (t) => {
  const s = await startSecurity(t)
  s.openai.behave(json('x', { 'set-cookie': 'upstream_session=abc; Path=/', 'keep-alive': 'timeout=999' }))
  const res = await s.berry.post('/v1/chat/completions', JSON.parse(BODY), TOKENS.bob)
  t.equal(res.status, 200)
  t.equal(res.headers.get('set-cookie'), null)
  t.equal(res.headers.get('x-berry-backend'), 'openai_official', 'names the provider id only')
  for (const [, value] of res.headers) t.same(findSecrets(value), [])
  await res.arrayBuffer()
  tally('headers: response headers', 1)
})
