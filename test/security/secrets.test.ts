/**
 * Attack class: secret leakage.
 *
 * Provider keys (and provider header secrets) and user tokens must not
 * appear in any response (status, headers, body), any error message, any
 * log line at any level (trace included, reply-from's own lines too), or
 * the admin endpoint, which shows keys masked (`sk-...1111`). Every
 * scenario below runs with the log at trace and is scanned for every
 * secret of the config, in plain, URL-encoded, base64 and truncated form.
 *
 * The /metrics text (its labels) is scanned too, after all the traffic.
 */
import t from 'tap'
import { loadConfig } from '../../plugin/config/load.js'
import { maskKey } from '../../plugin/routes/admin.js'
import { startBerry } from '../helpers/berry.js'
import { deadOrigin, hang, json, reset, sse, startUpstream, status } from '../helpers/fake-upstream.js'
import { findSecrets, KEYS, leaksIn, PROVIDER_SECRETS, SECRETS, secConfig, startSecurity, tally, TOKENS } from '../helpers/security.js'

/** Everything a client could read from a response. */
async function observe (res: Response): Promise<string> {
  const headers = [...res.headers].map(([name, value]) => `${name}: ${value}`).join('\n')
  let body = ''
  try { body = await res.text() } catch (err) { body = `(body broke off: ${(err as Error).message})` }
  return `${res.status} ${res.statusText}\n${headers}\n\n${body}`
}

const chat = (model: string, extra: Record<string, unknown> = {}) => ({ model, messages: [{ role: 'user', content: 'hi' }], ...extra })

t.test('responses and trace logs hold no secret, whatever goes wrong', async (t) => {
  const s = await startSecurity(t, { timeoutSeconds: 0.3 })
  const dead = await deadOrigin()
  const seen: string[] = []
  const run = async (label: string, token: string, body: unknown, path = '/v1/chat/completions'): Promise<string> => {
    const text = await observe(await s.berry.post(path, body, token))
    seen.push(`${label}\n${text}`)
    return text
  }
  // Successes.
  await run('json', TOKENS.bob, chat('gpt-4o'))
  s.openai.behave(sse({ chunks: 3, usage: true }))
  await run('sse', TOKENS.bob, chat('gpt-4o', { stream: true }))
  await run('pinned', TOKENS.ops, chat('claude-sonnet-4', { backend: 'anthropic_claude' }))
  await run('header-keyed provider', TOKENS.bob, chat('gpt-4o-premium'))
  await run('embeddings', TOKENS.alice, { model: 'text-embedding-3-small', input: 'x' }, '/v1/embeddings')
  // Upstream failures of every kind.
  for (const code of [400, 404, 429, 500, 502, 503]) {
    s.openai.behave(status(code))
    await run(`upstream ${code}`, TOKENS.bob, chat('gpt-4o'))
  }
  s.openai.behave(sse({ chunks: 5, cutAfter: 2 }))
  await run('stream cut', TOKENS.bob, chat('gpt-4o', { stream: true }))
  s.openai.behave(reset())
  await run('reset', TOKENS.bob, chat('gpt-4o'))
  s.openai.behave(hang())
  await run('timeout', TOKENS.bob, chat('gpt-4o'))
  s.openai.behave(json())
  // Client errors.
  await run('bad token', 'sk-sec-openai-KEY-aaaa1111', chat('gpt-4o'))
  await run('forbidden model', TOKENS.alice, chat('gpt-4o-premium'))
  await run('bad backend', TOKENS.bob, chat('gpt-4o', { backend: 'nope' }))
  await run('bad model', TOKENS.bob, chat('nope'))
  await run('bad body', TOKENS.bob, '{"model":')
  await run('disabled user', TOKENS.carol, chat('gpt-4o'))
  // The admin view.
  const admin = await s.berry.get('/admin/backends', TOKENS.ops)
  const adminText = await observe(admin)
  seen.push(adminText)
  for (const secret of PROVIDER_SECRETS) t.notOk(adminText.includes(secret), 'no whole key in /admin/backends')
  t.match(adminText, `"api_key":"${maskKey(KEYS.openai)}"`)
  t.equal(maskKey(KEYS.openai), 'sk-...1111')
  // Metrics labels: ids from the config only (scanned after all the traffic above).
  const metrics = await s.berry.get('/metrics', TOKENS.ops)
  t.equal(metrics.status, 200)
  const metricsText = await observe(metrics)
  t.match(metricsText, /berry_requests_total/)
  seen.push(metricsText)
  seen.push(await observe(await s.berry.get('/health', null)))
  seen.push(await observe(await s.berry.get('/v1/models', TOKENS.bob)))

  // A second berry whose only provider is dead: connection errors.
  const b2 = await startBerry(t, { config: secConfig({ openai: dead, claude: dead, azure: dead }) }, 'trace')
  seen.push(await observe(await b2.post('/v1/chat/completions', chat('gpt-4o'), TOKENS.bob)))
  seen.push(await observe(await b2.post('/v1/chat/completions', chat('claude-sonnet-4', { backend: 'anthropic_claude' }), TOKENS.bob)))

  t.same(findSecrets(seen.join('\n---\n')), [], 'no secret in any response')
  t.same(leaksIn(s.berry), [], 'no secret in any trace line (hardened host)')
  t.same(leaksIn(b2), [], 'no secret in any trace line (default Fastify logger)')
  t.equal(s.berry.app.log.level, 'trace', 'every level was captured')
  t.equal(b2.app.log.level, 'trace')
  t.ok(b2.logs.some((line) => line.msg === 'response errored'), 'reply-from\'s own error line was captured and scanned')
  tally('secrets: scenarios', seen.length)
})

t.test('a token sent in a query string is kept out of the recommended request log', async (t) => {
  const s = await startSecurity(t)
  const res = await fetch(`${s.berry.url}/v1/chat/completions?api_key=${TOKENS.bob}&key=${encodeURIComponent(KEYS.openai)}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(chat('gpt-4o'))
  })
  t.equal(res.status, 401, 'a query string is no credential')
  t.same(findSecrets(await observe(res)), [])
  t.same(leaksIn(s.berry), [])
  const line = s.berry.logs.find((l) => l.msg === 'incoming request')
  t.equal(line?.req.url, '/v1/chat/completions?[query omitted]')
  tally('secrets: query-string token', 1)
})

t.test('an upstream that echoes the key in a 401 body does not leak it to the client', async (t) => {
  const s = await startSecurity(t)
  s.openai.behave(status(401, { error: { message: `Incorrect API key provided: ${KEYS.openai}`, type: 'invalid_request_error', code: 'invalid_api_key' } }))
  const res = await s.berry.post('/v1/chat/completions', chat('gpt-4o'), TOKENS.bob)
  const text = await observe(res)
  t.equal(res.status, 502, 'the gateway\'s credentials failed: not the client\'s 401')
  t.same(findSecrets(text), [], 'no key in the answer')
  tally('secrets: echoed key', 1)
})

t.test('a redirecting upstream cannot take the key elsewhere', async (t) => {
  const s = await startSecurity(t)
  const elsewhere = await startUpstream(json('elsewhere'))
  t.teardown(() => elsewhere.close())
  let tried = 0
  for (const code of [301, 302, 307, 308]) {
    s.openai.behave(status(code, { moved: true }, { location: `${elsewhere.origin}/v1/chat/completions` }))
    // redirect: 'manual', or fetch itself would follow the Location.
    const res = await fetch(`${s.berry.url}/v1/chat/completions`, {
      method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKENS.bob}` }, body: JSON.stringify(chat('gpt-4o'))
    })
    t.equal(res.status, code, `${code} passed back, not followed`)
    t.same(findSecrets(await observe(res)), [])
    tried++
  }
  t.equal(elsewhere.received.length, 0, 'the redirect target saw nothing, no key')
  tally('secrets: upstream redirects', tried)
})

t.test('a model or backend name cannot forge a log line', async (t) => {
  const s = await startSecurity(t)
  const forged = '{"level":60,"msg":"forged","token":"x"}'
  for (const field of ['model', 'backend'] as const) {
    const body = field === 'model' ? chat(`x\n${forged}`) : chat('gpt-4o', { backend: `x\r\n${forged}` })
    await (await s.berry.post('/v1/chat/completions', body, TOKENS.bob)).arrayBuffer()
  }
  t.notOk(s.berry.logs.some((line) => line.msg === 'forged'), 'every line parsed as one JSON record; none forged')
  t.ok(s.berry.logs.some((line) => typeof line.msg === 'string' && line.msg.includes('forged')), 'the text stayed inside a message')
  tally('secrets: log injection', 2)
})

t.test('config errors never quote a secret', async (t) => {
  const secret = 'sk-live-SECRETSECRET-1234'
  const token = 'tok-SECRETSECRET-5678'
  const bad = [
    `[providers.a]\nbase_url = "http://x/v1"\napi_key = "${secret}\n[models.m]\nbackends = []`,
    `[providers.a]\nbase_url = "http://x/v1"\napi_key = ${secret}\n[models.m]\nbackends = []`,
    `[providers.a]\nbase_url = "http://x/v1"\napi_key = ["${secret}"]\n[models.m]\nbackends = []`,
    `[providers.a]\nbase_url = "http://x/v1"\napi_kye = "${secret}"\n[models.m]\nbackends = []`,
    `[providers.a]\nbase_url = "http://user:${secret}@x/v1"\n[models.m]\nbackends = []`,
    `[providers.a]\nbase_url = "${secret}"\n[models.m]\nbackends = []`,
    `[providers.a]\nbase_url = "http://x/v1"\napi_key = "${secret}\\r\\nX: 1"\n[models.m]\nbackends = []`,
    `[providers.a]\nbase_url = "http://x/v1"\nheaders = { "bad name" = "${secret}" }\n[models.m]\nbackends = []`,
    `[providers.a]\nbase_url = "http://x/v1"\nheaders = { "x-api-key" = "${secret}\\n" }\n[models.m]\nbackends = []`,
    `[providers.a]\nbase_url = "http://x/v1"\n[models.m]\nbackends = []\n[users.u]\ntoken = "${token} x"`,
    `[providers.a]\nbase_url = "http://x/v1"\n[models.m]\nbackends = []\n[users.u]\ntoken = "${token}"\n[users.v]\ntoken = "${token}"`,
    `[providers.a]\nbase_url = "http://x/v1"\n[models.m]\nbackends = []\n[users.u]\ntoken = ["${token}"]`
  ]
  for (const text of bad) {
    let message = ''
    try {
      loadConfig(text)
      t.fail('loaded')
    } catch (err) {
      message = (err as Error).message
    }
    t.match(message, /^Invalid berry config:/)
    t.notOk(message.includes(secret) || message.includes(token) || message.includes('SECRETSECRET'), JSON.stringify(message))
  }
  // A rejected reload says why without the secrets of either config.
  const s = await startSecurity(t)
  t.throws(() => s.berry.app.berry.reload(bad[1]!))
  let reloadMessage = ''
  try { s.berry.app.berry.reload(`${bad[0]!}\n`) } catch (err) { reloadMessage = (err as Error).message }
  t.same(findSecrets(reloadMessage, SECRETS), [])
  t.notOk(reloadMessage.includes('SECRETSECRET'))
  tally('secrets: config errors', bad.length + 2)
})
