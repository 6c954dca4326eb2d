/**
 * A fake Gemini API (`/v1beta/models/{model}:generateContent`,
 * `:streamGenerateContent?alt=sse`, `:batchEmbedContents`) on a real socket
 * (port 0). It checks a request as the API does (the `x-goog-api-key`
 * header, `contents`, no unknown field), records what it received, and
 * answers with the documented shapes: whole answers, SSE chunks separated by
 * CRLF CRLF as Google sends them, function calls, a blocked prompt, an error
 * chunk mid-stream, and error bodies `{"error": {"code", "message", "status"}}`.
 *
 * test/protocols/fakes.test.ts checks it against the official SDK.
 */
import type { ServerResponse } from 'node:http'
import { listen, type Behaviour, type FakeServer, type Received } from './fake-anthropic.js'

export type { Behaviour, FakeServer, Received } from './fake-anthropic.js'

export const GEMINI_KEY = 'AIza-fake-gemini-key-0123'

function record (value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value as Record<string, unknown> : {}
}

export function errorBody (code: number, status: string, message: string, details: object[] = []): object {
  return { error: { code, message, status, ...(details.length > 0 ? { details } : {}) } }
}

function sendError (res: ServerResponse, code: number, status: string, message: string, details: object[] = []): void {
  res.writeHead(code, { 'content-type': 'application/json; charset=UTF-8' })
  res.end(JSON.stringify(errorBody(code, status, message, details)))
}

export interface Route {
  model: string
  method: 'generateContent' | 'streamGenerateContent' | 'batchEmbedContents'
}

export function routeOf (url: string): Route | undefined {
  const path = url.split('?')[0] ?? ''
  const match = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent|batchEmbedContents)$/.exec(path)
  if (match === null) return undefined
  return { model: decodeURIComponent(match[1] ?? ''), method: match[2] as Route['method'] }
}

const GENERATE_FIELDS = new Set(['contents', 'systemInstruction', 'generationConfig', 'tools', 'toolConfig', 'safetySettings', 'cachedContent'])

function refusal (received: Received, key: string): { code: number, status: string, message: string, details?: object[] } | undefined {
  const route = routeOf(received.url)
  if (received.method !== 'POST' || route === undefined) return { code: 404, status: 'NOT_FOUND', message: `Not found: ${received.url}` }
  if (received.headers['x-goog-api-key'] !== key) {
    return { code: 400, status: 'INVALID_ARGUMENT', message: 'API key not valid. Please pass a valid API key.', details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com' }] }
  }
  if (route.method === 'streamGenerateContent' && !received.url.includes('alt=sse')) return { code: 400, status: 'INVALID_ARGUMENT', message: 'this fake streams SSE only: add alt=sse' }
  const body = record(received.json)
  if (route.method === 'batchEmbedContents') {
    if (!Array.isArray(body.requests)) return { code: 400, status: 'INVALID_ARGUMENT', message: '* BatchEmbedContentsRequest.requests: field is required' }
    return undefined
  }
  for (const field of Object.keys(body)) {
    if (!GENERATE_FIELDS.has(field)) return { code: 400, status: 'INVALID_ARGUMENT', message: `Invalid JSON payload received. Unknown name "${field}": Cannot find field.` }
  }
  if (!Array.isArray(body.contents) || body.contents.length === 0) return { code: 400, status: 'INVALID_ARGUMENT', message: '* GenerateContentRequest.contents: contents is not specified' }
  for (const [i, raw] of body.contents.entries()) {
    const content = record(raw)
    if (content.role !== 'user' && content.role !== 'model') return { code: 400, status: 'INVALID_ARGUMENT', message: `Please use a valid role: user, model. (contents[${i}])` }
    if (!Array.isArray(content.parts) || content.parts.length === 0) return { code: 400, status: 'INVALID_ARGUMENT', message: `* GenerateContentRequest.contents[${i}].parts: contents.parts must not be empty.` }
  }
  return undefined
}

export interface GeminiUsage {
  promptTokenCount: number
  candidatesTokenCount: number
  thoughtsTokenCount?: number
  cachedContentTokenCount?: number
}

function usageMetadata (usage: GeminiUsage): object {
  return {
    ...usage,
    totalTokenCount: usage.promptTokenCount + usage.candidatesTokenCount + (usage.thoughtsTokenCount ?? 0),
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: usage.promptTokenCount }]
  }
}

export function response (model: string, parts: object[], finishReason: string | undefined, usage: GeminiUsage | undefined): object {
  return {
    candidates: [{ content: { parts, role: 'model' }, ...(finishReason === undefined ? {} : { finishReason }), index: 0 }],
    ...(usage === undefined ? {} : { usageMetadata: usageMetadata(usage) }),
    modelVersion: model,
    responseId: 'resp-fake-01'
  }
}

const DEFAULT_USAGE: GeminiUsage = { promptTokenCount: 9, candidatesTokenCount: 4 }

function modelOf (received: Received): string {
  return routeOf(received.url)?.model ?? 'gemini-unknown'
}

export const answer = (parts: object[] = [{ text: 'pong' }], finishReason = 'STOP', usage: GeminiUsage = DEFAULT_USAGE): Behaviour => (res, received) => {
  res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' })
  res.end(JSON.stringify(response(modelOf(received), parts, finishReason, usage)))
}

export function sse (value: object): string {
  return `data: ${JSON.stringify(value)}\r\n\r\n`
}

/** A stream of chunks, each the parts of one response; the last carries finishReason and usage. */
export const stream = (chunks: object[][], options: { finishReason?: string, usage?: GeminiUsage, errorAfter?: number } = {}): Behaviour => (res, received) => {
  res.writeHead(200, { 'content-type': 'text/event-stream' })
  const model = modelOf(received)
  for (const [i, parts] of chunks.entries()) {
    if (options.errorAfter === i) {
      res.end(sse(errorBody(503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.')))
      return
    }
    const last = i === chunks.length - 1
    res.write(sse(response(model, parts, last ? options.finishReason ?? 'STOP' : undefined, last ? options.usage ?? DEFAULT_USAGE : { promptTokenCount: 9, candidatesTokenCount: i + 1 })))
  }
  res.end()
}

export const textStream = (pieces: string[] = ['Hel', 'lo', ' world']): Behaviour => stream(pieces.map((text) => [{ text }]))

export const functionCall = (name = 'get_weather', args: object = { city: 'Paris' }): Behaviour =>
  answer([{ functionCall: { name, args }, thoughtSignature: 'c2lnLWZha2U=' }])

export const functionCallStream = (name = 'get_weather', args: object = { city: 'Paris' }): Behaviour =>
  stream([[{ text: 'Checking.' }], [{ functionCall: { name, args }, thoughtSignature: 'c2lnLWZha2U=' }]])

/** A prompt refused outright: no candidate, the feedback says why. */
export const blocked = (): Behaviour => (res) => {
  res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' })
  res.end(JSON.stringify({ promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: usageMetadata({ promptTokenCount: 5, candidatesTokenCount: 0 }), modelVersion: 'gemini-fake', responseId: 'resp-fake-02' }))
}

export const errorMidStream = (): Behaviour => stream([[{ text: 'Hel' }], [{ text: 'lo' }], [{ text: '!' }]], { errorAfter: 2 })

/** Vectors made from each input's text, so a test can tell them apart. */
export const embeddings = (): Behaviour => (res, received) => {
  const requests = Array.isArray(record(received.json).requests) ? record(received.json).requests as unknown[] : []
  const vectors = requests.map((request) => {
    const parts = record(record(request).content).parts
    const text = Array.isArray(parts) ? String(record(parts[0]).text ?? '') : ''
    return { values: [text.length, 0.5, -0.25] }
  })
  res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' })
  res.end(JSON.stringify({ embeddings: vectors }))
}

/** Answers by route: streams for streamGenerateContent, vectors for batchEmbedContents. */
export const auto = (): Behaviour => (res, received) => {
  const route = routeOf(received.url)
  if (route?.method === 'batchEmbedContents') embeddings()(res, received)
  else if (route?.method === 'streamGenerateContent') textStream()(res, received)
  else answer()(res, received)
}

export const status = (code: number, grpcStatus: string, message: string): Behaviour => (res) => { sendError(res, code, grpcStatus, message) }
export const rateLimited = (): Behaviour => status(429, 'RESOURCE_EXHAUSTED', 'Resource has been exhausted (e.g. check quota).')
export const serverError = (): Behaviour => status(500, 'INTERNAL', 'An internal error has occurred.')
export const unavailable = (): Behaviour => status(503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.')

export async function startGemini (behaviour: Behaviour = auto(), options: { apiKey?: string } = {}): Promise<FakeServer> {
  let current = behaviour
  const key = options.apiKey ?? GEMINI_KEY
  const received: Received[] = []
  const server = await listen((res, entry) => {
    received.push(entry)
    const refused = refusal(entry, key)
    if (refused !== undefined) sendError(res, refused.code, refused.status, refused.message, refused.details)
    else current(res, entry)
  })
  return { origin: server.origin, received, behave (next) { current = next }, close: server.close }
}
