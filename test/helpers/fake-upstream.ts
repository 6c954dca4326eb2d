/**
 * A fake OpenAI-compatible upstream on a real socket (port 0), recording
 * what it received, with switchable behaviours: JSON answers, SSE streams
 * with delays, error statuses, hangs and resets.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Received {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: string
  json: any
}

export type Behaviour = (req: IncomingMessage, res: ServerResponse, received: Received) => void

export interface FakeUpstream {
  /** `http://127.0.0.1:PORT` */
  readonly origin: string
  readonly received: Received[]
  /** Requests whose client went away before the answer ended. */
  readonly aborted: Received[]
  behave (behaviour: Behaviour): void
  /** Resolves once `count` requests in all have arrived (whole bodies read). */
  requests (count: number): Promise<void>
  /** Resolves once `count` requests in all were abandoned by their client. */
  aborts (count: number): Promise<void>
  close (): Promise<void>
}

/** Promises that resolve when a growing list reaches a length. */
class Waiters {
  readonly #waiting: Array<{ count: number, resolve: () => void }> = []

  until (list: readonly unknown[], count: number): Promise<void> {
    if (list.length >= count) return Promise.resolve()
    return new Promise((resolve) => this.#waiting.push({ count, resolve }))
  }

  grew (list: readonly unknown[]): void {
    for (let i = this.#waiting.length - 1; i >= 0; i--) {
      const waiter = this.#waiting[i]!
      if (list.length >= waiter.count) {
        this.#waiting.splice(i, 1)
        waiter.resolve()
      }
    }
  }
}

export function completion (model: string, content = 'pong', usage = { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 }) {
  return {
    id: 'chatcmpl-test',
    object: 'chat.completion',
    created: 1,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage
  }
}

export const json = (content = 'pong', extra: Record<string, string> = {}): Behaviour => (_req, res, received) => {
  const body = JSON.stringify(completion(received.json?.model ?? 'unknown', content))
  res.writeHead(200, { 'content-type': 'application/json', ...extra })
  res.end(body)
}

export const status = (code: number, body: unknown = { error: { message: `upstream says ${code}`, type: 'server_error' } }, headers: Record<string, string> = {}): Behaviour => (_req, res) => {
  res.writeHead(code, { 'content-type': 'application/json', ...headers })
  res.end(JSON.stringify(body))
}

export function sseChunk (model: string, content: string): string {
  return `data: ${JSON.stringify({ id: 'chatcmpl-test', object: 'chat.completion.chunk', model, choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`
}

/** `chunks` content events `delayMs` apart, then (unless `cutAfter`) [DONE]. */
export const sse = (options: { chunks?: number, delayMs?: number, cutAfter?: number, usage?: boolean } = {}): Behaviour => (_req, res, received) => {
  const { chunks = 3, delayMs = 0 } = options
  const model = received.json?.model ?? 'unknown'
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
  let sent = 0
  const tick = (): void => {
    if (res.destroyed) return
    if (options.cutAfter !== undefined && sent >= options.cutAfter) {
      res.socket?.destroy()
      return
    }
    if (sent < chunks) {
      res.write(sseChunk(model, `c${sent}`))
      sent++
      setTimeout(tick, delayMs)
      return
    }
    if (options.usage === true) {
      res.write(`data: ${JSON.stringify({ id: 'chatcmpl-test', object: 'chat.completion.chunk', model, choices: [], usage: { prompt_tokens: 7, completion_tokens: chunks, total_tokens: 7 + chunks } })}\n\n`)
    }
    res.end('data: [DONE]\n\n')
  }
  tick()
}

/** Never answers (the socket stays open until the client gives up). */
export const hang = (): Behaviour => () => {}

/** Destroys the connection without a response. */
export const reset = (): Behaviour => (req) => { req.socket.destroy() }

export async function startUpstream (behaviour: Behaviour = json()): Promise<FakeUpstream> {
  let current = behaviour
  const received: Received[] = []
  const aborted: Received[] = []
  const onRequest = new Waiters()
  const onAbort = new Waiters()
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      let parsed: unknown
      try { parsed = body === '' ? undefined : JSON.parse(body) } catch { parsed = undefined }
      const entry: Received = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, json: parsed }
      received.push(entry)
      onRequest.grew(received)
      res.on('close', () => {
        if (res.writableFinished) return
        aborted.push(entry)
        onAbort.grew(aborted)
      })
      current(req, res, entry)
    })
  })
  server.keepAliveTimeout = 60_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    origin: `http://127.0.0.1:${port}`,
    received,
    aborted,
    behave (next) { current = next },
    requests: (count) => onRequest.until(received, count),
    aborts: (count) => onAbort.until(aborted, count),
    async close () {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}

/** An origin where nothing listens: connections are refused. */
export async function deadOrigin (): Promise<string> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return `http://127.0.0.1:${port}`
}
