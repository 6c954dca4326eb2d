/**
 * OpenAI's own API (and every OpenAI-compatible server): a passthrough. The
 * body goes up with the backend's model and the answer comes back as it is.
 *
 * Its stream converter only watches the first events, to tell the proxy
 * whether the upstream failed before anything useful came (then it may fail
 * over): once a chunk carries content or a tool call it stops parsing
 * altogether, so a long answer costs nothing after its first token.
 */
import type { Usage } from '../accounting/usage-scanner.js'
import { BerryError, openAIError, UpstreamBadAnswer } from '../errors.js'
import { typeForStatus } from './error-status.js'
import { upstreamFailure } from './event-converter.js'
import { isRecord, parseJson } from './json.js'
import { ROUTES, withQuery } from './paths.js'
import { SseParser, type SseEvent } from './sse-parser.js'
import type { Api, ConvertedError, Protocol, StreamConverter, StreamFailure } from './types.js'

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

class CommitWatch implements StreamConverter {
  readonly #api: Api
  #parser: SseParser | undefined
  #committed = false
  #failure: StreamFailure | undefined

  constructor (api: Api) {
    this.#api = api
    this.#parser = new SseParser((event) => { this.#event(event) })
  }

  get committed (): boolean {
    return this.#committed
  }

  get failure (): StreamFailure | undefined {
    return this.#failure
  }

  /** The proxy's usage scanner reads OpenAI's own usage chunk as it passes. */
  get usage (): Usage | undefined {
    return undefined
  }

  push (chunk: Buffer): Buffer | undefined {
    if (this.#failure !== undefined) return undefined
    if (this.#parser !== undefined) {
      try {
        this.#parser.push(chunk)
      } catch (error) {
        if (!(error instanceof BerryError)) throw error
        this.#failure = upstreamFailure(error.message)
      }
      if (this.#committed) this.#parser = undefined
      if (this.#failure !== undefined) return undefined
    }
    return chunk
  }

  end (): Buffer | undefined {
    return undefined
  }

  #event (event: SseEvent): void {
    if (this.#committed || this.#failure !== undefined || event.data === '[DONE]') return
    const chunk = parseJson(event.data)
    if (!isRecord(chunk)) return
    const error = errorParts(chunk)
    if (error !== undefined) {
      this.#failure = { status: STATUS_OF_TYPE[error.type] ?? 502, type: error.type, message: error.message }
      return
    }
    if (carriesContent(chunk, this.#api)) this.#committed = true
  }
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
    serves: () => true,
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
    stream: (api) => new CommitWatch(api),
    error: openAIErrorAnswer
  }
}
