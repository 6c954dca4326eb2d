/**
 * The rest of OpenAI's API on a fake upstream (test/helpers/fake-upstream.ts
 * behaviours): the Responses API with stored responses (each server keeps
 * its own, as an OpenAI account does), moderations, image generation and
 * speech (a binary body streamed in pieces).
 */
import type { ServerResponse } from 'node:http'
import type { Behaviour, Received } from './fake-upstream.js'

const USAGE = { input_tokens: 11, input_tokens_details: { cached_tokens: 0 }, output_tokens: 4, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 15 }

function responseObject (id: string, model: string, text: string, status = 'completed') {
  return {
    id,
    object: 'response',
    created_at: 1_800_000_000,
    status,
    background: false,
    error: null,
    incomplete_details: null,
    instructions: null,
    max_output_tokens: null,
    model,
    output: status === 'completed'
      ? [{ type: 'message', id: `msg_${id}`, status: 'completed', role: 'assistant', content: [{ type: 'output_text', text, annotations: [], logprobs: [] }] }]
      : [],
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: true,
    temperature: 1,
    text: { format: { type: 'text' } },
    tool_choice: 'auto',
    tools: [],
    top_p: 1,
    truncation: 'disabled',
    usage: status === 'completed' ? USAGE : null,
    user: null,
    metadata: {}
  }
}

function sendJson (res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}

function notFound (res: ServerResponse, id: string): void {
  sendJson(res, 404, { error: { message: `Response with id '${id}' not found.`, type: 'invalid_request_error', param: null, code: null } })
}

/** One upstream's Responses API: `name` goes into its ids, so a test sees which backend made a response. */
export function responsesApi (name: string): Behaviour & { readonly stored: Map<string, { input: unknown, previous: unknown }> } {
  const stored = new Map<string, { input: unknown, previous: unknown }>()
  let next = 0
  const behaviour = (_req: unknown, res: ServerResponse, received: Received): void => {
    const path = received.url.split('?', 1)[0] ?? ''
    const match = /^\/v1\/responses\/([^/]+)(\/cancel|\/input_items)?$/.exec(path)
    if (match !== null) {
      const id = decodeURIComponent(match[1]!)
      const entry = stored.get(id)
      if (entry === undefined) return notFound(res, id)
      if (received.method === 'DELETE') {
        stored.delete(id)
        return sendJson(res, 200, { id, object: 'response.deleted', deleted: true })
      }
      if (match[2] === '/cancel') return sendJson(res, 200, responseObject(id, 'm', '', 'cancelled'))
      if (match[2] === '/input_items') return sendJson(res, 200, { object: 'list', data: [{ type: 'message', id: `in_${id}`, role: 'user', status: 'completed', content: [{ type: 'input_text', text: String(entry.input) }] }], first_id: `in_${id}`, last_id: `in_${id}`, has_more: false })
      return sendJson(res, 200, responseObject(id, 'm', `stored by ${name}`))
    }
    const body = received.json ?? {}
    const previous = body.previous_response_id
    if (typeof previous === 'string' && !stored.has(previous)) return notFound(res, previous)
    const id = `resp_${name}_${++next}`
    if (body.store !== false) stored.set(id, { input: body.input, previous })
    const model = String(body.model)
    const text = `Hello from ${name}${typeof previous === 'string' ? ` after ${previous}` : ''}`
    if (body.stream !== true) return sendJson(res, 200, responseObject(id, model, text))
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    let sequence = 0
    const event = (type: string, data: object): string => `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...data })}\n\n`
    const inProgress = { ...responseObject(id, model, text, 'in_progress') }
    res.write(event('response.created', { response: inProgress }))
    res.write(event('response.in_progress', { response: inProgress }))
    res.write(event('response.output_item.added', { output_index: 0, item: { type: 'message', id: `msg_${id}`, status: 'in_progress', role: 'assistant', content: [] } }))
    res.write(event('response.content_part.added', { item_id: `msg_${id}`, output_index: 0, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } }))
    for (const piece of text.split(/(?<= )/)) res.write(event('response.output_text.delta', { item_id: `msg_${id}`, output_index: 0, content_index: 0, delta: piece, logprobs: [] }))
    res.write(event('response.output_text.done', { item_id: `msg_${id}`, output_index: 0, content_index: 0, text, logprobs: [] }))
    res.end(event('response.completed', { response: responseObject(id, model, text) }))
  }
  return Object.assign(behaviour, { stored })
}

export const moderation = (): Behaviour => (_req, res, received) => {
  sendJson(res, 200, { id: 'modr-1', model: received.json?.model, results: [{ flagged: false, categories: { violence: false }, category_scores: { violence: 0.001 }, category_applied_input_types: { violence: ['text'] } }] })
}

export const image = (): Behaviour => (_req, res) => {
  sendJson(res, 200, { created: 1_800_000_000, data: [{ b64_json: Buffer.from('png').toString('base64') }], usage: { input_tokens: 9, output_tokens: 1056, total_tokens: 1065, input_tokens_details: { text_tokens: 9, image_tokens: 0 } } })
}

/** `bytes` of audio, in pieces 20 ms apart. */
export const speech = (bytes = 48_000): Behaviour => (_req, res) => {
  res.writeHead(200, { 'content-type': 'audio/mpeg' })
  let sent = 0
  const tick = (): void => {
    if (res.destroyed) return
    const n = Math.min(8000, bytes - sent)
    if (n <= 0) {
      res.end()
      return
    }
    res.write(Buffer.alloc(n, sent % 251))
    sent += n
    setTimeout(tick, 20)
  }
  tick()
}
