/**
 * `upstream_http2 = true`: berry offers HTTP/2 to https upstreams (ALPN).
 * A server that takes it carries many streams on one connection, where
 * HTTP/1.1 needs a connection per open stream; a server that keeps to
 * HTTP/1.1 still gets one request per connection at a time (never
 * pipelined). Without the setting berry speaks HTTP/1.1 only.
 */
import t, { type Test } from 'tap'
import { readFileSync } from 'node:fs'
import { createServer as createHttpsServer } from 'node:https'
import type { IncomingMessage } from 'node:http'
import { createSecureServer, type Http2ServerRequest } from 'node:http2'
import type { AddressInfo } from 'node:net'
import { startBerry } from '../helpers/berry.js'
import { gatewayConfig, type TomlValue } from '../helpers/config.js'
import { sseChunk } from '../helpers/fake-upstream.js'
import { selfSignedCert, type CertFiles } from '../helpers/self-signed.js'

/** What an upstream saw: its connections, and the most requests open at once on any one of them. */
interface Seen {
  origin: string
  connections: number
  versions: Set<string>
  /** Requests open now, by connection. */
  open: Map<unknown, number>
  mostOnOneConnection: number
  requests: number
  /** Requests are answered once this many are open (or after 2 s). */
  batch: number
}

/** What the handler needs of an HTTP/1.1 or HTTP/2 response. */
interface Answer {
  writeHead (status: number, headers: Record<string, string>): unknown
  write (chunk: string): unknown
  end (chunk: string): unknown
}

function seen (): Seen {
  return { origin: '', connections: 0, versions: new Set(), open: new Map(), mostOnOneConnection: 0, requests: 0, batch: 1 }
}

/**
 * Answers each request once `batch` requests are open (or after 2 s), with
 * a 3-chunk SSE stream: the requests must all be open at once to be
 * answered quickly.
 */
function handler (state: Seen) {
  const waiting: Array<() => void> = []
  return (req: Http2ServerRequest | IncomingMessage, res: Answer, connection: unknown) => {
    state.requests++
    state.versions.add(req.httpVersion)
    const open = (state.open.get(connection) ?? 0) + 1
    state.open.set(connection, open)
    state.mostOnOneConnection = Math.max(state.mostOnOneConnection, open)
    req.resume()
    let answered = false
    const answer = (): void => {
      if (answered) return
      answered = true
      clearTimeout(timer)
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      for (let i = 0; i < 3; i++) res.write(sseChunk('m', `c${i}`))
      res.end('data: [DONE]\n\n')
      state.open.set(connection, (state.open.get(connection) ?? 1) - 1)
    }
    const timer = setTimeout(answer, 2000)
    waiting.push(answer)
    if (waiting.length >= state.batch) for (const go of waiting.splice(0)) go()
  }
}

async function h2Upstream (t: Test, files: CertFiles, batch: number): Promise<Seen> {
  const state = seen()
  state.batch = batch
  const answer = handler(state)
  const server = createSecureServer({ cert: readFileSync(files.cert), key: readFileSync(files.key), allowHTTP1: true }, (req, res) => {
    answer(req, res, req.httpVersion === '2.0' ? req.stream.session : req.socket)
  })
  server.on('secureConnection', () => { state.connections++ })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  state.origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
  return state
}

async function h1Upstream (t: Test, files: CertFiles, batch: number): Promise<Seen> {
  const state = seen()
  state.batch = batch
  const answer = handler(state)
  const server = createHttpsServer({ cert: readFileSync(files.cert), key: readFileSync(files.key) }, (req, res) => { answer(req, res, req.socket) })
  server.on('secureConnection', () => { state.connections++ })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
  state.origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
  return state
}

async function streams (t: Test, origin: string, ca: string, count: number, settings: Record<string, TomlValue>): Promise<string[]> {
  const berry = await startBerry(t, { config: gatewayConfig({ providers: { a: { origin, ca_file: ca } }, settings }) })
  const body = { model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hi' }] }
  return Promise.all(Array.from({ length: count }, async () => {
    const res = await berry.post('/v1/chat/completions', body)
    return `${res.status} ${await res.text()}`
  }))
}

t.test('over HTTP/2, 40 streams share one connection', async (t) => {
  const files = selfSignedCert(t.testdir())
  const up = await h2Upstream(t, files, 40)
  const answers = await streams(t, up.origin, files.cert, 40, { upstream_http2: true, connections_per_origin: 1 })
  for (const answer of answers) t.match(answer, /^200 data: .*"c0".*"c1".*"c2".*data: \[DONE\]\n\n$/s)
  t.same([...up.versions], ['2.0'])
  t.equal(up.connections, 1)
  t.equal(up.mostOnOneConnection, 40, 'every stream open at once on the one connection')
})

t.test('a burst to an origin known to speak h2 waits for a few connections instead of opening one per request', async (t) => {
  const files = selfSignedCert(t.testdir())
  const up = await h2Upstream(t, files, 1)
  const berry = await startBerry(t, { config: gatewayConfig({ providers: { a: { origin: up.origin, ca_file: files.cert } }, settings: { upstream_http2: true, connections_per_origin: 50 } }) })
  const body = { model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hi' }] }
  const first = await berry.post('/v1/chat/completions', body)
  t.match(await first.text(), /\[DONE\]/)
  up.batch = 150
  const burst = await Promise.all(Array.from({ length: 150 }, async () => {
    const res = await berry.post('/v1/chat/completions', body)
    return `${res.status} ${await res.text()}`
  }))
  for (const answer of burst) t.match(answer, /^200 .*data: \[DONE\]\n\n$/s)
  t.ok(up.connections <= 5, `${up.connections} connections for 151 streams (one per request would be 50, the cap)`)
})

t.test('a server that keeps to HTTP/1.1 gets one request per connection at a time', async (t) => {
  const files = selfSignedCert(t.testdir())
  const up = await h1Upstream(t, files, 6)
  const answers = await streams(t, up.origin, files.cert, 6, { upstream_http2: true, connections_per_origin: 6 })
  for (const answer of answers) t.match(answer, /^200 .*data: \[DONE\]\n\n$/s)
  t.same([...up.versions], ['1.1'])
  t.equal(up.mostOnOneConnection, 1, 'never pipelined')
  t.equal(up.connections, 6)
})

t.test('without upstream_http2, berry speaks HTTP/1.1 to a server that offers h2', async (t) => {
  const files = selfSignedCert(t.testdir())
  const up = await h2Upstream(t, files, 3)
  const answers = await streams(t, up.origin, files.cert, 3, { connections_per_origin: 3 })
  for (const answer of answers) t.match(answer, /^200 /)
  t.same([...up.versions], ['1.1'])
  t.equal(up.mostOnOneConnection, 1)
})
