/**
 * Two tiny in-process OpenAI-compatible servers for the demo: they answer
 * chat completions (JSON, or SSE when `stream: true`), completions,
 * embeddings and /v1/models, so a first curl works with no key and no network.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

function words (text: string): string[] {
  return text.split(/\s+/).filter(Boolean)
}

/** The part of an OpenAI request the demo reads; anything may be missing. */
interface DemoBody {
  model?: unknown
  prompt?: unknown
  stream?: unknown
  stream_options?: { include_usage?: unknown }
  messages?: unknown
}

function lastUserText (body: DemoBody): string {
  const messages: Array<{ role?: unknown, content?: unknown }> = Array.isArray(body.messages) ? body.messages : []
  const last = messages.filter((m) => m?.role === 'user').pop()
  return typeof last?.content === 'string' ? last.content : ''
}

export async function startDemoUpstream (name: string): Promise<{ origin: string, server: Server }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      let body: DemoBody = {}
      try {
        const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}')
        if (parsed !== null && typeof parsed === 'object') body = parsed as DemoBody
      } catch {}
      const model = typeof body.model === 'string' ? body.model : 'demo'
      const url = req.url ?? '/'
      if (req.method === 'GET' && url.startsWith('/v1/models')) {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ object: 'list', data: [{ id: model, object: 'model', owned_by: name }] }))
        return
      }
      if (url.startsWith('/v1/embeddings')) {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ object: 'list', model, data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2, 0.3] }], usage: { prompt_tokens: 1, total_tokens: 1 } }))
        return
      }
      const prompt = lastUserText(body) || String(body.prompt ?? '')
      const reply = `Hello from ${name}! You said: ${prompt || '(nothing)'}`
      const usage = { prompt_tokens: words(prompt).length, completion_tokens: words(reply).length, total_tokens: words(prompt).length + words(reply).length }
      if (body.stream === true) {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
        const parts = words(reply)
        let i = 0
        const timer = setInterval(() => {
          if (i < parts.length) {
            res.write(`data: ${JSON.stringify({ id: 'chatcmpl-demo', object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model, choices: [{ index: 0, delta: { content: (i ? ' ' : '') + parts[i] }, finish_reason: null }] })}\n\n`)
            i++
            return
          }
          clearInterval(timer)
          if (body.stream_options?.include_usage === true) {
            res.write(`data: ${JSON.stringify({ id: 'chatcmpl-demo', object: 'chat.completion.chunk', model, choices: [], usage })}\n\n`)
          }
          res.end('data: [DONE]\n\n')
        }, 50)
        res.on('close', () => clearInterval(timer))
        return
      }
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({
        id: 'chatcmpl-demo',
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model,
        choices: [{ index: 0, message: { role: 'assistant', content: reply }, finish_reason: 'stop' }],
        usage
      }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { origin: `http://127.0.0.1:${port}`, server }
}
