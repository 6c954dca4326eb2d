/**
 * Anthropic's Messages API (`POST /v1/messages`) on a backend that does not
 * speak it (OpenAI, Gemini): the client's request becomes an OpenAI chat
 * request, which the backend's own protocol carries; its answer, stream and
 * errors come back in Anthropic's shape. A Claude backend serves the route
 * natively instead (claude/protocol.ts), so a Claude-only tool (Claude Code,
 * the Anthropic SDK) can use any model berry serves.
 */
import { chain } from './chain.js'
import { anthropicClient } from './claude/client.js'
import type { Protocol } from './types.js'

export function withAnthropicInbound (protocol: Protocol): Protocol {
  if (protocol.serves('messages')) return protocol
  return {
    name: protocol.name,
    serves: (api) => api === 'messages' || protocol.serves(api),
    convertsAnswer: (api) => api === 'messages' || protocol.convertsAnswer(api),
    credentials: (apiKey) => protocol.credentials(apiKey),
    modelsPath: (basePath, query) => protocol.modelsPath(basePath, query),
    request (api, body, ctx) {
      if (api !== 'messages') return protocol.request(api, body, ctx)
      return protocol.request('chat', anthropicClient.request(body), ctx)
    },
    answer (api, json, ctx) {
      if (api !== 'messages') return protocol.answer(api, json, ctx)
      return anthropicClient.answer(protocol.answer('chat', json, ctx))
    },
    stream (api, options) {
      if (api !== 'messages') return protocol.stream(api, options)
      // The Anthropic request asked the backend for its usage chunk.
      const openAI = protocol.stream('chat', { ...options, includeUsage: true })
      return chain(openAI, anthropicClient.stream())
    },
    error: (status, bodyText) => protocol.error(status, bodyText)
  }
}
