/**
 * OpenAI's own API (and every OpenAI-compatible server): a passthrough. The
 * body goes up with the backend's model and the answer comes back as it is,
 * for every OpenAI route (chat, completions, embeddings, Responses,
 * moderations, images, speech).
 *
 * Its stream converter only watches the first events (passthrough-watch.ts),
 * to tell the proxy whether the upstream failed before its first token.
 */
import { openAIError, UpstreamBadAnswer } from '../errors.js'
import { typeForStatus } from './error-status.js'
import { isRecord, parseJson } from './json.js'
import { PassthroughWatch, type EventVerdict } from './passthrough-watch.js'
import { ROUTES, withQuery } from './paths.js'
import type { SseEvent } from './sse-parser.js'
import type { Api, ConvertedError, Protocol } from './types.js'

const STATUS_OF_TYPE: Readonly<Record<string, number>> = {
  invalid_request_error: 400,
  authentication_error: 401,
  permission_error: 403,
  not_found_error: 404,
  rate_limit_error: 429,
  insufficient_quota: 429,
  server_error: 500,
  api_error: 500,
  service_unavailable: 503,
  timeout_error: 504
}

/** The HTTP status an OpenAI error `type` (or a Responses error `code`) stands for; 502 for any other. */
export function statusOfErrorType (type: string): number {
  return STATUS_OF_TYPE[type] ?? 502
}

function nonEmpty (value: unknown): boolean {
  return (typeof value === 'string' && value !== '') || (Array.isArray(value) && value.length > 0)
}

/** Whether an OpenAI chunk carries something the client must see. */
function carriesContent (chunk: Record<string, unknown>, api: Api): boolean {
  if (!Array.isArray(chunk.choices)) return false
  return chunk.choices.some((choice) => {
    if (!isRecord(choice)) return false
    if (api === 'completions') return nonEmpty(choice.text)
    const delta = choice.delta
    // Reasoning is the answer under way too (`reasoning_content`, `reasoning`):
    // held back, a long one would leave the client with no byte.
    return isRecord(delta) && (nonEmpty(delta.content) || nonEmpty(delta.tool_calls) || nonEmpty(delta.refusal) || nonEmpty(delta.reasoning_content) || nonEmpty(delta.reasoning))
  })
}

/** An OpenAI-shaped `{"error": {...}}` object's parts, when the value is one. */
function errorParts (value: unknown): { message: string, type: string, code: string | null } | undefined {
  if (!isRecord(value) || !isRecord(value.error)) return undefined
  const { message, type, code } = value.error
  if (typeof message !== 'string') return undefined
  return { message, type: typeof type === 'string' ? type : 'api_error', code: typeof code === 'string' ? code : null }
}

/** An OpenAI chat or completions stream's event: a chunk with content, an error chunk, or neither. */
function chatVerdict (api: Api, event: SseEvent): EventVerdict {
  if (event.data === '[DONE]') return undefined
  const chunk = parseJson(event.data)
  if (!isRecord(chunk)) return undefined
  const error = errorParts(chunk)
  if (error !== undefined) return { status: statusOfErrorType(error.type), type: error.type, message: error.message }
  return carriesContent(chunk, api) ? 'content' : undefined
}

/**
 * A Responses API stream's event: any `*.delta` (text, a tool call's
 * arguments, reasoning) is the answer under way, as is a response that
 * completed with none; `error` and `response.failed` are failures.
 */
function responsesVerdict (event: SseEvent): EventVerdict {
  const data = parseJson(event.data)
  if (!isRecord(data) || typeof data.type !== 'string') return undefined
  const { type } = data
  if (type.endsWith('.delta') || type === 'response.completed' || type === 'response.incomplete') return 'content'
  if (type === 'error') {
    const message = typeof data.message === 'string' ? data.message : 'The upstream sent an error event'
    const code = typeof data.code === 'string' ? data.code : 'api_error'
    return { status: statusOfErrorType(code), type: code, message }
  }
  if (type === 'response.failed') {
    const response = isRecord(data.response) ? data.response : {}
    const error = isRecord(response.error) ? response.error : {}
    return { status: 502, type: 'upstream_error', message: typeof error.message === 'string' ? error.message : 'The response failed' }
  }
  return undefined
}

/** An OpenAI error body rebuilt from its known fields; anything else is not copied. */
export function openAIErrorAnswer (status: number, bodyText: string): ConvertedError {
  const error = errorParts(parseJson(bodyText))
  if (error === undefined) return { status, body: openAIError(`The backend answered HTTP ${status}`, typeForStatus(status), null) }
  return { status, body: openAIError(error.message, error.type, error.code) }
}

export function createOpenAIProtocol (): Protocol {
  return {
    name: 'openai',
    // Anthropic's routes come through a conversion (anthropic-inbound.ts).
    serves: (api) => api !== 'messages' && api !== 'count_tokens',
    convertsAnswer: () => false,
    // The body is berry's own copy: `model` is set in place, as the handoff
    // did before protocols, to spare a copy per attempt.
    request (api, body, ctx) {
      body.model = ctx.model
      return { path: withQuery(ctx.basePath + ROUTES[api], ctx.query), body, stream: body.stream === true }
    },
    credentials: (apiKey) => ({ authorization: `Bearer ${apiKey}` }),
    modelsPath: (basePath, query) => withQuery(`${basePath}/models`, query),
    answer (_api, json) {
      if (!isRecord(json)) throw UpstreamBadAnswer('not a JSON object')
      return json
    },
    stream: (api) => new PassthroughWatch(api === 'responses' ? responsesVerdict : (event) => chatVerdict(api, event)),
    error: openAIErrorAnswer
  }
}
