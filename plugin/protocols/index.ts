/** The protocol library's public surface, for the proxy. */
export { protocolFor, BACKEND_TYPES } from './registry.js'
export { anthropicClient } from './claude/client.js'
export { chain } from './chain.js'
export { includeUsage } from './openai-request.js'
export { createClaudeProtocol, ANTHROPIC_VERSION } from './claude/protocol.js'
export { createGeminiProtocol } from './gemini/protocol.js'
export { createOpenAIProtocol } from './openai.js'
export { SseParser, DEFAULT_MAX_EVENT_BYTES } from './sse-parser.js'
export type { SseEvent } from './sse-parser.js'
export type {
  Api,
  AnswerContext,
  ClientProtocol,
  ConvertedError,
  Protocol,
  ProtocolEnv,
  RequestContext,
  StreamConverter,
  StreamFailure,
  StreamOptions,
  UpstreamRequest
} from './types.js'
