/**
 * Every example of the two spec documents, over real sockets: plain and
 * pinned requests, pinned streaming, the three errors to the letter, the
 * log lines, and the health-check loop over several backends.
 */
import t, { type Test } from 'tap'
import { startBerry, specConfig } from './helpers/berry.js'
import { json, sse, startUpstream } from './helpers/fake-upstream.js'

async function setup (t: Test) {
  const openai = await startUpstream(json('from openai'))
  const claude = await startUpstream(json('from claude'))
  t.teardown(() => openai.close())
  t.teardown(() => claude.close())
  const berry = await startBerry(t, { config: specConfig({ openai: openai.origin, claude: claude.origin }) })
  return { openai, claude, berry }
}

t.test('plain request: load balanced, model mapped, key swapped', async (t) => {
  const { openai, berry } = await setup(t)
  const res = await berry.post('/v1/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello' }] })
  t.equal(res.status, 200)
  const body = await res.json()
  t.equal(body.choices[0].message.content, 'from openai')
  t.equal(res.headers.get('x-berry-backend'), 'openai_official')
  t.equal(res.headers.get('x-berry-attempts'), '1')
  t.equal(openai.received.length, 1)
  const seen = openai.received[0]!
  t.equal(seen.url, '/v1/chat/completions')
  t.equal(seen.headers.authorization, 'Bearer sk-openai-secret-key-0001')
  t.same(seen.json, { model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello' }] })
  const line = berry.logs.find((l) => typeof l.msg === 'string' && l.msg.startsWith('Selected backend for model'))
  t.match(line?.msg, /^Selected backend for model 'gpt-4o': provider='openai_official', model='gpt-4o', selection_time=\d+ms$/)
})

t.test('pinned request: bypasses balancing, backend never reaches upstream, spec log lines', async (t) => {
  const { claude, berry } = await setup(t)
  const res = await berry.post('/v1/chat/completions', {
    model: 'claude-sonnet-4', messages: [{ role: 'user', content: 'Hello' }], backend: 'anthropic_claude', max_tokens: 50
  })
  t.equal(res.status, 200)
  t.equal((await res.json()).choices[0].message.content, 'from claude')
  const seen = claude.received[0]!
  t.equal(seen.json.backend, undefined, 'backend removed')
  t.equal(seen.json.model, 'claude-3-5-sonnet-20241022', 'upstream model name')
  t.equal(seen.json.max_tokens, 50)
  t.equal(seen.headers.authorization, 'Bearer sk-ant-secret-key-0002')
  const messages = berry.logs.map((l) => l.msg)
  t.ok(messages.includes("Using specified backend 'anthropic_claude' for model 'claude-sonnet-4'"))
  const selected = messages.find((m) => typeof m === 'string' && m.startsWith('Selected specific backend'))
  t.match(selected, /^Selected specific backend for model 'claude-sonnet-4': provider='anthropic_claude', model='claude-3-5-sonnet-20241022', selection_time=\d+ms$/)
  const info = berry.logs.find((l) => l.msg === "Using specified backend 'anthropic_claude' for model 'claude-sonnet-4'")
  t.equal(info?.level, 30, 'info level')
})

t.test('pinned streaming request passes SSE through', async (t) => {
  const { openai, berry } = await setup(t)
  openai.behave(sse({ chunks: 5 }))
  const res = await berry.post('/v1/chat/completions', {
    model: 'gpt-4o', messages: [{ role: 'user', content: 'Count to 5' }], backend: 'openai_official', stream: true, max_tokens: 50
  })
  t.equal(res.status, 200)
  t.match(res.headers.get('content-type'), /^text\/event-stream/)
  const text = await res.text()
  t.equal(text.match(/^data: \{/gm)?.length, 5)
  t.ok(text.endsWith('data: [DONE]\n\n'))
  t.equal(openai.received[0]!.json.stream, true)
  t.equal(openai.received[0]!.json.backend, undefined)
})

const SPEC_ERRORS = [
  ['invalid_backend', 'gpt-4o', "Specified backend 'invalid_backend' is not available for model 'gpt-4o': Backend 'invalid_backend' not found or disabled for model 'gpt-4o'"],
  ['disabled_backend', 'gpt-4o', "Specified backend 'disabled_backend' is not available for model 'gpt-4o': Backend 'disabled_backend' not found or disabled for model 'gpt-4o'"],
  ['openai_official', 'invalid_model', "Specified backend 'openai_official' is not available for model 'invalid_model': Model 'invalid_model' not found"]
] as const

for (const [backend, model, message] of SPEC_ERRORS) {
  t.test(`spec error: backend ${backend}, model ${model}`, async (t) => {
    const { openai, berry } = await setup(t)
    const res = await berry.post('/v1/chat/completions', { model, messages: [{ role: 'user', content: 'test' }], backend, max_tokens: 5 })
    t.equal(res.status, 500)
    const body = await res.json()
    t.equal(body.error.message, message)
    t.equal(body.error.code, 'BERRY_ERR_BACKEND_UNAVAILABLE')
    t.equal(openai.received.length, 0, 'nothing reached an upstream')
  })
}

t.test('health-check loop over several backends (the spec script)', async (t) => {
  const { berry } = await setup(t)
  const results: Record<string, number> = {}
  for (const backend of ['openai_official', 'anthropic_claude', 'google_gemini']) {
    const res = await berry.post('/v1/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 'ping' }], backend, max_tokens: 1 })
    await res.arrayBuffer()
    results[backend] = res.status
  }
  t.same(results, { openai_official: 200, anthropic_claude: 500, google_gemini: 500 })
})
