/**
 * A fake Anthropic Messages API on a real socket (port 0). It checks a
 * request as the API does (the key, `anthropic-version`, the required
 * fields, no field the version does not have: 2026-10-21 refuses
 * `temperature`), records what it received, and answers with the documented
 * shapes: whole messages, event streams (text, a tool call in partial JSON
 * pieces, thinking, `ping`), an `error` event mid-stream or as the first
 * event after a 200, and 4xx/5xx error bodies.
 *
 * test/protocols/fakes.test.ts checks it against the official SDK.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Received {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: string
  json: unknown
}

export type Behaviour = (res: ServerResponse, received: Received) => void

export interface FakeServer {
  /** `http://127.0.0.1:PORT` */
  readonly origin: string
  readonly received: Received[]
  behave (behaviour: Behaviour): void
  close (): Promise<void>
}

export const ANTHROPIC_KEY = 'sk-ant-fake-key-0123456789'

/** A server that hands each request, read whole, to `handle`. */
export async function listen (handle: (res: ServerResponse, received: Received) => void): Promise<{ origin: string, close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      let json: unknown
      try { json = body === '' ? undefined : JSON.parse(body) } catch { json = undefined }
      handle(res, { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, json })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    origin: `http://127.0.0.1:${port}`,
    async close () {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}

function record (value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value as Record<string, unknown> : {}
}

export function errorBody (type: string, message: string): object {
  return { type: 'error', error: { type, message }, request_id: 'req_fake_0001' }
}

function sendError (res: ServerResponse, status: number, type: string, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': 'req_fake_0001', ...headers })
  res.end(JSON.stringify(errorBody(type, message)))
}

/** Top-level fields of API version 2026-10-21 (the SDK's MessageCreateParamsBase). */
const FIELDS = new Set(['max_tokens', 'messages', 'model', 'cache_control', 'container', 'diagnostics', 'inference_geo', 'metadata', 'output_config', 'service_tier', 'speed', 'stop_sequences', 'stream', 'system', 'thinking', 'tool_choice', 'tools', 'user_profile_id', 'workspace_id'])
const SAMPLING = ['temperature', 'top_p', 'top_k']

/** What the API refuses before any answer, or undefined for a request it takes. */
function refusal (received: Received, key: string): { status: number, type: string, message: string } | undefined {
  const path = received.url.split('?')[0]
  if (received.method !== 'POST' || (path !== '/v1/messages' && path !== '/v1/messages/count_tokens')) return { status: 404, type: 'not_found_error', message: `Not found: ${received.method} ${received.url}` }
  const bearer = received.headers.authorization
  const given = received.headers['x-api-key'] ?? (typeof bearer === 'string' && bearer.startsWith('Bearer ') ? bearer.slice(7) : undefined)
  if (given !== key) return { status: 401, type: 'authentication_error', message: 'invalid x-api-key' }
  const version = received.headers['anthropic-version']
  if (typeof version !== 'string') return { status: 400, type: 'invalid_request_error', message: 'anthropic-version: header is required' }
  const body = record(received.json)
  if (received.json === undefined) return { status: 400, type: 'invalid_request_error', message: 'There was an issue with the JSON body' }
  for (const field of Object.keys(body)) {
    if (FIELDS.has(field) || (version === '2023-06-01' && SAMPLING.includes(field))) continue
    return { status: 400, type: 'invalid_request_error', message: `${field}: Extra inputs are not permitted` }
  }
  if (typeof body.model !== 'string') return { status: 400, type: 'invalid_request_error', message: 'model: Field required' }
  if (path === '/v1/messages' && typeof body.max_tokens !== 'number') return { status: 400, type: 'invalid_request_error', message: 'max_tokens: Field required' }
  if (!Array.isArray(body.messages) || body.messages.length === 0) return { status: 400, type: 'invalid_request_error', message: 'messages: at least one message is required' }
  for (const [i, raw] of body.messages.entries()) {
    const message = record(raw)
    if (message.role !== 'user' && message.role !== 'assistant' && message.role !== 'system') return { status: 400, type: 'invalid_request_error', message: `messages.${i}.role: Input should be 'user', 'assistant' or 'system'` }
    const content = message.content
    if (content === '' || (Array.isArray(content) && content.length === 0)) return { status: 400, type: 'invalid_request_error', message: `messages.${i}: all messages must have non-empty content` }
    if (typeof content !== 'string' && !Array.isArray(content)) return { status: 400, type: 'invalid_request_error', message: `messages.${i}.content: Input should be a valid list` }
  }
  return undefined
}

export interface Usage {
  input_tokens: number
  output_tokens: number
  cache_read_input_tokens?: number
  cache_creation_input_tokens?: number
}

function fullUsage (usage: Usage): object {
  return {
    input_tokens: usage.input_tokens,
    output_tokens: usage.output_tokens,
    cache_read_input_tokens: usage.cache_read_input_tokens ?? 0,
    cache_creation_input_tokens: usage.cache_creation_input_tokens ?? 0,
    cache_creation: null,
    inference_geo: null,
    output_tokens_details: null,
    server_tool_use: null,
    service_tier: 'standard',
    speed: null
  }
}

function modelOf (received: Received): string {
  const model = record(received.json).model
  return typeof model === 'string' ? model : 'claude-unknown'
}

function message (model: string, content: object[], stopReason: string | null, usage: Usage): object {
  return {
    id: 'msg_fake_01',
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    stop_details: null,
    container: null,
    diagnostics: null,
    usage: fullUsage(usage)
  }
}

/** A whole message (non-streaming answer). */
export const answer = (options: { content?: object[], stopReason?: string, usage?: Usage } = {}): Behaviour => (res, received) => {
  const content = options.content ?? [{ type: 'text', text: 'pong', citations: null }]
  res.writeHead(200, { 'content-type': 'application/json', 'request-id': 'req_fake_0001' })
  res.end(JSON.stringify(message(modelOf(received), content, options.stopReason ?? 'end_turn', options.usage ?? { input_tokens: 12, output_tokens: 3 })))
}

export function event (type: string, data: object): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`
}

function openStream (res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'request-id': 'req_fake_0001' })
}

export interface StreamPlan {
  /** Events after message_start and before message_delta. */
  blocks: string[]
  stopReason?: string
  usage?: Usage
  /** Written instead of the rest, after this many block events: an `error` event. */
  errorAfter?: number
  errorType?: string
}

/** The events of a streamed message, written one write() each. */
export function streamEvents (model: string, plan: StreamPlan): string[] {
  const usage = plan.usage ?? { input_tokens: 12, output_tokens: 1 }
  const events = [event('message_start', { message: message(model, [], null, { ...usage, output_tokens: 1 }) })]
  const blocks = plan.errorAfter === undefined ? plan.blocks : plan.blocks.slice(0, plan.errorAfter)
  events.push(...blocks)
  if (plan.errorAfter !== undefined) {
    events.push(event('error', { error: { type: plan.errorType ?? 'overloaded_error', message: 'Overloaded' } }))
    return events
  }
  events.push(event('message_delta', {
    delta: { stop_reason: plan.stopReason ?? 'end_turn', stop_sequence: null, stop_details: null, container: null },
    usage: { output_tokens: usage.output_tokens, input_tokens: null, cache_read_input_tokens: null, cache_creation_input_tokens: null, output_tokens_details: null, server_tool_use: null }
  }))
  events.push(event('message_stop', {}))
  return events
}

export function textBlock (index: number, pieces: string[], ping = true): string[] {
  return [
    event('content_block_start', { index, content_block: { type: 'text', text: '', citations: null } }),
    ...(ping ? [event('ping', {})] : []),
    ...pieces.map((text) => event('content_block_delta', { index, delta: { type: 'text_delta', text } })),
    event('content_block_stop', { index })
  ]
}

export function toolBlock (index: number, id: string, name: string, jsonPieces: string[]): string[] {
  return [
    event('content_block_start', { index, content_block: { type: 'tool_use', id, name, input: {}, caller: { type: 'direct' } } }),
    ...jsonPieces.map((partial) => event('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: partial } })),
    event('content_block_stop', { index })
  ]
}

export function thinkingBlock (index: number, pieces: string[]): string[] {
  return [
    event('content_block_start', { index, content_block: { type: 'thinking', thinking: '', signature: '' } }),
    ...pieces.map((thinking) => event('content_block_delta', { index, delta: { type: 'thinking_delta', thinking } })),
    event('content_block_delta', { index, delta: { type: 'signature_delta', signature: 'c2lnbmF0dXJl' } }),
    event('content_block_stop', { index })
  ]
}

/** A stream from a plan (the model is the one asked for). */
export const stream = (plan: StreamPlan): Behaviour => (res, received) => {
  openStream(res)
  for (const text of streamEvents(modelOf(received), plan)) res.write(text)
  res.end()
}

export const textStream = (pieces: string[] = ['Hel', 'lo', ' world'], usage?: Usage): Behaviour =>
  stream({ blocks: textBlock(0, pieces), ...(usage === undefined ? {} : { usage }) })

/** Text, then a tool call whose input arrives in partial JSON pieces. */
export const toolStream = (name = 'get_weather', pieces: string[] = ['{"ci', 'ty": "Par', 'is"}']): Behaviour =>
  stream({ blocks: [...textBlock(0, ['Let me check.']), ...toolBlock(1, 'toolu_fake_01', name, pieces)], stopReason: 'tool_use' })

/** Some text, then an `error` event instead of the rest. */
export const errorMidStream = (type = 'overloaded_error'): Behaviour =>
  stream({ blocks: textBlock(0, ['Hel', 'lo']), errorAfter: 3, errorType: type })

/** Anthropic's way of being overloaded: a 200, then an `error` event first. */
export const overloadedFirst = (): Behaviour => (res) => {
  openStream(res)
  res.end(event('error', { error: { type: 'overloaded_error', message: 'Overloaded' } }))
}

/** Streams when asked to, else a whole message. */
export const auto = (): Behaviour => (res, received) => {
  if (record(received.json).stream === true) textStream()(res, received)
  else answer()(res, received)
}

export const status = (code: number, type: string, text: string, headers: Record<string, string> = {}): Behaviour => (res) => {
  sendError(res, code, type, text, headers)
}

export const overloaded = (): Behaviour => status(529, 'overloaded_error', 'Overloaded')
export const rateLimited = (): Behaviour => status(429, 'rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit', { 'retry-after': '7' })
export const serverError = (): Behaviour => status(500, 'api_error', 'Internal server error')

export async function startAnthropic (behaviour: Behaviour = auto(), options: { apiKey?: string } = {}): Promise<FakeServer> {
  let current = behaviour
  const key = options.apiKey ?? ANTHROPIC_KEY
  const received: Received[] = []
  const server = await listen((res, entry) => {
    received.push(entry)
    const refused = refusal(entry, key)
    if (refused !== undefined) sendError(res, refused.status, refused.type, refused.message)
    else current(res, entry)
  })
  return { origin: server.origin, received, behave (next) { current = next }, close: server.close }
}
