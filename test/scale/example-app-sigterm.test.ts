/**
 * The example app on SIGTERM, as a process manager or Kubernetes sends it:
 * /health turns 503 so balancers drain it, new requests are refused in a
 * way a balancer retries elsewhere, streams in flight finish (or, past
 * `shutdown_grace_seconds`, end with berry's error event), and the process
 * exits 0.
 */
import t, { type Test } from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { TOKEN } from '../helpers/berry.js'
import { startInstance, type Instance } from '../helpers/nginx-cluster.js'
import { gatewayConfig, type TomlValue } from '../helpers/config.js'
import { sse, startUpstream } from '../helpers/fake-upstream.js'

const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }
const streamBody = JSON.stringify({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hi' }] })

async function start (t: Test, chunks: number, settings: Record<string, TomlValue> = {}): Promise<Instance> {
  const upstream = await startUpstream(sse({ chunks, delayMs: 100 }))
  t.teardown(() => upstream.close())
  const configFile = join(t.testdir(), 'berry.toml')
  writeFileSync(configFile, gatewayConfig({ providers: { a: upstream.origin }, settings }))
  return startInstance(t, { configFile })
}

/** Opens a stream and reads until its first chunk: it is in flight. */
async function openStream (app: Instance): Promise<{ rest: () => Promise<string>, first: string }> {
  const res = await fetch(`${app.url}/v1/chat/completions`, { method: 'POST', headers, body: streamBody })
  if (res.body === null) throw new Error('no body')
  const reader = res.body.getReader()
  const decoder = new TextDecoder()
  const first = await reader.read()
  return {
    first: decoder.decode(first.value),
    async rest () {
      let text = ''
      for (;;) {
        const { done, value } = await reader.read()
        if (done) return text
        text += decoder.decode(value, { stream: true })
      }
    }
  }
}

t.test('SIGTERM: /health says draining, new requests get 503 with Connection: close, the stream in flight finishes, exit 0', async (t) => {
  const app = await start(t, 10)
  const stream = await openStream(app)
  t.match(stream.first, /^data: /)
  app.child.kill('SIGTERM')
  await app.printed(/closing, waiting up to 30s for 1 proxied requests in flight/)

  const health = await fetch(`${app.url}/health`)
  t.equal(health.status, 503, 'a balancer checking /health stops sending traffic')
  t.equal((await health.json()).status, 'draining')

  const refused = await fetch(`${app.url}/v1/chat/completions`, { method: 'POST', headers, body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'late' }] }) })
  t.equal(refused.status, 503)
  t.equal(refused.headers.get('retry-after'), '1')
  t.equal(refused.headers.get('connection'), 'close', 'a keep-alive client (or balancer) does not come back on this connection')
  t.same((await refused.json()).error, { message: 'The gateway is shutting down; retry the request', type: 'service_unavailable', code: 'BERRY_ERR_SHUTTING_DOWN' })

  const text = stream.first + await stream.rest()
  t.equal(text.match(/"content":"c\d+"/g)?.length, 10, 'every chunk arrived')
  t.match(text, /data: \[DONE\]\n\n$/)
  t.same(await app.exited, { code: 0, signal: null })
  t.match(app.output(), /every request in flight finished within \d+ ms/)
})

t.test('SIGTERM past shutdown_grace_seconds: the stream ends with the error event, no [DONE], exit 0', async (t) => {
  const app = await start(t, 100, { shutdown_grace_seconds: 0.3 })
  const stream = await openStream(app)
  app.child.kill('SIGTERM')
  const text = stream.first + await stream.rest()
  t.notMatch(text, /\[DONE\]/, 'a cut stream never looks complete')
  const last = text.trim().split('\n\n').at(-1) ?? ''
  t.same(JSON.parse(last.replace(/^data: /, '')), {
    error: {
      message: "The stream from backend 'a' broke off: the gateway is shutting down",
      type: 'upstream_error',
      code: 'BERRY_ERR_STREAM_INTERRUPTED'
    }
  })
  t.same(await app.exited, { code: 0, signal: null })
  t.match(app.output(), /shutdown grace of 0\.3s over, ending 1 of 1 requests still in flight/)
  t.match(app.output(), /"body_error":"the gateway is shutting down"/)
})
