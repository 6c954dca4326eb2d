/**
 * The status page's routes over real sockets: off by default, the page and
 * its files with a strict CSP, GET /admin/status for admins only, figures
 * from real requests through berry, and rate-limit headroom read without
 * spending it.
 */
import Fastify from 'fastify'
import t, { type Test } from 'tap'
import berry, { type BerryOptions } from '../../plugin/index.js'
import type { StatusView } from '../../plugin/status/view-types.js'
import { ADMIN_TOKEN, specConfig, startBerry, TOKEN } from '../helpers/berry.js'
import { json, startUpstream, status } from '../helpers/fake-upstream.js'

async function setup (t: Test, options: { prefix?: string, status?: boolean | { path?: string }, limits?: string } = {}) {
  const openai = await startUpstream(json())
  const claude = await startUpstream(status(503))
  t.teardown(() => Promise.all([openai.close(), claude.close()]))
  let config = specConfig({ openai: openai.origin, claude: claude.origin })
  if (options.limits !== undefined) config = config.replace('[users.alice]', `[users.alice]\nrate_limit = { ${options.limits} }`)
  const app = await startBerry(t, { config, prefix: options.prefix ?? '', status: options.status ?? true })
  return { app, openai, claude }
}

t.test('off by default: no page, no data route', async (t) => {
  const openai = await startUpstream(json())
  t.teardown(() => openai.close())
  const app = await startBerry(t, { config: specConfig({ openai: openai.origin, claude: openai.origin }) })
  t.equal((await app.get('/status', null)).status, 404)
  t.equal((await app.get('/admin/status', ADMIN_TOKEN)).status, 404)
})

t.test('the page: public HTML with a strict CSP, nothing inline, every file it names served', async (t) => {
  const { app } = await setup(t)
  const res = await app.get('/status', null)
  t.equal(res.status, 200)
  t.match(res.headers.get('content-type'), /^text\/html/)
  const csp = res.headers.get('content-security-policy') ?? ''
  t.match(csp, "default-src 'none'")
  t.match(csp, "script-src 'self'")
  t.match(csp, "style-src 'self'")
  t.match(csp, "connect-src 'self'")
  t.notMatch(csp, /unsafe-inline|unsafe-eval|https?:|\*/, 'no inline, no eval, no other origin')
  t.equal(res.headers.get('cache-control'), 'no-store')
  const html = await res.text()
  t.notMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script')
  t.notMatch(html, /<style|\sstyle=|\son[a-z]+=/i, 'no inline style or handler')
  t.notMatch(html, /https?:\/\//, 'nothing from another origin')
  t.match(html, '<meta name="berry-status-api" content="/admin/status">')

  // Every module main.js imports, transitively, is served with the right type.
  const seen = new Set<string>()
  const queue = ['main.js']
  while (queue.length > 0) {
    const name = queue.shift() as string
    if (seen.has(name)) continue
    seen.add(name)
    const file = await app.get(`/status/assets/${name}`, null)
    t.equal(file.status, 200, name)
    t.match(file.headers.get('content-type'), /^text\/javascript/, name)
    const code = await file.text()
    t.notMatch(code, /\bimport type\b|: string\b/, `${name} is JavaScript, not TypeScript`)
    for (const [, dep] of code.matchAll(/from '\.\/([a-z-]+\.js)'/g)) if (dep !== undefined) queue.push(dep)
  }
  t.same([...seen].sort(), ['api.js', 'chart.js', 'format.js', 'main.js', 'render.js', 'table.js', 'token-store.js'])
  for (const [name, type] of [['status.css', /^text\/css/], ['icon.svg', /^image\/svg\+xml/]] as const) {
    const file = await app.get(`/status/assets/${name}`, null)
    t.equal(file.status, 200)
    t.match(file.headers.get('content-type'), type)
    const etag = file.headers.get('etag') ?? ''
    const again = await fetch(`${app.url}/status/assets/${name}`, { headers: { 'if-none-match': etag } })
    t.equal(again.status, 304, `${name} revalidates`)
  }
  const missing = await app.get('/status/assets/..%2Fpackage.json', null)
  t.equal(missing.status, 404)
  t.match(await missing.json(), { error: { code: 'BERRY_ERR_NOT_FOUND' } })
})

t.test('GET /admin/status: admin tag only', async (t) => {
  const { app } = await setup(t)
  t.equal((await app.get('/admin/status', null)).status, 401)
  const user = await app.get('/admin/status', TOKEN)
  t.equal(user.status, 403)
  t.match(await user.json(), { error: { code: 'BERRY_ERR_ADMIN_ONLY' } })
  const admin = await app.get('/admin/status', ADMIN_TOKEN)
  t.equal(admin.status, 200)
  t.equal(admin.headers.get('cache-control'), 'no-store')
  t.match(await admin.json(), { status: 'healthy', models: [{ name: 'gpt-4o' }, { name: 'claude-sonnet-4' }] })
})

t.test('figures from real requests: rates, errors, pinned, tokens, users; no secret in the JSON', async (t) => {
  const { app } = await setup(t)
  const ask = async (body: Record<string, unknown>, token = TOKEN): Promise<void> => {
    const res = await app.post('/v1/chat/completions', { messages: [{ role: 'user', content: 'hi' }], ...body }, token)
    await res.arrayBuffer()
  }
  for (let i = 0; i < 4; i++) await ask({ model: 'gpt-4o' })
  await ask({ model: 'gpt-4o', backend: 'openai_official' }, ADMIN_TOKEN)
  await ask({ model: 'claude-sonnet-4' })
  const res = await app.get('/admin/status', ADMIN_TOKEN)
  const text = await res.text()
  const view = JSON.parse(text) as StatusView
  const gpt = view.models.find((m) => m.name === 'gpt-4o')
  t.match(gpt, { requests: 5, pinned_requests: 1, error_rate: 0, tokens_per_minute: Number })
  t.match(gpt?.backends[0], { provider: 'openai_official', requests: 5, share: 1, state: 'healthy' })
  t.ok((gpt?.backends[0]?.latency_p95_ms ?? 0) > 0, 'latency observed')
  t.ok((gpt?.backends[0]?.ttfb_p50_ms ?? 0) > 0, 'time to first byte observed')
  const claude = view.models.find((m) => m.name === 'claude-sonnet-4')
  t.match(claude, { requests: 1, error_rate: 1 })
  t.match(claude?.backends[0], { state: 'failing', last_failure: { reason: 'HTTP 503' } })
  t.match(view.users.find((u) => u.id === 'alice'), { requests: 5, tokens: 24 })
  t.match(view.users.find((u) => u.id === 'ops'), { requests: 1 })
  t.equal(view.totals.requests, 6)
  t.notMatch(text, /sk-|127\.0\.0\.1|test-user-token|test-admin-token/)
})

t.test('a backend that fails over shows its failures, though every request was answered', async (t) => {
  const sick = await startUpstream(status(502))
  const well = await startUpstream(json())
  t.teardown(() => Promise.all([sick.close(), well.close()]))
  const config = specConfig({ openai: sick.origin, claude: well.origin }).replace('[users.alice]', `
[[models.gpt_4o.backends]]
provider = "anthropic_claude"
model = "claude-3-5-sonnet-20241022"
weight = 1.0

[users.alice]`)
  // random 0: openai_official (listed first) is drawn first, fails, and anthropic_claude answers.
  const app = await startBerry(t, { config, status: true, random: () => 0 })
  for (let i = 0; i < 3; i++) {
    const res = await app.post('/v1/chat/completions', { model: 'gpt-4o', messages: [] })
    await res.arrayBuffer()
    t.equal(res.status, 200)
  }
  const view = await (await app.get('/admin/status', ADMIN_TOKEN)).json() as StatusView
  const gpt = view.models.find((m) => m.name === 'gpt-4o')
  t.match(gpt, { requests: 3, error_rate: 0, failovers: 3 }, 'clients saw no error')
  t.match(gpt?.backends.find((b) => b.provider === 'openai_official'), { requests: 0, failovers: 3, error_rate: 1, last_failure: { reason: 'HTTP 502' } })
  t.match(gpt?.backends.find((b) => b.provider === 'anthropic_claude'), { requests: 3, error_rate: 0, share: 1 })
})

t.test('rate-limit headroom is read, not spent', async (t) => {
  const { app } = await setup(t, { limits: 'requests_per_minute = 10, requests_per_day = 1000' })
  for (let i = 0; i < 3; i++) await (await app.post('/v1/chat/completions', { model: 'gpt-4o', messages: [] })).arrayBuffer()
  for (let i = 0; i < 3; i++) {
    const view = await (await app.get('/admin/status', ADMIN_TOKEN)).json() as StatusView
    const alice = view.users.find((u) => u.id === 'alice')
    t.match(alice?.rate_limit, [{ window: 'minute', limit: 10, remaining: 7 }, { window: 'day', limit: 1000, remaining: 997 }], `read ${i + 1}`)
    t.ok((alice?.rate_limit[0]?.reset_seconds ?? 0) > 0 && (alice?.rate_limit[0]?.reset_seconds ?? 99) <= 60)
  }
  const res = await app.post('/v1/chat/completions', { model: 'gpt-4o', messages: [] })
  await res.arrayBuffer()
  t.equal(res.headers.get('x-ratelimit-remaining'), '6', 'the reads took nothing from the budget')
  const ops = ((await (await app.get('/admin/status', ADMIN_TOKEN)).json()) as StatusView).users.find((u) => u.id === 'ops')
  t.same(ops?.rate_limit, [], 'no limits, no windows')
})

t.test('under a prefix and at another path, the page names its own URLs', async (t) => {
  const { app } = await setup(t, { prefix: '/llm', status: { path: '/ops/board' } })
  const html = await (await app.get('/llm/ops/board', null)).text()
  t.match(html, 'src="/llm/ops/board/assets/main.js"')
  t.match(html, 'href="/llm/ops/board/assets/status.css"')
  t.match(html, 'content="/llm/admin/status"')
  t.equal((await app.get('/llm/ops/board/assets/main.js', null)).status, 200)
  t.equal((await app.get('/llm/admin/status', ADMIN_TOKEN)).status, 200)
})

t.test('bad status options make app.ready() reject', async (t) => {
  for (const [status, message] of [
    ['yes', /'status' must be a boolean or an object/],
    [{ path: 'status' }, /'status.path' must be a path/],
    [{ path: '/status/' }, /'status.path' must be a path/],
    [{ path: '/' }, /'status.path' must be a path/],
    [{ path: '/a/:b' }, /'status.path' must be a path/]
  ] as const) {
    const app = Fastify()
    // What untyped code might pass.
    const options: unknown = { config: specConfig({ openai: 'http://127.0.0.1:9', claude: 'http://127.0.0.1:9' }), status }
    app.register(berry, options as BerryOptions)
    await t.rejects(async () => { await app.ready() }, { code: 'BERRY_ERR_INVALID_OPTS', message })
    await app.close()
  }
})
