/**
 * Attack class: authentication and the model allow-list.
 *
 * Every proxied route authenticates first and checks `allowed_models` on
 * the model that is actually dispatched, whatever name the client used for
 * it; nothing reaches an upstream before both checks pass.
 */
import t from 'tap'
import { isOpenAIError, leaksIn, rawRequest, startSecurity, tally, TOKENS } from '../helpers/security.js'
import { startBerry } from '../helpers/berry.js'
import { json, startUpstream } from '../helpers/fake-upstream.js'

const ROUTES = ['/v1/chat/completions', '/v1/completions', '/v1/embeddings'] as const
const body = (model: unknown, extra: Record<string, unknown> = {}) => ({ model, messages: [{ role: 'user', content: 'hi' }], input: 'hi', ...extra })

t.test('no, bad or disabled credentials: 401 on every route, nothing upstream', async (t) => {
  const s = await startSecurity(t)
  const authorizations: Array<string | undefined> = [
    undefined,
    '',
    'Bearer',
    'Bearer ',
    `Basic ${Buffer.from(`user:${TOKENS.bob}`).toString('base64')}`,
    `Token ${TOKENS.bob}`,
    `Bearer ${TOKENS.bob}x`,
    `Bearer ${TOKENS.bob.slice(0, -1)}`,
    `Bearer ${TOKENS.bob.toUpperCase()}`,
    `Bearer ${TOKENS.bob} ${TOKENS.bob}`,
    `Bearer ${TOKENS.bob},Bearer ${TOKENS.bob}`,
    `Bearer "${TOKENS.bob}"`,
    `Bearer ${TOKENS.carol}`,
    'Bearer sk-sec-openai-KEY-aaaa1111',
    'Bearer null',
    'Bearer undefined',
    'Bearer [object Object]',
    `Bearer ${'a'.repeat(8000)}`
  ]
  let tried = 0
  for (const route of ROUTES) {
    for (const authorization of authorizations) {
      const res = await fetch(s.berry.url + route, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization === undefined ? {} : { authorization }) },
        body: JSON.stringify(body('gpt-4o'))
      })
      t.equal(res.status, 401, `${route} with ${JSON.stringify(authorization?.slice(0, 40))}`)
      const answer = await res.json()
      t.ok(isOpenAIError(answer))
      t.equal(answer.error.code, 'BERRY_ERR_UNAUTHENTICATED')
      tried++
    }
  }
  // The token in a cookie, a query string or another header is not a credential.
  for (const [path, headers] of [
    [`/v1/chat/completions?api_key=${TOKENS.bob}`, {}],
    ['/v1/chat/completions', { cookie: `token=${TOKENS.bob}` }],
    ['/v1/chat/completions', { 'x-api-key': TOKENS.bob }],
    ['/v1/chat/completions', { 'api-key': TOKENS.bob }],
    ['/v1/chat/completions', { 'proxy-authorization': `Bearer ${TOKENS.bob}` }]
  ] as const) {
    const res = await fetch(s.berry.url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body('gpt-4o')) })
    t.equal(res.status, 401, `${path} ${Object.keys(headers).join()}`)
    await res.arrayBuffer()
    tried++
  }
  // Two Authorization headers: Node joins them with ', ', which is no token.
  const { host } = new URL(s.berry.url)
  const payload = JSON.stringify(body('gpt-4o'))
  const twice = await rawRequest(s.berry.url, [
    'POST /v1/chat/completions HTTP/1.1', `Host: ${host}`, 'Content-Type: application/json', `Content-Length: ${payload.length}`,
    `Authorization: Bearer ${TOKENS.carol}`, `Authorization: Bearer ${TOKENS.bob}`, 'Connection: close'
  ].join('\r\n'), payload)
  t.equal(twice.status, 401, 'two Authorization headers')
  tried++
  t.same(s.received(), [], 'nothing reached an upstream')
  t.same(leaksIn(s.berry), [], 'no secret in any log line')
  tally('access: credentials', tried)
})

t.test('allowed_models is checked on the resolved model, whatever name the client used', async (t) => {
  const s = await startSecurity(t)
  // alice may use gpt-4o and the embedding model only.
  const cases: Array<[unknown, number, string?]> = [
    ['gpt-4o', 200, 'openai'],
    ['gpt_4o', 200, 'openai'],
    ['gpt\u20104o', 200, 'openai'], // a Unicode hyphen normalises to the same key
    ['gpt-4o-premium', 403],
    ['premium', 403],
    ['gpt_4o_premium', 404],
    ['claude-sonnet-4', 403],
    ['claude_sonnet_4', 403],
    ['claude sonnet 4', 403],
    ['claude--sonnet..4', 403],
    ['claude\u2010sonnet\u20104', 403],
    ['CLAUDE-SONNET-4', 404],
    ['GPT-4O-PREMIUM', 404],
    ['gpt-4o-premium\u0000', 404],
    ['gpt-4o-premium ', 404],
    [' gpt-4o-premium', 404],
    ['gpt-4o,gpt-4o-premium', 404],
    ['*', 404],
    ['', 400],
    [['gpt-4o'], 400],
    [{ toString: 'gpt-4o' }, 400],
    [null, 400],
    [1, 400],
    [true, 400]
  ]
  let tried = 0
  for (const route of ROUTES) {
    for (const [model, status, upstream] of cases) {
      const before = s.received().length
      const res = await s.berry.post(route, body(model), TOKENS.alice)
      const answer = await res.json()
      const label = `${route} model=${JSON.stringify(model)}`
      t.equal(res.status, status, `${label}: ${status}`)
      if (status === 200) {
        t.equal(s.openai.received.at(-1)?.json.model, route === '/v1/embeddings' ? 'gpt-4o-2024-08-06' : 'gpt-4o-2024-08-06', `${label}: dispatched gpt-4o`)
        t.equal(upstream, 'openai')
      } else {
        t.ok(isOpenAIError(answer), `${label}: OpenAI shape`)
        t.equal(s.received().length, before, `${label}: nothing upstream`)
      }
      if (status === 403) t.equal(answer.error.code, 'BERRY_ERR_MODEL_NOT_ALLOWED')
      tried++
    }
  }
  t.equal(s.azure.received.length, 0, 'premium upstream never reached')
  t.equal(s.claude.received.length, 0, 'claude upstream never reached')
  t.same(leaksIn(s.berry), [])
  tally('access: model names', tried)
})

t.test('a forbidden model stays forbidden when pinned, with any backend, before any lookup', async (t) => {
  const s = await startSecurity(t)
  const backends = ['azure_like', 'anthropic_claude', 'openai_official', 'disabled_backend', 'nope', '']
  let tried = 0
  for (const model of ['gpt-4o-premium', 'claude-sonnet-4']) {
    for (const backend of backends) {
      const res = await s.berry.post('/v1/chat/completions', body(model, { backend }), TOKENS.alice)
      t.equal(res.status, 403, `${model} pinned to '${backend}': 403`)
      const answer = await res.json()
      t.equal(answer.error.code, 'BERRY_ERR_MODEL_NOT_ALLOWED')
      t.notMatch(answer.error.message, /backend|not found|disabled/i, 'says nothing about backends')
      tried++
    }
  }
  t.same(s.received(), [])
  tally('access: pinned forbidden models', tried)
})

t.test('GET /v1/models lists only what the caller may use; admin needs the admin tag', async (t) => {
  const s = await startSecurity(t)
  const list = async (token: string) => (await (await s.berry.get('/v1/models', token)).json()).data.map((m: { id: string }) => m.id).sort()
  t.same(await list(TOKENS.alice), ['gpt-4o', 'text-embedding-3-small'])
  t.same(await list(TOKENS.bob), ['claude_sonnet_4', 'gpt-4o', 'gpt-4o-premium', 'text-embedding-3-small'])
  for (const path of ['/admin/backends', '/admin/usage']) {
    for (const token of [TOKENS.alice, TOKENS.bob]) {
      const res = await s.berry.get(path, token)
      t.equal(res.status, 403, path)
      t.equal((await res.json()).error.code, 'BERRY_ERR_ADMIN_ONLY')
    }
    for (const token of [null, TOKENS.carol, 'nope']) {
      const res = await s.berry.get(path, token)
      t.equal(res.status, 401, path)
      await res.arrayBuffer()
    }
    t.equal((await s.berry.get(path, TOKENS.ops)).status, 200, path)
  }
  t.same(s.received(), [])
  tally('access: listing and admin', 14)
})

t.test('an allow-list entry grants the model it names, not another whose key it normalises to', async (t) => {
  // `gpt-4o` is the public name of the cheap model; the premium model's
  // table key happens to be `gpt_4o`. An entry must resolve the way a
  // request does (name first), not by loose normalisation.
  const cheap = await startUpstream(json('cheap'))
  const premium = await startUpstream(json('premium'))
  t.teardown(() => cheap.close())
  t.teardown(() => premium.close())
  const config = `
[providers.cheap]
base_url = "${cheap.origin}/v1"
api_key = "sk-cheap-0000000000"
[providers.premium]
base_url = "${premium.origin}/v1"
api_key = "sk-premium-000000000"
[models.cheap]
name = "gpt-4o"
[[models.cheap.backends]]
provider = "cheap"
model = "gpt-4o-mini"
[models.gpt_4o]
name = "premium-4o"
[[models.gpt_4o.backends]]
provider = "premium"
model = "gpt-4o"
[users.alice]
token = "${TOKENS.alice}"
allowed_models = ["gpt-4o"]
`
  const b = await startBerry(t, { config })
  const ok = await b.post('/v1/chat/completions', body('gpt-4o'), TOKENS.alice)
  t.equal(ok.status, 200)
  await ok.arrayBuffer()
  for (const model of ['premium-4o', 'gpt_4o']) {
    const res = await b.post('/v1/chat/completions', body(model), TOKENS.alice)
    t.equal(res.status, 403, `${model}: 403`)
    await res.arrayBuffer()
  }
  const listed = (await (await b.get('/v1/models', TOKENS.alice)).json()).data.map((m: { id: string }) => m.id)
  t.same(listed, ['gpt-4o'], '/v1/models agrees')
  t.equal(premium.received.length, 0, 'the premium upstream saw nothing')
  tally('access: allow-list normalisation', 3)
})

t.test('users from the host\'s authenticate hook get the same model checks', async (t) => {
  const openai = await startUpstream(json('ok'))
  t.teardown(() => openai.close())
  const config = `
[providers.p]
base_url = "${openai.origin}/v1"
api_key = "sk-hook-provider-000000"
[models.a]
name = "model-a"
[[models.a.backends]]
provider = "p"
model = "a-up"
[models.b]
name = "model-b"
[[models.b.backends]]
provider = "p"
model = "b-up"
`
  const b = await startBerry(t, {
    config,
    authenticate: (request) => request.headers['x-host-user'] === 'limited' ? { id: 'limited', allowedModels: ['model-a'] } : null
  })
  const ok = await b.post('/v1/chat/completions', body('model-a'), null, { 'x-host-user': 'limited' })
  t.equal(ok.status, 200)
  await ok.arrayBuffer()
  for (const model of ['model-b', 'b']) {
    const res = await b.post('/v1/chat/completions', body(model), null, { 'x-host-user': 'limited' })
    t.equal(res.status, 403, `${model}: 403`)
    await res.arrayBuffer()
  }
  const anonymous = await b.post('/v1/chat/completions', body('model-a'), null)
  t.equal(anonymous.status, 401)
  await anonymous.arrayBuffer()
  t.same(openai.received.map((r) => r.json.model), ['a-up'])
  tally('access: authenticate hook', 4)
})
