/**
 * Attack class: path, query string, method, case and encoding.
 *
 * Peers shipped an allow-list bypassed through a query string and a
 * pass-through route that skipped it. Here every spelling of a path either
 * reaches the one registered route (and its checks) with the upstream path
 * fixed by berry, or answers 404 without touching an upstream.
 */
import t from 'tap'
import Fastify from 'fastify'
import berry from '../../plugin/index.js'
import { isOpenAIError, leaksIn, parseJson, rawPost, rawRequest, secConfig, startSecurity, tally, TOKENS } from '../helpers/security.js'
import { startUpstream, json } from '../helpers/fake-upstream.js'

const CHAT = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })
const PREMIUM = JSON.stringify({ model: 'gpt-4o-premium', messages: [{ role: 'user', content: 'hi' }] })

/** Spellings the router resolves to POST /v1/chat/completions (it decodes %XX of unreserved characters). */
const SAME_ROUTE = [
  '/v1/chat/completions',
  '/v1/chat/completion%73',
  '/v1/%63hat/completions',
  '/%76%31/chat/completions',
  '/v1/chat/completions#fragment',
  '/v1/chat/completions?model=gpt-4o-premium&backend=azure_like',
  '/v1/chat/completions?model=gpt-4o-premium&model=claude-sonnet-4',
  '/v1/chat/completions?backend=http://evil.example/v1',
  '/v1/chat/completions?__proto__[model]=x&constructor[prototype][x]=1'
]

/** Paths berry does not serve under /v1: an OpenAI-shaped 404, nothing upstream. */
const UNSERVED_V1 = [
  '/v1/chat%2Fcompletions',
  '/v1/chat/completions%00',
  '/v1/chat/completions%20',
  '/v1/chat/completions/',
  '/v1/chat/completions;model=gpt-4o-premium',
  '/v1/chat/completions/..',
  '/v1/chat/../chat/completions',
  '/v1/./chat/completions',
  '/v1//chat/completions',
  '/v1/chat/completions/extra',
  '/v1/responses/',
  '/v1/messages/',
  '/v1/messages/batches',
  '/v1/responses/resp_1/unknown',
  '/v1/chat',
  '/v1',
  '/v1/',
  '/v1/Chat/Completions',
  '/v1/audio/transcriptions',
  '/v1/files',
  '/v1/batches',
  '/v1/assistants',
  '/v1/threads/runs',
  '/v1/fine_tuning/jobs',
  '/v1/models/gpt-4o',
  '/v1/engines/gpt-4o/completions',
  '/v1/deployments/prem/chat/completions',
  '/v1/%2e%2e/admin/backends',
  '/v1/..%2fadmin/backends'
]

/** Paths outside berry's prefix: the host's 404, nothing upstream. */
const UNSERVED_HOST = [
  '/V1/chat/completions',
  '/V1/CHAT/COMPLETIONS',
  '//v1/chat/completions',
  '/chat/completions',
  '/completions',
  '/embeddings',
  '/v2/chat/completions',
  '/openai/v1/chat/completions',
  '*'
]

t.test('every spelling of the chat route reaches the same checks and the same upstream path', async (t) => {
  const s = await startSecurity(t)
  for (const path of SAME_ROUTE) {
    const res = await rawPost(s.berry.url, path, TOKENS.alice, CHAT)
    t.equal(res.status, 200, `${path}: 200`)
    const seen = s.openai.received.at(-1)
    t.equal(seen?.url, '/v1/chat/completions', `${path}: upstream path fixed, no client query`)
    t.equal(seen?.json.model, 'gpt-4o-2024-08-06', `${path}: the body's model was dispatched`)
    t.equal(seen?.json.backend, undefined)
    // The same spelling with a model alice may not use is refused.
    const denied = await rawPost(s.berry.url, path, TOKENS.alice, PREMIUM)
    t.equal(denied.status, 403, `${path}: premium refused`)
    t.equal(parseJson(denied.body) !== undefined && (parseJson(denied.body) as { error: { code: string } }).error.code, 'BERRY_ERR_MODEL_NOT_ALLOWED')
  }
  t.equal(s.openai.received.length, SAME_ROUTE.length)
  t.equal(s.azure.received.length, 0, 'the premium upstream was never reached')
  t.equal(s.claude.received.length, 0)
  t.same(leaksIn(s.berry), [])
  tally('routes: same-route spellings', SAME_ROUTE.length * 2)
})

t.test('the provider query in base_url is the only query sent upstream', async (t) => {
  const s = await startSecurity(t)
  const res = await rawPost(s.berry.url, '/v1/chat/completions?api-version=1999-01-01&api-key=x', TOKENS.bob, PREMIUM)
  t.equal(res.status, 200)
  t.equal(s.azure.received[0]?.url, '/openai/deployments/prem/chat/completions?api-version=2024-02-01')
  tally('routes: query override', 1)
})

t.test('unserved paths under /v1 answer an OpenAI-shaped 404 and touch no upstream', async (t) => {
  const s = await startSecurity(t)
  for (const path of UNSERVED_V1) {
    const res = await rawPost(s.berry.url, path, TOKENS.bob, CHAT)
    t.equal(res.status, 404, `${path}: 404`)
    t.ok(isOpenAIError(parseJson(res.body)), `${path}: OpenAI shape`)
  }
  t.same(s.received(), [], 'no upstream saw anything')
  t.same(leaksIn(s.berry), [])
  tally('routes: unserved /v1 paths', UNSERVED_V1.length)
})

t.test('unserved paths outside /v1 get the host 404 and touch no upstream', async (t) => {
  const s = await startSecurity(t)
  for (const path of UNSERVED_HOST) {
    const res = await rawPost(s.berry.url, path, TOKENS.bob, CHAT)
    t.equal(res.status, 404, `${path}: 404`)
    t.type((parseJson(res.body) as { error?: unknown } | undefined)?.error, 'string', `${path}: JSON error`)
  }
  t.same(s.received(), [])
  tally('routes: unserved host paths', UNSERVED_HOST.length)
})

t.test('other methods on the proxied routes answer 404 and touch no upstream', async (t) => {
  const s = await startSecurity(t)
  const { host } = new URL(s.berry.url)
  let tried = 0
  for (const path of ['/v1/chat/completions', '/v1/completions', '/v1/embeddings']) {
    for (const method of ['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'PROPFIND', 'post']) {
      const head = [`${method} ${path} HTTP/1.1`, `Host: ${host}`, `Authorization: Bearer ${TOKENS.bob}`, 'Content-Type: application/json', `Content-Length: ${CHAT.length}`, 'Connection: close'].join('\r\n')
      const res = await rawRequest(s.berry.url, head, CHAT)
      // Lower-case `post` is not a method at all: Node's parser refuses it.
      const expected = method === 'post' ? 400 : 404
      t.equal(res.status, expected, `${method} ${path}: ${expected}`)
      tried++
    }
  }
  t.same(s.received(), [])
  tally('routes: methods', tried)
})

t.test('an absolute-form request target cannot redirect the upstream', async (t) => {
  const s = await startSecurity(t)
  let tried = 0
  for (const target of ['http://evil.example/v1/chat/completions', 'http://127.0.0.1:1/v1/chat/completions', 'https://api.openai.com/v1/chat/completions']) {
    const res = await rawPost(s.berry.url, target, TOKENS.bob, CHAT)
    t.ok(res.status === 400 || res.status === 404, `${target}: refused (${res.status})`)
    t.ok(isOpenAIError(parseJson(res.body)) || typeof (parseJson(res.body) as { error?: unknown } | undefined)?.error === 'string')
    tried++
  }
  t.same(s.received(), [])
  tally('routes: absolute-form targets', tried)
})

t.test('a host with a lenient router (case, slashes) still fixes the upstream path and checks the model', async (t) => {
  const openai = await startUpstream(json('from openai'))
  const claude = await startUpstream(json('from claude'))
  const azure = await startUpstream(json('from azure'))
  t.teardown(() => openai.close())
  t.teardown(() => claude.close())
  t.teardown(() => azure.close())
  const app = Fastify({ routerOptions: { caseSensitive: false, ignoreTrailingSlash: true, ignoreDuplicateSlashes: true } })
  await app.register(berry, { config: secConfig({ openai: openai.origin, claude: claude.origin, azure: azure.origin }) })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  const { port } = app.server.address() as { port: number }
  const url = `http://127.0.0.1:${port}`
  const paths = ['/V1/CHAT/COMPLETIONS', '/v1/Chat/Completions/', '/v1//chat//completions', '/V1/chat/completions?model=gpt-4o-premium']
  for (const path of paths) {
    const res = await rawPost(url, path, TOKENS.alice, CHAT)
    // ignoreDuplicateSlashes paths may be refused by http-proxy's own
    // destination check (400); what matters is that none goes astray.
    t.ok(res.status === 200 || res.status === 400, `${path}: ${res.status}`)
    if (res.status === 200) t.equal(openai.received.at(-1)?.url, '/v1/chat/completions', `${path}: upstream path`)
    const denied = await rawPost(url, path, TOKENS.alice, PREMIUM)
    t.ok(denied.status === 403 || denied.status === 400, `${path}: premium refused (${denied.status})`)
  }
  t.ok(openai.received.length >= 1)
  t.equal(azure.received.length, 0, 'premium never reached')
  for (const seen of openai.received) t.equal(seen.url, '/v1/chat/completions')
  tally('routes: lenient router', paths.length * 2)
})
