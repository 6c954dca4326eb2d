/** Authentication and permissions, and the read-only routes that depend on them. */
import t, { type Test } from 'tap'
import { Client } from 'undici'
import { ADMIN_TOKEN, startBerry, TOKEN } from './helpers/berry.js'
import { json, startUpstream } from './helpers/fake-upstream.js'

async function setup (t: Test, extra = '') {
  const u = await startUpstream(json())
  t.teardown(() => u.close())
  const config = `
[providers.p]
base_url = "${u.origin}/v1"
api_key = "sk-p-secret-0001"

[[models.gpt_4o.backends]]
provider = "p"
model = "gpt-4o"

[models.other]
name = "other-model"
[[models.other.backends]]
provider = "p"
model = "other"

[models.off]
enabled = false
[[models.off.backends]]
provider = "p"
model = "off"

[users.alice]
token = "${TOKEN}"
allowed_models = ["gpt-4o"]

[users.ops]
token = "${ADMIN_TOKEN}"
tags = ["admin"]

[users.gone]
token = "disabled-user-token"
enabled = false
${extra}
`
  return { u, config, berry: await startBerry(t, { config }) }
}

t.test('401 for a missing, unknown or disabled token, in OpenAI shape', async (t) => {
  const { u, berry } = await setup(t)
  for (const [token, message] of [
    [null, "Missing bearer token: send 'Authorization: Bearer <token>'"],
    ['nope', 'Invalid API token'],
    ['disabled-user-token', 'This API token is disabled']
  ] as const) {
    const res = await berry.post('/v1/chat/completions', { model: 'gpt-4o', messages: [] }, token)
    t.equal(res.status, 401)
    t.same(await res.json(), { error: { message, type: 'authentication_error', code: 'BERRY_ERR_UNAUTHENTICATED' } })
  }
  t.equal(u.received.length, 0)
})

t.test('403 for a model outside allowed_models, pinned or not', async (t) => {
  const { u, berry } = await setup(t)
  for (const body of [{ model: 'other-model' }, { model: 'other-model', backend: 'p' }, { model: 'other-model', backend: 'nope' }]) {
    const res = await berry.post('/v1/chat/completions', { ...body, messages: [] })
    t.equal(res.status, 403)
    t.same(await res.json(), { error: { message: "You are not allowed to use model 'other-model'", type: 'permission_error', code: 'BERRY_ERR_MODEL_NOT_ALLOWED' } })
  }
  t.equal(u.received.length, 0)
  const ok = await berry.post('/v1/chat/completions', { model: 'gpt-4o', messages: [] })
  t.equal(ok.status, 200)
  await ok.arrayBuffer()
})

t.test('404 for an unknown or disabled model (not pinned)', async (t) => {
  const { berry } = await setup(t)
  for (const model of ['nope', 'off']) {
    const res = await berry.post('/v1/chat/completions', { model, messages: [] }, ADMIN_TOKEN)
    t.equal(res.status, 404)
    t.equal((await res.json()).error.code, 'BERRY_ERR_MODEL_NOT_FOUND')
  }
})

t.test('GET /v1/models and /models list only enabled models the caller may use', async (t) => {
  const { berry } = await setup(t)
  for (const path of ['/v1/models', '/models']) {
    const alice = await (await berry.get(path)).json()
    t.same(alice.data.map((m: { id: string }) => m.id), ['gpt-4o'])
    t.equal(alice.object, 'list')
    const ops = await (await berry.get(path, ADMIN_TOKEN)).json()
    t.same(ops.data.map((m: { id: string }) => m.id), ['gpt-4o', 'other-model'])
  }
  t.equal((await berry.get('/v1/models', null)).status, 401)
})

t.test('GET /health is public and free of secrets', async (t) => {
  const { berry } = await setup(t)
  const res = await berry.get('/health', null)
  t.equal(res.status, 200)
  const text = await res.text()
  const body = JSON.parse(text)
  t.same(Object.keys(body).sort(), ['service_running', 'status', 'summary', 'timestamp'], "the original's summary, nothing more")
  t.same(body.summary, { provider_health: { total: 1, healthy: 1, ratio: 1 }, model_health: { total: 2, healthy: 2, ratio: 1 } })
  t.match(body, { status: 'healthy', service_running: true })
  t.ok(Number.isFinite(Date.parse(body.timestamp)))
  t.notMatch(text, /sk-|token/)
})

t.test('GET /admin/backends: admin tag only, keys masked', async (t) => {
  const { berry } = await setup(t)
  const denied = await berry.get('/admin/backends')
  t.equal(denied.status, 403)
  t.equal((await denied.json()).error.code, 'BERRY_ERR_ADMIN_ONLY')
  const res = await berry.get('/admin/backends', ADMIN_TOKEN)
  t.equal(res.status, 200)
  const text = await res.text()
  t.notMatch(text, 'sk-p-secret-0001')
  const body = JSON.parse(text)
  t.match(body.models[0].backends[0], { provider: 'p', model: 'gpt-4o', weight: 1, effective_weight: 1, enabled: true, health: 'healthy', consecutive_failures: 0, api_key: 'sk-...0001' })
})

t.test('a host authenticate hook replaces [users]', async (t) => {
  const u = await startUpstream(json())
  t.teardown(() => u.close())
  const berry = await startBerry(t, {
    config: `[providers.p]\nbase_url = "${u.origin}/v1"\n[[models.m.backends]]\nprovider = "p"\nmodel = "m"\n`,
    authenticate: (request) => request.headers['x-host-user'] === 'bob' ? { id: 'bob', allowedModels: ['m'] } : null
  })
  const denied = await berry.post('/v1/chat/completions', { model: 'm', messages: [] }, null)
  t.equal(denied.status, 401)
  const ok = await berry.post('/v1/chat/completions', { model: 'm', messages: [] }, null, { 'x-host-user': 'bob' })
  t.equal(ok.status, 200)
  await ok.arrayBuffer()
})

t.test('one keep-alive connection: each request is judged on its own header, and a reload counts', async (t) => {
  const { berry, config } = await setup(t)
  const client = new Client(berry.url, { pipelining: 1 })
  t.teardown(() => client.close())
  const ask = async (token: string) => {
    const res = await client.request({ path: '/v1/models', method: 'GET', headers: { authorization: `Bearer ${token}` } })
    await res.body.dump()
    return res.statusCode
  }
  t.same([await ask(TOKEN), await ask('nope'), await ask(TOKEN), await ask('disabled-user-token')], [200, 401, 200, 401])
  berry.app.berry.reload(config.replace(`token = "${TOKEN}"`, 'token = "rotated-token-0001"'))
  t.equal(await ask(TOKEN), 401, 'a token removed by a reload stops working on an open connection')
})
