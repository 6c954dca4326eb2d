/** GET /health, /v1/health and /admin/health over real sockets: access, status codes, shapes, no secrets. */
import t from 'tap'
import { ADMIN_TOKEN, specConfig, startBerry } from '../helpers/berry.js'
import { startUpstream, status } from '../helpers/fake-upstream.js'

async function setup (t: { teardown (fn: () => unknown): void }, prefix = '') {
  const openai = await startUpstream(status(500))
  const claude = await startUpstream(status(500))
  t.teardown(() => Promise.all([openai.close(), claude.close()]))
  const config = specConfig({ openai: openai.origin, claude: claude.origin }) + '\n[settings]\ncircuit_breaker_failure_threshold = 1\n'
  // A still clock: the decorator and the route stamp the same time.
  const berry = await startBerry(t, { config, prefix, now: () => 1_800_000_000_000 })
  return { berry, openai, claude }
}

t.test('all three answer 200 while every model has a healthy backend; /health and /v1/health need no token', async (t) => {
  const { berry } = await setup(t)
  const health = await berry.get('/health', null)
  t.equal(health.status, 200)
  const body = await health.json()
  t.match(body, { status: 'healthy', service_running: true, summary: { provider_health: { total: 2, healthy: 2, ratio: 1 }, model_health: { total: 2, healthy: 2, ratio: 1 } } })
  t.same(body, berry.app.berry.health(), 'the decorator returns what /health answers')
  const v1 = await berry.get('/v1/health', null)
  t.equal(v1.status, 200)
  t.match(await v1.json(), { status: 'healthy', models_available: true, summary: { providers: { total: 3, enabled: 2, healthy: 2 }, models: { total: 2, enabled: 2, healthy: 2 }, backends: { total: 2, healthy: 2, health_ratio: 1 } } })
  const admin = await berry.get('/admin/health', ADMIN_TOKEN)
  t.equal(admin.status, 200)
  t.match(await admin.json(), { status: 'healthy', models: { gpt_4o: { name: 'gpt-4o', total_backends: 1 } }, unhealthy_backends: [] })
})

t.test('/admin/health is for the admin tag only', async (t) => {
  const { berry } = await setup(t)
  const anonymous = await berry.get('/admin/health', null)
  t.equal(anonymous.status, 401)
  t.match(await anonymous.json(), { error: { code: 'BERRY_ERR_UNAUTHENTICATED' } })
  const user = await berry.get('/admin/health')
  t.equal(user.status, 403)
  t.match(await user.json(), { error: { code: 'BERRY_ERR_ADMIN_ONLY' } })
})

t.test('a model whose only backend failed: 503 from all three, the backend listed, no secret anywhere', async (t) => {
  const { berry } = await setup(t)
  const res = await berry.post('/v1/chat/completions', { model: 'claude-sonnet-4', messages: [{ role: 'user', content: 'hi' }] })
  await res.arrayBuffer()
  const texts: string[] = []
  for (const [path, token] of [['/health', null], ['/v1/health', null], ['/admin/health', ADMIN_TOKEN]] as const) {
    const r = await berry.get(path, token)
    t.equal(r.status, 503, path)
    const text = await r.text()
    texts.push(text)
    t.match(JSON.parse(text), { status: 'unhealthy' }, path)
  }
  const detail = JSON.parse(texts[2] ?? '{}')
  t.match(detail.unhealthy_backends, [{ backend_key: 'anthropic_claude:claude-3-5-sonnet-20241022', failure_count: 1, recovery_attempts: 0, last_recovery_attempt: null }])
  t.match(detail.providers.anthropic_claude, { healthy: false, models: { 'claude-3-5-sonnet-20241022': { healthy: false, failure_count: 1 } } })
  for (const text of texts) t.notMatch(text, /sk-|127\.0\.0\.1|localhost|test-user-token|test-admin-token/)
})

t.test('under a prefix', async (t) => {
  const { berry } = await setup(t, '/llm')
  t.equal((await berry.get('/llm/health', null)).status, 200)
  t.equal((await berry.get('/llm/v1/health', null)).status, 200)
  t.equal((await berry.get('/llm/admin/health', ADMIN_TOKEN)).status, 200)
})
