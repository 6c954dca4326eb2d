/**
 * What berry relies on in @fastify/http-proxy, @fastify/reply-from and
 * undici beyond their documented options. Each test fails if an upgrade of
 * one of them breaks the contract, rather than leaving berry subtly wrong.
 */
import t from 'tap'
import { ADMIN_TOKEN, startBerry, TOKEN } from './helpers/berry.js'
import { gatewayConfig } from './helpers/config.js'
import { hang, json, startUpstream, status, type Behaviour } from './helpers/fake-upstream.js'

const ask = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }

async function upstream (t: Parameters<typeof startBerry>[0], behaviour: Behaviour) {
  const u = await startUpstream(behaviour)
  t.teardown(() => u.close())
  return u
}

t.test("the attempt's control reaches the dispatcher under a Symbol in the headers object, and never the wire", async (t) => {
  // reply-from copies the headers rewriteRequestHeaders returns with
  // Object.assign (Symbol keys kept) into undici's dispatch options, and
  // undici serialises string keys only. If either changed, the dispatcher
  // would find no control: no token counting, no per-provider timeout.
  t.test('the body tap sees the answer: tokens are counted', async (t) => {
    const u = await upstream(t, json())
    const berry = await startBerry(t, { config: gatewayConfig({ providers: { a: u.origin } }) })
    const res = await berry.post('/v1/chat/completions', ask)
    await res.arrayBuffer()
    t.match(await berry.log((l) => l.msg === 'berry request'), { status: 200, prompt_tokens: 5, completion_tokens: 1 })
  })

  t.test("the provider's header timeout applies (undici's default is 300 s)", async (t) => {
    const u = await upstream(t, hang())
    const berry = await startBerry(t, { config: gatewayConfig({ providers: { a: { origin: u.origin, timeout_seconds: 0.3 } } }) })
    const res = await fetch(`${berry.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(ask),
      signal: AbortSignal.timeout(20_000)
    })
    t.equal(res.status, 504)
    t.equal((await res.json()).error.code, 'BERRY_ERR_UPSTREAM_TIMEOUT')
  })

  t.test('the stream idle timeout applies', async (t) => {
    const u = await upstream(t, (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write('data: {"choices":[{"delta":{"content":"c0"}}]}\n\n')
    })
    const berry = await startBerry(t, { config: gatewayConfig({ providers: { a: u.origin }, settings: { stream_idle_timeout_seconds: 0.3 } }) })
    const res = await berry.post('/v1/chat/completions', { ...ask, stream: true })
    t.match(await res.text(), /broke off: the upstream went silent/)
  })

  t.test('only string headers go upstream', async (t) => {
    const u = await upstream(t, json())
    const berry = await startBerry(t, { config: gatewayConfig({ providers: { a: u.origin } }) })
    await (await berry.post('/v1/chat/completions', ask)).arrayBuffer()
    // fetch sent more (accept-encoding, sec-fetch-mode, ...): berry's allow-list drops them.
    t.same(Object.keys(u.received[0]!.headers).sort(), ['accept', 'accept-language', 'authorization', 'connection', 'content-length', 'content-type', 'host', 'user-agent', 'x-request-id'])
    t.notMatch(JSON.stringify(u.received[0]!.headers), /\[object|Symbol|berry\.attempt/)
  })
})

t.test("the options http-proxy hands berry's handler on the first request serve every later one", async (t) => {
  // berry keeps them: they carry http-proxy's wrapper around berry's
  // rewriteHeaders and reply-from's hooks. Their getUpstream answers the
  // first request's origin, so berry passes its own on every attempt.
  const cookie = (body: string): Behaviour => (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': 'tracker=1' })
    res.end(JSON.stringify({ id: 'x', object: 'chat.completion', choices: [{ message: { content: body } }] }))
  }
  const a = await upstream(t, cookie('from a'))
  const b = await upstream(t, cookie('from b'))
  const berry = await startBerry(t, {
    config: gatewayConfig({ providers: { a: a.origin, b: b.origin }, settings: { circuit_breaker_failure_threshold: 5 } }),
    random: () => 0
  })
  const answers = []
  for (const backend of ['a', 'b', 'a', 'b']) {
    const res = await berry.post('/v1/chat/completions', { ...ask, backend })
    answers.push({ backend: res.headers.get('x-berry-backend'), cookie: res.headers.get('set-cookie'), content: (await res.json()).choices[0].message.content })
  }
  t.same(answers, [
    { backend: 'a', cookie: null, content: 'from a' },
    { backend: 'b', cookie: null, content: 'from b' },
    { backend: 'a', cookie: null, content: 'from a' },
    { backend: 'b', cookie: null, content: 'from b' }
  ], "each request reached its own backend's origin, through berry's response headers")

  // A later request's failover goes through the kept hooks too.
  a.behave(status(500))
  const res = await berry.post('/v1/chat/completions', ask)
  t.equal(res.headers.get('x-berry-backend'), 'b')
  t.equal(res.headers.get('x-berry-attempts'), '2')
  t.equal((await res.json()).choices[0].message.content, 'from b')
  const backends = (await (await berry.get('/admin/backends', ADMIN_TOKEN)).json()).models[0].backends
  t.match(backends[0], { provider: 'a', consecutive_failures: 1, last_error: 'HTTP 500' })
})
