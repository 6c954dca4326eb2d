/**
 * Anthropic's Messages API as a client protocol: Claude Code and the
 * Anthropic SDK talking to berry, served by OpenAI-protocol backends.
 */
import type { ClientProtocol } from '../types.js'
import { toAnthropicMessage } from './client-answer.js'
import { anthropicStreamError, toAnthropicError } from './client-errors.js'
import { toOpenAIRequest } from './client-request.js'
import { OpenAIToAnthropicStream } from './client-stream.js'

export const anthropicClient: ClientProtocol = {
  name: 'anthropic',
  request: toOpenAIRequest,
  answer: toAnthropicMessage,
  stream: () => new OpenAIToAnthropicStream(),
  error: toAnthropicError,
  streamError: anthropicStreamError
}
