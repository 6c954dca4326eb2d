// A fast fake OpenAI origin for the benchmarks: node:http, no framework.
//
//   node benchmarks/origin.mjs [--port=0] [--chunks=20] [--delay=0]
//   node benchmarks/origin.mjs --cert=FILE --key=FILE   (TLS: HTTP/2 and HTTP/1.1 by ALPN)
//
// POST /v1/chat/completions and /v1/completions answer a small
// chat.completion JSON document, or, when the body has `"stream": true`, an
// SSE stream of `--chunks` chunk events `--delay` ms apart and `[DONE]`.
// POST /v1/messages answers as Anthropic's Messages API does: a message, or
// its event stream with `--chunks` text deltas (message_start and
// content_block_start in the first write, the closing three events in the
// last, as Anthropic's own streams arrive).
// A request body may override both with `bench_chunks` / `bench_delay_ms`
// (berry and the bare proxy pass the body through), so one origin serves
// every scenario. With `--cert`/`--key` it is node:http2's secure server,
// answering HTTP/2 and HTTP/1.1 over TLS alike (the big providers' APIs
// speak both). Prints one JSON line `{"port": N}` once listening.
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { createSecureServer } from 'node:http2'
import { parseArgs } from './lib/args.mjs'

const args = parseArgs(process.argv.slice(2))
const port = Number(args.port ?? 0)
const defaultChunks = Number(args.chunks ?? 20)
const defaultDelay = Number(args.delay ?? 0)

// Serialised once: the origin must be cheap next to what it is measuring.
const completion = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1700000000,
  model: 'bench-model',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from the benchmark origin.' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 9, completion_tokens: 7, total_tokens: 16 }
})
const chunkEvent = (i) => `data: ${JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion.chunk',
  created: 1700000000,
  model: 'bench-model',
  choices: [{ index: 0, delta: { content: `token${i} ` }, finish_reason: null }]
})}\n\n`
const anthropicEvent = (type, data) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`
const message = JSON.stringify({
  id: 'msg_bench',
  type: 'message',
  role: 'assistant',
  model: 'claude-bench',
  content: [{ type: 'text', text: 'Hello from the benchmark origin.' }],
  stop_reason: 'end_turn',
  stop_sequence: null,
  usage: { input_tokens: 9, output_tokens: 7 }
})
const anthropicStart = anthropicEvent('message_start', {
  message: { id: 'msg_bench', type: 'message', role: 'assistant', model: 'claude-bench', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 9, output_tokens: 1 } }
}) + anthropicEvent('content_block_start', { index: 0, content_block: { type: 'text', text: '' } })
const anthropicEnd = (chunks) => anthropicEvent('content_block_stop', { index: 0 }) +
  anthropicEvent('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: chunks } }) +
  anthropicEvent('message_stop', {})
const anthropicDeltas = []
for (let i = 0; i < 64; i++) anthropicDeltas.push(anthropicEvent('content_block_delta', { index: 0, delta: { type: 'text_delta', text: `token${i} ` } }))
const chunkCache = []
for (let i = 0; i < 64; i++) chunkCache.push(chunkEvent(i))
const DONE = 'data: [DONE]\n\n'

/** What each API's stream writes: an opening write (if any), one write per token, the closing write. */
const OPENAI_STREAM = { head: undefined, tokens: chunkCache, tail: () => DONE }
const ANTHROPIC_STREAM = { head: anthropicStart, tokens: anthropicDeltas, tail: anthropicEnd }

function sendJson (res, text) {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

function sendStream (res, chunks, delay, shape) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
  let i = 0
  let timer
  let closed = false
  res.once('close', () => {
    closed = true
    clearTimeout(timer)
  })
  const next = () => {
    if (closed) return
    if (i >= chunks) {
      res.end(shape.tail(chunks))
      return
    }
    res.write(shape.tokens[i % shape.tokens.length])
    i++
    // delay 0 still yields between chunks so each one is its own write, as
    // a real token stream would be.
    if (delay > 0) timer = setTimeout(next, delay)
    else setImmediate(next)
  }
  if (shape.head !== undefined) res.write(shape.head)
  next()
}

function handle (req, res) {
  if (req.method !== 'POST') {
    res.writeHead(req.url === '/health' ? 200 : 404, { 'content-type': 'application/json', 'content-length': 2 })
    res.end('{}')
    return
  }
  const parts = []
  req.on('data', (c) => parts.push(c))
  req.on('end', () => {
    let body
    try {
      body = JSON.parse(Buffer.concat(parts).toString('utf8'))
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' })
      res.end('{"error":{"message":"bad json"}}')
      return
    }
    const anthropic = req.url === '/v1/messages'
    if (body.stream === true) sendStream(res, Number(body.bench_chunks ?? defaultChunks), Number(body.bench_delay_ms ?? defaultDelay), anthropic ? ANTHROPIC_STREAM : OPENAI_STREAM)
    else sendJson(res, anthropic ? message : completion)
  })
}

const server = typeof args.cert === 'string'
  ? createSecureServer({ cert: readFileSync(args.cert), key: readFileSync(args.key), allowHTTP1: true }, handle)
  : createServer({ keepAliveTimeout: 60_000 }, handle)
server.keepAliveTimeout = 60_000
server.headersTimeout = 65_000

// A deep accept queue: the many-streams scenario opens thousands of connections at once.
server.listen({ port, host: '127.0.0.1', backlog: 4096 }, () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n')
})
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => { server.closeAllConnections?.(); server.close(() => process.exit(0)); setTimeout(() => process.exit(0), 1000).unref() })
