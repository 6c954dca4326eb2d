/**
 * Over real sockets: berry with fake upstreams. A model under smart_ai with
 * one failing backend serves every client request; the weight view shows
 * what it learnt, to admins only; tags hold for load-balanced and pinned
 * requests.
 */
import t, { type Test } from 'tap'
import { ADMIN_TOKEN, TOKEN, startBerry } from '../helpers/berry.js'
import { deadOrigin, json, startUpstream, status, type FakeUpstream } from '../helpers/fake-upstream.js'
import { seeded } from '../helpers/random.js'

const PREMIUM_TOKEN = 'test-premium-token-778899'

async function upstream (t: Test, behaviour = json()): Promise<FakeUpstream> {
  const u = await startUpstream(behaviour)
  t.teardown(() => u.close())
  return u
}

function config (origins: { failing: string, healthy: string, gold: string }): string {
  return `
[providers.failing]
base_url = "${origins.failing}/v1"
api_key = "sk-failing-secret-0001"
[providers.healthy]
base_url = "${origins.healthy}/v1"
api_key = "sk-healthy-secret-0002"
[providers.gold]
base_url = "${origins.gold}/v1"
api_key = "sk-gold-secret-0003"

[models.smart]
name = "smart-model"
strategy = "smart_ai"
[[models.smart.backends]]
provider = "failing"
model = "up-failing"
[[models.smart.backends]]
provider = "healthy"
model = "up-healthy"

[models.tagged]
name = "tagged-model"
strategy = "round_robin"
[[models.tagged.backends]]
provider = "healthy"
model = "up-open"
[[models.tagged.backends]]
provider = "gold"
model = "up-gold"
tags = ["premium"]

[models.gold_only]
name = "gold-only"
[[models.gold_only.backends]]
provider = "gold"
model = "up-gold"
tags = ["premium"]

[users.alice]
token = "${TOKEN}"
tags = ["basic"]

[users.pam]
token = "${PREMIUM_TOKEN}"
tags = ["premium"]

[users.ops]
token = "${ADMIN_TOKEN}"
tags = ["admin"]
`
}

const ask = (model: string, extra: Record<string, unknown> = {}) => ({ model, messages: [{ role: 'user', content: 'hi' }], ...extra })

t.test('smart_ai with one failing backend serves every client request', async (t) => {
  for (const [what, failing] of [['HTTP 500', 'status'], ['connection refused', 'dead']] as const) {
    const bad = failing === 'status' ? await upstream(t, status(500)) : undefined
    const healthy = await upstream(t)
    const gold = await upstream(t)
    const berry = await startBerry(t, { config: config({ failing: bad?.origin ?? await deadOrigin(), healthy: healthy.origin, gold: gold.origin }), random: seeded(9) }, 'warn')
    const statuses: number[] = []
    let failedOver = 0
    for (let i = 0; i < 150; i++) {
      const res = await berry.post('/v1/chat/completions', ask('smart-model'))
      statuses.push(res.status)
      if (res.headers.get('x-berry-attempts') === '2') failedOver++
      await res.arrayBuffer()
    }
    t.same([...new Set(statuses)], [200], `${what}: every one of 150 requests answered 200`)
    t.ok(failedOver > 0, `${what}: the failing backend kept a trickle (${failedOver} requests failed over)`)
    t.ok(failedOver < 40, `${what}: a trickle, not a share (${failedOver} of 150)`)
    if (bad !== undefined) t.equal(bad.received.length, failedOver, 'each trickle request reached the failing upstream once')

    const view = await (await berry.get('/smart-ai/models/smart-model/weights?detailed=true', ADMIN_TOKEN)).json()
    const [f, h] = view.model.backends
    t.match(f, { provider: 'failing', effective_weight: 0.1 }, `${what}: c = 0.1 below confidence 0.1`)
    t.ok(f.confidence < 0.051, `${what}: at the floor, 0.05 (plus seconds of drift back): ${f.confidence}`)
    t.match(f.health_details.error_counts, failing === 'status' ? { ServerError: failedOver } : { NetworkError: failedOver })
    t.ok(h.confidence > 0.99 && h.effective_weight > 1.09, 'the healthy twin at full confidence, with the bonus')
  }
})

t.test('the weight view: admin only, the original\'s shape, query flags checked', async (t) => {
  const healthy = await upstream(t)
  const berry = await startBerry(t, { config: config({ failing: healthy.origin, healthy: healthy.origin, gold: healthy.origin }) })
  const refused = await berry.get('/smart-ai/weights')
  t.equal(refused.status, 403)
  t.same(await refused.json(), { error: { message: "This endpoint needs a user with the 'admin' tag", type: 'permission_error', code: 'BERRY_ERR_ADMIN_ONLY' } })
  t.equal((await berry.get('/smart-ai/weights', null)).status, 401)
  t.equal((await berry.get('/smart-ai/models/smart-model/weights', TOKEN)).status, 403)

  const res = await berry.get('/smart-ai/weights', ADMIN_TOKEN)
  t.equal(res.status, 200)
  const body = await res.json()
  t.same(Object.keys(body), ['models', 'total_smart_ai_models', 'available_models', 'timestamp', 'settings'])
  t.equal(body.total_smart_ai_models, 1)
  t.same(body.models.map((m: { name: string, strategy: string }) => [m.name, m.strategy]), [['smart-model', 'SmartAi'], ['tagged-model', 'RoundRobin'], ['gold-only', 'WeightedRandom']])
  t.equal(body.models[0].backends[0].health_details, undefined)
  const text = JSON.stringify(body)
  t.notMatch(text, /sk-|127\.0\.0\.1/, 'no key, no address')

  const detailed = await (await berry.get('/smart-ai/weights?detailed=true&enabled_only=false', ADMIN_TOKEN)).json()
  t.same(detailed.settings, { detailed: true, enabled_only: false })
  t.type(detailed.models[0].backends[0].health_details, 'object')
  const bad = await berry.get('/smart-ai/weights?detailed=yes', ADMIN_TOKEN)
  t.equal(bad.status, 400)
  t.match(await bad.json(), { error: { message: "'detailed' must be true or false", code: 'BERRY_ERR_INVALID_BODY' } })

  t.match(await (await berry.get('/smart-ai/models/smart/weights', ADMIN_TOKEN)).json(), { model: { name: 'smart-model' } }, 'found by key too')
  const missing = await berry.get('/smart-ai/models/nope/weights', ADMIN_TOKEN)
  t.equal(missing.status, 404)
  t.match(await missing.json(), { error: { code: 'BERRY_ERR_MODEL_NOT_FOUND' } })
})

t.test('tags over the wire: load balancing stays inside them, pinning cannot leave them', async (t) => {
  const open = await upstream(t)
  const gold = await upstream(t)
  const berry = await startBerry(t, { config: config({ failing: open.origin, healthy: open.origin, gold: gold.origin }) })
  for (let i = 0; i < 20; i++) {
    const res = await berry.post('/v1/chat/completions', ask('tagged-model'))
    t.equal(res.headers.get('x-berry-backend'), 'healthy', 'alice (basic) never reaches the premium backend')
    await res.arrayBuffer()
  }
  const seen = new Set<string>()
  for (let i = 0; i < 4; i++) {
    const res = await berry.post('/v1/chat/completions', ask('tagged-model'), PREMIUM_TOKEN)
    seen.add(res.headers.get('x-berry-backend') ?? '')
    await res.arrayBuffer()
  }
  t.same([...seen].sort(), ['gold', 'healthy'], 'pam (premium) rotates over both')
  t.equal(gold.received.length, 2)

  const pinned = await berry.post('/v1/chat/completions', ask('tagged-model', { backend: 'gold' }))
  t.equal(pinned.status, 500)
  t.same(await pinned.json(), {
    error: {
      message: "Specified backend 'gold' is not available for model 'tagged-model': Backend 'gold' not found or disabled for model 'tagged-model'",
      type: 'api_error',
      code: 'BERRY_ERR_BACKEND_UNAVAILABLE'
    }
  })
  t.equal(gold.received.length, 2, 'the pinned request never left berry')
  const admin = await berry.post('/v1/chat/completions', ask('tagged-model', { backend: 'gold' }), ADMIN_TOKEN)
  t.equal(admin.status, 200, 'admin may pin any backend')
  await admin.arrayBuffer()

  const listed = async (token: string) => (await (await berry.get('/v1/models', token)).json()).data.map((m: { id: string }) => m.id).sort()
  t.same(await listed(TOKEN), ['smart-model', 'tagged-model'], 'a model none of whose backends shares her tags is not listed for alice')
  t.same(await listed(PREMIUM_TOKEN), ['gold-only', 'smart-model', 'tagged-model'])
  const refused = await berry.post('/v1/chat/completions', ask('gold-only'))
  t.equal(refused.status, 503)
  t.match((await refused.json()).error, { message: /no enabled backend shares a tag with this user/ })
})
