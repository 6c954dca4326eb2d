/**
 * Attack class: random input (property-based, fast-check).
 *
 * Random bodies, headers and request targets are thrown at a running berry
 * (on the recommended host options) over raw sockets. For every one:
 * an answer arrives; it is JSON, either an error (`{"error": ...}`) or a
 * proxied success; it is never an internal 500; it holds no secret. After
 * all of them: the process still serves, no upstream saw a user token, and
 * the caller (alice, limited to gpt-4o and an embedding model) never reached
 * a model she may not use.
 *
 * Runs are bounded (FUZZ_RUNS, default 300 per property); a failure prints
 * fast-check's seed and path, and FUZZ_SEED replays it.
 */
import t from 'tap'
import type { Test } from 'tap'
import fc from 'fast-check'
import { findSecrets, leaksIn, parseJson, rawRequest, startSecurity, tally, TOKENS, USER_SECRETS, type RawResponse, type SecSetup } from '../helpers/security.js'

const RUNS = Number(process.env.FUZZ_RUNS ?? 300)
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED)
const params = { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }), endOnFailure: true }

const MODELS = ['gpt-4o', 'gpt_4o', 'gpt-4o-premium', 'premium', 'claude-sonnet-4', 'claude_sonnet_4', 'text-embedding-3-small', 'GPT-4O', 'nope', '', '__proto__', 'constructor']
const BACKENDS = ['openai_official', 'anthropic_claude', 'azure_like', 'disabled_backend', 'nope', 'http://127.0.0.1:1/v1', '../', '__proto__', '']
const ROUTES = ['/v1/chat/completions', '/v1/completions', '/v1/embeddings']
const TOKEN_CHOICES = [TOKENS.alice, TOKENS.alice, TOKENS.alice, TOKENS.carol, 'nope', '']
/** What alice's requests may be dispatched as. */
const ALICE_UPSTREAM_MODELS = new Set(['gpt-4o-2024-08-06', 'text-embedding-3-small'])

/** Statuses a hostile request may get (500 only as the spec's pinned-backend error). */
const EXPECTED = new Set([200, 400, 401, 403, 404, 408, 413, 415, 431, 500])

let inputs = 0

/**
 * Node answers two things itself, before Fastify: an `Expect` other than
 * 100-continue gets a bare 417, and CONNECT (a tunnel request) has its
 * socket closed. Neither reaches berry or an upstream.
 */
function nodeLevel (res: RawResponse, method: string): boolean {
  return (res.status === 417 && res.body === '') || (method === 'CONNECT' && res.status === 0)
}

function judge (res: RawResponse, label: string, method = 'POST'): string | undefined {
  inputs++
  if (nodeLevel(res, method)) return undefined
  if (res.status === 0) return `${label}: no answer`
  if (!EXPECTED.has(res.status)) return `${label}: unexpected status ${res.status}`
  const body = parseJson(res.body) as { error?: { code?: unknown, message?: unknown }, choices?: unknown } | undefined
  if (body === undefined || body === null || typeof body !== 'object') return `${label}: not JSON (${res.status}): ${res.body.slice(0, 80)}`
  if (res.status === 200) {
    if (!Array.isArray(body.choices)) return `${label}: 200 without a proxied body`
  } else if (body.error === undefined) {
    return `${label}: ${res.status} without an error`
  }
  if (res.status === 500 && body.error?.code !== 'BERRY_ERR_BACKEND_UNAVAILABLE') return `${label}: internal 500 ${JSON.stringify(body.error)}`
  const leaked = findSecrets(res.raw)
  if (leaked.length > 0) return `${label}: leaked ${leaked.join(', ')}`
  return undefined
}

function head (s: SecSetup, method: string, target: string, headers: string[], length: number | undefined): string {
  const { host } = new URL(s.berry.url)
  return [`${method} ${target} HTTP/1.1`, `Host: ${host}`, ...headers, ...(length === undefined ? [] : [`Content-Length: ${length}`]), 'Connection: close'].join('\r\n')
}

const jsonScalar = fc.oneof(fc.string(), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null))
const bodyObject = fc.record({
  model: fc.oneof(fc.constantFrom(...MODELS), fc.string(), jsonScalar, fc.jsonValue({ maxDepth: 2 })),
  backend: fc.option(fc.oneof(fc.constantFrom(...BACKENDS), fc.string(), jsonScalar), { nil: undefined }),
  messages: fc.option(fc.jsonValue({ maxDepth: 3 }), { nil: undefined }),
  stream: fc.option(fc.boolean(), { nil: undefined }),
  extra: fc.option(fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 }), { nil: undefined })
}, { requiredKeys: [] }).map(({ extra, ...fields }) => JSON.stringify({ ...(extra ?? {}), ...fields }))

const rawBody = fc.oneof(
  { weight: 4, arbitrary: bodyObject },
  { weight: 1, arbitrary: fc.json({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  { weight: 1, arbitrary: fc.constantFrom('{', '{"model":', '[]', 'null', '"x"', '{"__proto__":{"model":"gpt-4o-premium"},"model":"gpt-4o"}', '{"model":"gpt-4o","constructor":{"prototype":{"x":1}}}') }
)

const contentType = fc.constantFrom('application/json', 'application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', '', 'APPLICATION/JSON', 'application/json, text/html')

async function setup (t: Test): Promise<SecSetup> {
  return startSecurity(t, { bodyLimit: 64 * 1024 })
}

function checkAftermath (t: Test, s: SecSetup): void {
  t.same(findSecrets(JSON.stringify(s.received()), USER_SECRETS), [], 'no upstream saw a user token')
  t.equal(s.azure.received.length, 0, 'the premium model was never reached')
  t.equal(s.claude.received.length, 0, 'claude was never reached')
  for (const seen of s.openai.received) {
    if (!ALICE_UPSTREAM_MODELS.has(seen.json?.model)) t.fail(`dispatched ${JSON.stringify(seen.json?.model)}`)
    if (seen.json !== undefined && 'backend' in seen.json) t.fail('backend reached the upstream')
  }
  t.same(leaksIn(s.berry), [], 'no secret in any trace line')
  t.notOk(s.berry.logs.some((line) => line.msg === 'unexpected error'), 'no unexpected error logged')
}

async function stillServes (t: Test, s: SecSetup): Promise<void> {
  const res = await s.berry.post('/v1/chat/completions', { model: 'gpt-4o', messages: [] }, TOKENS.alice)
  t.equal(res.status, 200, 'the process is up and serving')
  await res.arrayBuffer()
}

t.test('random bodies and content types', async (t) => {
  const s = await setup(t)
  await fc.assert(fc.asyncProperty(fc.constantFrom(...ROUTES), fc.constantFrom(...TOKEN_CHOICES), contentType, rawBody, async (route, token, type, body) => {
    const bytes = Buffer.from(body, 'utf8')
    const headers = [...(token === '' ? [] : [`Authorization: Bearer ${token}`]), ...(type === '' ? [] : [`Content-Type: ${type}`])]
    const res = await rawRequest(s.berry.url, head(s, 'POST', route, headers, bytes.length), bytes)
    const problem = judge(res, `${route} ${type} ${body.slice(0, 120)}`)
    if (problem !== undefined) throw new Error(problem)
  }), params)
  checkAftermath(t, s)
  await stillServes(t, s)
})

const headerName = fc.oneof(
  fc.constantFrom('Authorization', 'Cookie', 'X-Api-Key', 'Api-Key', 'Accept', 'User-Agent', 'OpenAI-Beta', 'X-Forwarded-For', 'X-Berry-Backend', 'Connection', 'Expect', 'Upgrade', 'Host', 'Content-Type'),
  fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 16 })
)
const headerValue = fc.oneof(
  fc.string({ unit: 'binary-ascii', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom(`Bearer ${TOKENS.alice}`, `Bearer ${TOKENS.bob}`, 'Bearer', 'close, authorization', '100-continue', 'websocket', '')
)
/** Framing headers are left out: a random Content-Length would only make the server wait for bytes that never come. */
const FRAMING = /^(content-length|transfer-encoding)$/i
/**
 * Tokens go only in headers that carry credentials. A client that writes
 * its own token into an allow-listed header (`Accept: Bearer tok-...`)
 * sends it upstream by its own choice; that is not what is tested here.
 */
const CREDENTIAL = /^(authorization|cookie|x-api-key|api-key|proxy-authorization)$/i
const headerPair = fc.tuple(headerName, headerValue).map(([name, value]): [string, string] =>
  CREDENTIAL.test(name) || findSecrets(value, USER_SECRETS).length === 0 ? [name, value] : [name, 'x'])

t.test('random headers', async (t) => {
  const s = await setup(t)
  const body = Buffer.from(JSON.stringify({ model: 'gpt-4o', messages: [] }))
  await fc.assert(fc.asyncProperty(fc.array(headerPair, { maxLength: 30 }), fc.boolean(), async (pairs, withAuth) => {
    const lines = pairs.filter(([name]) => !FRAMING.test(name)).map(([name, value]) => `${name}: ${value}`)
    const headers = [...(withAuth ? [`Authorization: Bearer ${TOKENS.alice}`] : []), 'Content-Type: application/json', ...lines]
    const raw = head(s, 'POST', '/v1/chat/completions', headers, body.length)
    const res = await rawRequest(s.berry.url, Buffer.from(raw, 'utf8').toString('latin1'), body)
    const problem = judge(res, JSON.stringify(lines).slice(0, 200))
    if (problem !== undefined) throw new Error(problem)
  }), params)
  checkAftermath(t, s)
  await stillServes(t, s)
})

const target = fc.oneof(
  fc.tuple(fc.constantFrom('/v1/', '/v1/chat/', '/', '/v1/chat/completions', '/admin/', '/models'), fc.webPath(), fc.webQueryParameters()).map(([prefix, path, query]) => `${prefix}${path.replace(/^\//, '')}${query === '' ? '' : `?${query}`}`),
  fc.tuple(fc.constantFrom(...ROUTES), fc.webQueryParameters()).map(([route, query]) => `${route}?${query}`),
  fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 60 }).map((path) => (path.startsWith('/') ? path : `/${path}`)),
  fc.webUrl()
)
const method = fc.constantFrom('POST', 'POST', 'POST', 'GET', 'PUT', 'DELETE', 'OPTIONS', 'HEAD', 'PATCH', 'CONNECT')

t.test('random request targets and methods', async (t) => {
  const s = await setup(t)
  const body = Buffer.from(JSON.stringify({ model: 'gpt-4o-premium', backend: 'azure_like', messages: [] }))
  const allowed = Buffer.from(JSON.stringify({ model: 'gpt-4o', messages: [] }))
  await fc.assert(fc.asyncProperty(method, target, fc.boolean(), async (verb, path, forbidden) => {
    const payload = forbidden ? body : allowed
    const headers = [`Authorization: Bearer ${TOKENS.alice}`, 'Content-Type: application/json']
    const res = await rawRequest(s.berry.url, head(s, verb, path, headers, verb === 'HEAD' || verb === 'GET' ? undefined : payload.length), verb === 'HEAD' || verb === 'GET' ? '' : payload)
    // A HEAD answer has no body to judge.
    if (verb === 'HEAD') { inputs++; if (res.status === 0) throw new Error(`HEAD ${path}: no answer`); return }
    // Routes outside berry (/models, /health) answer their own JSON.
    const problem = judge(res, `${verb} ${path}`, verb)
    if (problem !== undefined && !(res.status === 200 && /^\/(v1\/)?models\b|^\/health\b/.test(path))) throw new Error(problem)
  }), params)
  checkAftermath(t, s)
  await stillServes(t, s)
  tally('fuzz: random bodies, headers and targets', inputs)
  t.comment(`fuzz: ${inputs} random requests`)
})
