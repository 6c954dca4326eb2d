/**
 * Attack class: the `backend` field.
 *
 * `settings.backend_pinning` decides who may pin ("all", "off", or user
 * tags); a pinned backend is looked up among the model's own backends by
 * provider id and nothing else: no URL, no path, no provider of another
 * model, no inherited property name. `backend` never reaches an upstream.
 */
import t from 'tap'
import { isOpenAIError, leaksIn, startSecurity, tally, TOKENS } from '../helpers/security.js'

const chat = (model: string, backend: unknown) => ({ model, backend, messages: [{ role: 'user', content: 'hi' }] })
const PINNING_DENIED = "You are not allowed to pin a backend with the 'backend' field"

t.test('policy "all" (the default): any user who may use the model may pin', async (t) => {
  const s = await startSecurity(t)
  for (const token of [TOKENS.alice, TOKENS.bob, TOKENS.ops]) {
    const res = await s.berry.post('/v1/chat/completions', chat('gpt-4o', 'openai_official'), token)
    t.equal(res.status, 200)
    t.equal(res.headers.get('x-berry-backend'), 'openai_official')
    await res.arrayBuffer()
  }
  for (const seen of s.openai.received) t.equal(seen.json.backend, undefined, 'backend removed')
  tally('pinning: policy all', 3)
})

t.test('policy "off": nobody may pin, with a clear 403 and nothing upstream', async (t) => {
  const s = await startSecurity(t, { pinning: '"off"' })
  for (const token of [TOKENS.alice, TOKENS.bob, TOKENS.ops]) {
    for (const backend of ['openai_official', 'nope', '']) {
      const res = await s.berry.post('/v1/chat/completions', chat('gpt-4o', backend), token)
      t.equal(res.status, 403)
      const body = await res.json()
      t.same(body.error, { message: PINNING_DENIED, type: 'permission_error', code: 'BERRY_ERR_PINNING_NOT_ALLOWED' })
    }
  }
  // Unpinned requests still work.
  const plain = await s.berry.post('/v1/chat/completions', { model: 'gpt-4o', messages: [] }, TOKENS.bob)
  t.equal(plain.status, 200)
  await plain.arrayBuffer()
  t.equal(s.received().length, 1)
  tally('pinning: policy off', 9)
})

t.test('policy by tags: only users with one of the tags may pin', async (t) => {
  const s = await startSecurity(t, { pinning: '["ops", "sre"]' })
  const denied = await s.berry.post('/v1/chat/completions', chat('gpt-4o', 'openai_official'), TOKENS.bob)
  t.equal(denied.status, 403)
  t.equal((await denied.json()).error.message, PINNING_DENIED)
  const allowed = await s.berry.post('/v1/chat/completions', chat('gpt-4o', 'openai_official'), TOKENS.ops)
  t.equal(allowed.status, 200)
  await allowed.arrayBuffer()
  // The model check comes first: a forbidden model says nothing about pinning.
  const forbidden = await s.berry.post('/v1/chat/completions', chat('gpt-4o-premium', 'azure_like'), TOKENS.alice)
  t.equal(forbidden.status, 403)
  t.equal((await forbidden.json()).error.code, 'BERRY_ERR_MODEL_NOT_ALLOWED')
  t.equal(s.received().length, 1)
  tally('pinning: policy tags', 3)
})

t.test('backend selects only a provider among the model\'s own enabled backends', async (t) => {
  const s = await startSecurity(t)
  const outside = [
    'anthropic_claude', // a provider of another model
    'azure_like',
    'disabled_backend', // listed for gpt-4o, but the provider is disabled
    'OPENAI_OFFICIAL',
    'openai_official ',
    ' openai_official',
    'openai-official',
    'openai_official\u0000',
    'openai_official/../azure_like',
    'providers.openai_official',
    'openai_official/gpt-4o-2024-08-06',
    'gpt-4o-2024-08-06',
    'OpenAI Official',
    'http://127.0.0.1:1/v1',
    `${new URL(s.azure.origin).href}openai/deployments/prem`,
    s.claude.origin,
    '//evil.example/v1',
    'file:///etc/passwd',
    '../../etc/passwd',
    '/v1/chat/completions',
    '127.0.0.1',
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    'hasOwnProperty',
    'valueOf',
    '*',
    '.*',
    '%',
    // eslint-disable-next-line no-template-curly-in-string -- a literal config reference is the attack
    '${OPENAI_API_KEY}',
    'x'.repeat(10_000)
  ]
  for (const backend of outside) {
    const res = await s.berry.post('/v1/chat/completions', chat('gpt-4o', backend), TOKENS.bob)
    const label = JSON.stringify(backend.slice(0, 60))
    t.equal(res.status, 500, `${label}: the spec's 500`)
    const body = await res.json()
    t.ok(isOpenAIError(body))
    t.equal(body.error.code, 'BERRY_ERR_BACKEND_UNAVAILABLE', label)
    t.equal(body.error.message, `Specified backend '${backend}' is not available for model 'gpt-4o': Backend '${backend}' not found or disabled for model 'gpt-4o'`)
  }
  // The spec's health-check pin of an existing backend still works, on the right upstream.
  const ok = await s.berry.post('/v1/chat/completions', chat('claude-sonnet-4', 'anthropic_claude'), TOKENS.bob)
  t.equal(ok.status, 200)
  await ok.arrayBuffer()
  t.equal(s.claude.received.length, 1)
  t.equal(s.claude.received[0]?.json.backend, undefined)
  t.equal(s.openai.received.length, 0, 'no stray pin reached openai')
  t.equal(s.azure.received.length, 0, 'no stray pin reached azure')
  t.same(leaksIn(s.berry), [])
  tally('pinning: backend values', outside.length + 1)
})

t.test('backend of the wrong type is a 400, never a lookup', async (t) => {
  const s = await startSecurity(t)
  const values: unknown[] = [null, 1, 0, true, false, [], ['openai_official'], {}, { provider: 'openai_official' }, { toString: 'openai_official' }]
  for (const backend of values) {
    const res = await s.berry.post('/v1/chat/completions', chat('gpt-4o', backend), TOKENS.bob)
    t.equal(res.status, 400, `${JSON.stringify(backend)}: 400`)
    const body = await res.json()
    t.same(body.error, { message: "'backend' must be a string naming a provider", type: 'invalid_request_error', code: 'BERRY_ERR_INVALID_BODY' })
  }
  t.same(s.received(), [])
  tally('pinning: backend types', values.length)
})
