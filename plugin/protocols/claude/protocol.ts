/**
 * The Anthropic Messages API behind OpenAI's chat completions
 * (`backend_type = "claude"` or `"anthropic"`). Chat only: Anthropic has no
 * completions or embeddings endpoint.
 */
import { createdAt, defaultEnv } from '../env.js'
import { assertServes, withQuery } from '../paths.js'
import { isRecord, parseJson } from '../json.js'
import { PassthroughWatch, type EventVerdict } from '../passthrough-watch.js'
import type { SseEvent } from '../sse-parser.js'
import type { Protocol, ProtocolEnv } from '../types.js'
import { fromAnthropicMessage } from './answer.js'
import { anthropicError, streamFailure } from './errors.js'
import { toAnthropicRequest } from './request.js'
import { AnthropicChatStream } from './stream.js'

/**
 * The API version the current official SDK sends (@anthropic-ai/sdk 1.x,
 * `client.ts` buildHeaders); request.ts converts for this version.
 */
export const ANTHROPIC_VERSION = '2026-10-21'

/** `/v1/<resource>` under the base path, whether or not base_url ends in `/v1`. */
function v1Path (basePath: string, resource: string, query: string): string {
  const base = basePath.endsWith('/v1') ? basePath.slice(0, -3) : basePath
  return withQuery(`${base}/v1/${resource}`, query)
}

/** `/v1/messages` under the base path, whether or not base_url ends in `/v1`. */
export function messagesPath (basePath: string, query: string): string {
  return v1Path(basePath, 'messages', query)
}

/**
 * An Anthropic stream passed through to an Anthropic client, watched until
 * its first token: a content delta or a tool call; an `error` event before
 * that is a failure (Anthropic's `overloaded_error` after a 200).
 */
function nativeVerdict (event: SseEvent): EventVerdict {
  const data = parseJson(event.data)
  if (!isRecord(data)) return undefined
  if (data.type === 'content_block_delta') return 'content'
  if (data.type === 'content_block_start' && isRecord(data.content_block) && data.content_block.type === 'tool_use') return 'content'
  if (data.type === 'error') return streamFailure(data)
  return undefined
}

export function createClaudeProtocol (env: ProtocolEnv = defaultEnv): Protocol {
  const protocol: Protocol = {
    name: 'claude',
    // Chat completions converted; Anthropic's own routes natively.
    serves: (api) => api === 'chat' || api === 'messages' || api === 'count_tokens',
    convertsAnswer: (api) => api === 'chat',
    request (api, body, ctx) {
      assertServes(protocol, api, 'Anthropic')
      if (api === 'messages' || api === 'count_tokens') {
        // The client already speaks Anthropic: only the model is the backend's.
        body.model = ctx.model
        return { path: v1Path(ctx.basePath, api === 'messages' ? 'messages' : 'messages/count_tokens', ctx.query), body, stream: api === 'messages' && body.stream === true }
      }
      const params = toAnthropicRequest(body, ctx)
      return { path: messagesPath(ctx.basePath, ctx.query), body: params, stream: params.stream === true }
    },
    // Exactly what the official SDK sends: the key as a bearer token (SDK 1.x
    // no longer sends x-api-key) and the API version.
    credentials: (apiKey) => ({ authorization: `Bearer ${apiKey}`, 'anthropic-version': ANTHROPIC_VERSION }),
    modelsPath: (basePath, query) => v1Path(basePath, 'models', query),
    answer: (_api, json) => fromAnthropicMessage(json, createdAt(env)),
    stream: (api, options) => api === 'messages' ? new PassthroughWatch(nativeVerdict) : new AnthropicChatStream(options, env),
    error: anthropicError
  }
  return protocol
}
