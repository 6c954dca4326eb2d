/**
 * A body over `body_limit`: a 413 that every client can read, whether it
 * reads while uploading or only once its upload is done (lingering-close.ts).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { connect, type AddressInfo } from 'node:net'
import OpenAI from 'openai'
import t from 'tap'
import { DEFAULT_LINGER, lingerOnRefusedBody, type LingerLimits } from '../plugin/lingering-close.js'
import { startBerry, TOKEN } from './helpers/berry.js'
import { gatewayConfig } from './helpers/config.js'
import { json, startUpstream } from './helpers/fake-upstream.js'
import { uploadFirstRelay } from './helpers/upload-first-relay.js'

const LIMIT = 100_000

async function gateway (t: Parameters<typeof startBerry>[0]) {
  const u = await startUpstream(json())
  t.teardown(() => u.close())
  return startBerry(t, { config: gatewayConfig({ providers: { main: u.origin }, settings: { body_limit: LIMIT } }) })
}

/**
 * Sends a request head, then (after the server had time to answer) its body
 * in pieces, reading only what arrives; resolves with everything read, or
 * how the socket failed.
 */
function slowUpload (port: number, bodyBytes: number, then?: string): Promise<{ text: string, error: string | undefined, closed: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    let text = ''
    let error: string | undefined
    socket.on('data', (d: Buffer) => { text += d.toString('latin1') })
    socket.on('error', (err: NodeJS.ErrnoException) => { error = err.code })
    socket.on('close', () => resolve({ text, error, closed: true }))
    socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: berry\r\nauthorization: Bearer ${TOKEN}\r\ncontent-type: application/json\r\ncontent-length: ${bodyBytes}\r\n\r\n`)
    const piece = Buffer.alloc(64 * 1024, 'x')
    let sent = 0
    const pump = (): void => {
      while (sent < bodyBytes) {
        const n = Math.min(piece.length, bodyBytes - sent)
        sent += n
        if (!socket.write(piece.subarray(0, n))) {
          socket.once('drain', pump)
          return
        }
      }
      if (then === undefined) {
        // Give the server time to answer, then hang up ourselves.
        setTimeout(() => { resolve({ text, error, closed: false }); socket.destroy() }, 300)
        return
      }
      socket.write(then)
      setTimeout(() => { resolve({ text, error, closed: false }); socket.destroy() }, 300)
    }
    setTimeout(pump, 50)
  })
}

t.test('a client still uploading reads the whole 413, and the connection stays usable', async (t) => {
  const berry = await gateway(t)
  const port = Number(new URL(berry.url).port)
  const second = `GET /v1/models HTTP/1.1\r\nhost: berry\r\nauthorization: Bearer ${TOKEN}\r\n\r\n`
  const result = await slowUpload(port, 3_000_000, second)
  t.equal(result.error, undefined, 'no EPIPE or reset while uploading')
  t.match(result.text, /^HTTP\/1\.1 413 /)
  t.match(result.text, /"code":"FST_ERR_CTP_BODY_TOO_LARGE"/)
  t.notMatch(result.text, /connection: close/i)
  t.match(result.text, /HTTP\/1\.1 200 [^]*"object":"list"/, 'the same connection then served another request')
})

t.test('the official openai SDK reads the 413 over a link that drops unread bytes on a reset', async (t) => {
  const berry = await gateway(t)
  const port = await uploadFirstRelay(t, Number(new URL(berry.url).port))
  const client = new OpenAI({ apiKey: TOKEN, baseURL: `http://127.0.0.1:${port}/v1`, maxRetries: 0 })
  const error = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x'.repeat(2_000_000) }] }).then(() => undefined, (err: unknown) => err)
  t.ok(error instanceof OpenAI.APIError, 'an API error')
  t.notOk(error instanceof OpenAI.APIConnectionError, 'not a connection error')
  if (error instanceof OpenAI.APIError) {
    t.equal(error.status, 413)
    t.equal(error.code, 'FST_ERR_CTP_BODY_TOO_LARGE')
  }
})

t.test('a body declared larger than the cap is not read: the connection closes', async (t) => {
  const berry = await gateway(t)
  const port = Number(new URL(berry.url).port)
  const socket = connect(port, '127.0.0.1')
  let text = ''
  socket.on('data', (d: Buffer) => { text += d.toString('latin1') })
  socket.on('error', () => {})
  socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: berry\r\nauthorization: Bearer ${TOKEN}\r\ncontent-type: application/json\r\ncontent-length: ${DEFAULT_LINGER.maxBytes + 1}\r\n\r\n`)
  await new Promise((resolve) => socket.on('close', resolve))
  t.match(text, /^HTTP\/1\.1 413 [^]*connection: close/i)
})

/** A plain server that refuses every body as berry does, with small limits. */
async function refusing (t: Parameters<typeof startBerry>[0], limits: LingerLimits): Promise<number> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    res.setHeader('connection', 'close')
    lingerOnRefusedBody(req, () => res.removeHeader('connection'), limits)
    res.writeHead(413)
    res.end('too large')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.closeAllConnections(); server.close() })
  return (server.address() as AddressInfo).port
}

t.test('past the byte cap, the rest of the body is cut off', async (t) => {
  const port = await refusing(t, { maxBytes: 200_000, maxMs: 10_000 })
  const result = await slowUpload(port, 3_000_000)
  t.match(result.text, /^HTTP\/1\.1 413 /, 'the answer went out first')
  t.ok(result.closed, 'then the connection was closed')
})

t.test('past the deadline, a stalled body is cut off', async (t) => {
  const port = await refusing(t, { maxBytes: 10_000_000, maxMs: 200 })
  const socket = connect(port, '127.0.0.1')
  let text = ''
  socket.on('data', (d: Buffer) => { text += d.toString('latin1') })
  socket.on('error', () => {})
  socket.write('POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\nonly a part')
  const started = performance.now()
  await new Promise((resolve) => socket.on('close', resolve))
  t.match(text, /^HTTP\/1\.1 413 /)
  t.notMatch(text, /connection: close/i, 'the server meant to keep the connection')
  t.ok(performance.now() - started >= 150, 'closed by the deadline, not at once')
})
