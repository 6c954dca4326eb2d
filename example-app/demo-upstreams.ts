/**
 * Two tiny in-process OpenAI-compatible servers for the demo, so a first
 * curl works with no key and no network. They answer the way OpenAI's API
 * does, field for field, because real clients check: chat completions
 * (JSON, or SSE whose first delta carries the role and whose last choice
 * chunk carries `finish_reason`, with `created` on every chunk and the
 * usage chunk of `stream_options.include_usage`), legacy completions,
 * embeddings (floats or OpenAI's base64) and the model list.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** Milliseconds between two streamed words. */
const WORD_INTERVAL_MS = 50
const EMBEDDING_DIMENSIONS = 8

function words (text: string): string[] {
  return text.split(/\s+/).filter(Boolean)
}

/** The part of an OpenAI request the demo reads; anything may be missing or of the wrong type. */
interface DemoBody {
  model?: unknown
  prompt?: unknown
  input?: unknown
  stream?: unknown
  stream_options?: { include_usage?: unknown }
  messages?: unknown
  encoding_format?: unknown
}

function lastUserText (body: DemoBody): string {
  const messages: Array<{ role?: unknown, content?: unknown }> = Array.isArray(body.messages) ? body.messages : []
  const last = messages.filter((m) => m?.role === 'user').pop()
  if (typeof last?.content === 'string') return last.content
  // Content parts: the text ones, joined.
  if (Array.isArray(last?.content)) {
    return last.content.map((part: { type?: unknown, text?: unknown }) => part?.type === 'text' && typeof part.text === 'string' ? part.text : '').join(' ').trim()
  }
  return ''
}

function usageOf (prompt: string, reply: string) {
  const promptTokens = Math.max(1, words(prompt).length)
  const completionTokens = words(reply).length
  return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens }
}

/** A deterministic unit vector per text, so equal inputs embed equally. */
function embed (text: string): number[] {
  const vector = new Array<number>(EMBEDDING_DIMENSIONS).fill(0)
  for (let i = 0; i < text.length; i++) vector[i % EMBEDDING_DIMENSIONS]! += text.charCodeAt(i) % 31
  const norm = Math.hypot(...vector) || 1
  return vector.map((x) => x / norm)
}

function sendJson (res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}

/** Writes `events` as SSE, one every WORD_INTERVAL_MS, then `[DONE]`. */
function stream (res: ServerResponse, events: unknown[]): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
  let i = 0
  const timer = setInterval(() => {
    if (i < events.length) {
      res.write(`data: ${JSON.stringify(events[i++])}\n\n`)
      return
    }
    clearInterval(timer)
    res.end('data: [DONE]\n\n')
  }, WORD_INTERVAL_MS)
  res.on('close', () => clearInterval(timer))
}

let sequence = 0

function answer (name: string, url: string, body: DemoBody, res: ServerResponse): void {
  const model = typeof body.model === 'string' ? body.model : 'demo'
  const created = Math.floor(Date.now() / 1000)
  const id = `${name}-${++sequence}`
  const withUsage = body.stream_options?.include_usage === true
  const path = url.split('?', 1)[0]

  if (path === '/v1/embeddings') {
    const inputs = Array.isArray(body.input) ? body.input.map(String) : [String(body.input ?? '')]
    const base64 = body.encoding_format === 'base64'
    const data = inputs.map((text, index) => {
      const vector = embed(text)
      return { object: 'embedding', index, embedding: base64 ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector }
    })
    const tokens = inputs.reduce((n, text) => n + Math.max(1, words(text).length), 0)
    sendJson(res, 200, { object: 'list', model, data, usage: { prompt_tokens: tokens, total_tokens: tokens } })
    return
  }

  const legacy = path === '/v1/completions'
  const prompt = legacy ? String(body.prompt ?? '') : lastUserText(body)
  const reply = `Hello from ${name}! You said: ${prompt || '(nothing)'}`
  const usage = usageOf(prompt, reply)

  if (body.stream === true) {
    const object = legacy ? 'text_completion' : 'chat.completion.chunk'
    // OpenAI sends `"usage": null` on every chunk when usage was asked for.
    const chunk = (choices: unknown[]) => ({ id: legacy ? `cmpl-${id}` : `chatcmpl-${id}`, object, created, model, system_fingerprint: 'fp_berry_demo', choices, ...(withUsage ? { usage: null } : {}) })
    const events: unknown[] = []
    if (!legacy) events.push(chunk([{ index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }]))
    words(reply).forEach((word, i) => {
      const text = (i === 0 ? '' : ' ') + word
      events.push(chunk([legacy ? { index: 0, text, logprobs: null, finish_reason: null } : { index: 0, delta: { content: text }, logprobs: null, finish_reason: null }]))
    })
    events.push(chunk([legacy ? { index: 0, text: '', logprobs: null, finish_reason: 'stop' } : { index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }]))
    if (withUsage) events.push({ ...chunk([]), usage })
    stream(res, events)
    return
  }

  sendJson(res, 200, legacy
    ? { id: `cmpl-${id}`, object: 'text_completion', created, model, choices: [{ index: 0, text: reply, logprobs: null, finish_reason: 'stop' }], usage }
    : {
        id: `chatcmpl-${id}`,
        object: 'chat.completion',
        created,
        model,
        system_fingerprint: 'fp_berry_demo',
        choices: [{ index: 0, message: { role: 'assistant', content: reply, refusal: null }, logprobs: null, finish_reason: 'stop' }],
        usage
      })
}

export async function startDemoUpstream (name: string): Promise<{ origin: string, server: Server }> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const url = req.url ?? '/'
      if (req.method === 'GET' && url.startsWith('/v1/models')) {
        sendJson(res, 200, { object: 'list', data: [{ id: 'demo-model', object: 'model', created: 0, owned_by: name }] })
        return
      }
      let body: DemoBody = {}
      try {
        const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}')
        if (parsed !== null && typeof parsed === 'object') body = parsed
      } catch {
        sendJson(res, 400, { error: { message: 'The body is not valid JSON', type: 'invalid_request_error', param: null, code: null } })
        return
      }
      answer(name, url, body, res)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { origin: `http://127.0.0.1:${port}`, server }
}
