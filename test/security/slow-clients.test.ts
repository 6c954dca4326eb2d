/**
 * Attack class: slow clients (slow-loris) and idle connections.
 *
 * The timeouts belong to the host server; example-app/server-options.ts sets
 * them deliberately and these tests run berry on a server built with the
 * same function (its limits shortened so the suite stays fast). A client
 * that trickles its headers or its body gets an OpenAI-shaped 408 and loses
 * its socket; a long streamed answer is not cut by the request timeouts.
 */
import t from 'tap'
import { connect, type Socket } from 'node:net'
import { DEFAULT_SERVER_LIMITS, serverOptions } from '../../example-app/server-options.js'
import { sse } from '../helpers/fake-upstream.js'
import { parseJson, secConfig, startHardened, tally, TOKENS } from '../helpers/security.js'
import { startUpstream, json } from '../helpers/fake-upstream.js'

const LIMITS = { headersTimeoutMs: 400, requestTimeoutMs: 800, keepAliveTimeoutMs: 300, connectionTimeoutMs: 30_000, checkIntervalMs: 100 }

async function setup (t: { teardown (fn: () => unknown): void }) {
  const openai = await startUpstream(json())
  t.teardown(() => openai.close())
  const berry = await startHardened(t, { config: secConfig({ openai: openai.origin, claude: openai.origin, azure: openai.origin }) }, 'info', LIMITS)
  return { openai, berry }
}

/** Opens a socket and resolves with what the server sent once it closes it (or after `capMs`). */
function hold (url: string, drip: (socket: Socket) => void, capMs = 10_000): Promise<{ closedByServer: boolean, text: string }> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) })
    const chunks: Buffer[] = []
    const cap = setTimeout(() => { socket.destroy(); done(false) }, capMs)
    let finished = false
    const done = (closedByServer: boolean): void => {
      if (finished) return
      finished = true
      clearTimeout(cap)
      resolve({ closedByServer, text: Buffer.concat(chunks).toString('utf8') })
    }
    socket.on('connect', () => drip(socket))
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('close', () => done(true))
    socket.on('error', () => done(true))
  })
}

/** Writes `parts` one by one, `everyMs` apart, while the socket lives. */
function trickle (socket: Socket, parts: string[], everyMs: number): void {
  let i = 0
  const timer = setInterval(() => {
    if (socket.destroyed || i >= parts.length) { clearInterval(timer); return }
    socket.write(parts[i++]!)
  }, everyMs)
  socket.once('close', () => clearInterval(timer))
}

function bodyOf (text: string): unknown {
  return parseJson(text.slice(text.indexOf('\r\n\r\n') + 4))
}

t.test('the recommended limits are set deliberately', async (t) => {
  t.same(DEFAULT_SERVER_LIMITS, { headersTimeoutMs: 15_000, requestTimeoutMs: 60_000, keepAliveTimeoutMs: 30_000, connectionTimeoutMs: 600_000, checkIntervalMs: 5_000, maxHeaderSize: 16_384 })
  const options = serverOptions()
  t.equal(options.requestTimeout, 60_000, 'Fastify\'s default 0 (no limit) is replaced')
  t.equal(options.connectionTimeout, 600_000, 'Fastify\'s default 0 (no limit) is replaced')
  t.equal(options.keepAliveTimeout, 30_000)
  t.match(options.http, { headersTimeout: 15_000, maxHeaderSize: 16_384, connectionsCheckingInterval: 5_000, insecureHTTPParser: false })
  t.equal(options.requestIdHeader, false)
  t.equal(options.trustProxy, false)
  // And they reach the running server.
  const { berry } = await setup(t)
  const server = berry.app.server
  t.equal(server.headersTimeout, LIMITS.headersTimeoutMs)
  t.equal(server.requestTimeout, LIMITS.requestTimeoutMs)
  t.equal(server.keepAliveTimeout, LIMITS.keepAliveTimeoutMs)
  t.equal(server.timeout, LIMITS.connectionTimeoutMs)
})

t.test('slow headers: 408 in OpenAI shape, socket closed, nothing upstream', async (t) => {
  const { berry, openai } = await setup(t)
  const head = `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKENS.bob}\r\n`
  const drips = Array.from({ length: 200 }, (_, i) => `X-Slow-${i}: 1\r\n`)
  const result = await hold(berry.url, (socket) => { socket.write(head); trickle(socket, drips, 50) })
  t.ok(result.closedByServer, 'the server closed the socket')
  t.match(result.text, /^HTTP\/1\.1 408 /)
  t.same(bodyOf(result.text), { error: { message: 'The request was not received in time', type: 'invalid_request_error', code: 'BERRY_ERR_REQUEST_TIMEOUT' } })
  t.equal(openai.received.length, 0)
  tally('slow: headers', 1)
})

t.test('a connection that never sends a byte is closed', async (t) => {
  const { berry } = await setup(t)
  const result = await hold(berry.url, () => {})
  t.ok(result.closedByServer, 'the server closed the idle socket')
  tally('slow: silent connection', 1)
})

t.test('slow body: 408 in OpenAI shape, socket closed, nothing upstream', async (t) => {
  const { berry, openai } = await setup(t)
  const body = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x'.repeat(400) }] })
  const head = `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKENS.bob}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`
  const result = await hold(berry.url, (socket) => { socket.write(head); trickle(socket, body.match(/.{1,4}/g) ?? [], 50) })
  t.ok(result.closedByServer)
  t.match(result.text, /^HTTP\/1\.1 408 /)
  t.equal((bodyOf(result.text) as { error: { code: string } }).error.code, 'BERRY_ERR_REQUEST_TIMEOUT')
  t.equal(openai.received.length, 0)
  tally('slow: body', 1)
})

t.test('an idle keep-alive connection is closed after keepAliveTimeout', async (t) => {
  const { berry, openai } = await setup(t)
  const body = JSON.stringify({ model: 'gpt-4o', messages: [] })
  const request = `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKENS.bob}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`
  const result = await hold(berry.url, (socket) => socket.write(request))
  t.ok(result.closedByServer)
  t.match(result.text, /^HTTP\/1\.1 200 /, 'the request itself was served')
  t.equal(openai.received.length, 1)
  tally('slow: idle keep-alive', 1)
})

t.test('a streamed answer longer than the request timeouts is not cut', async (t) => {
  const { berry, openai } = await setup(t)
  openai.behave(sse({ chunks: 6, delayMs: 200 }))
  const res = await berry.post('/v1/chat/completions', { model: 'gpt-4o', messages: [], stream: true }, TOKENS.bob)
  t.equal(res.status, 200)
  const text = await res.text()
  t.equal(text.match(/^data: \{/gm)?.length, 6, 'all 6 chunks over ~1.2 s, beyond requestTimeout')
  t.ok(text.endsWith('data: [DONE]\n\n'))
})
