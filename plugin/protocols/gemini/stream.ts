/**
 * A Gemini `streamGenerateContent?alt=sse` stream as OpenAI chat completion
 * chunks. Each event is a whole GenerateContentResponse holding the next
 * parts: text parts become `content` deltas (thoughts `reasoning_content`),
 * a function call comes whole and becomes one `tool_calls` delta with all
 * its arguments. The chunk with `finishReason` gives `finish_reason`; the
 * usage chunk and `[DONE]` follow when the body ends, because Gemini's last
 * counts may come after it. A body that ends with no finishReason is a
 * failure, and so is an `{"error": ...}` chunk.
 */
import { createdAt } from '../env.js'
import { EventConverter, upstreamFailure } from '../event-converter.js'
import { isRecord, parseJson } from '../json.js'
import { berryUsage, ChunkWriter } from '../openai-response.js'
import { DONE } from '../sse-format.js'
import type { SseEvent } from '../sse-parser.js'
import type { ProtocolEnv, StreamOptions } from '../types.js'
import { finishReason, hasFunctionCall, openAIUsage, toolCall, toolCallId } from './answer.js'
import { geminiErrorOf, streamFailure } from './errors.js'
import { isGeminiResponse, type GeminiResponse } from './types.js'

export class GeminiChatStream extends EventConverter {
  readonly #writer: ChunkWriter
  readonly #includeUsage: boolean
  #responseId: string | undefined
  #usage: GeminiResponse['usageMetadata']
  #tools = 0
  #started = false
  #finished = false

  constructor (options: StreamOptions, env: ProtocolEnv) {
    super()
    this.#writer = new ChunkWriter(env.randomId(), options.model, createdAt(env))
    this.#includeUsage = options.includeUsage
  }

  protected onEvent (sse: SseEvent): void {
    const parsed = parseJson(sse.data)
    if (!isRecord(parsed)) {
      this.fail(upstreamFailure('The Gemini stream sent an event that is not JSON'))
      return
    }
    const error = geminiErrorOf(parsed)
    if (error !== undefined) {
      this.fail(streamFailure(error))
      return
    }
    if (!isGeminiResponse(parsed)) {
      this.fail(upstreamFailure('The Gemini stream sent a chunk that is not a GenerateContentResponse'))
      return
    }
    const chunk = parsed
    this.#start(chunk)
    if (chunk.usageMetadata !== undefined) {
      this.#usage = chunk.usageMetadata
      this.setUsage(berryUsage(openAIUsage(chunk.usageMetadata)))
    }
    const candidate = chunk.candidates?.[0]
    for (const part of candidate?.content?.parts ?? []) {
      if (hasFunctionCall(part)) {
        const id = toolCallId(part.functionCall, this.#responseId ?? this.#writer.id, this.#tools)
        const { extra_content: extra, ...call } = toolCall(part, id)
        if (call.type !== 'function') continue
        this.emit(this.#writer.delta({ tool_calls: [{ index: this.#tools++, id: call.id, type: 'function', function: call.function, ...(extra === undefined ? {} : { extra_content: extra }) }] }))
        this.commit()
      } else if (typeof part.text === 'string' && part.text !== '') {
        if (part.thought === true) {
          this.emit(this.#writer.delta({ reasoning_content: part.text }))
          this.commit()
        } else {
          this.emit(this.#writer.delta({ content: part.text }))
          this.commit()
        }
      }
    }
    if (this.#finished) return
    if (candidate?.finishReason !== undefined) {
      this.#finished = true
      this.emit(this.#writer.delta({}, finishReason(candidate.finishReason, this.#tools > 0)))
    } else if (candidate === undefined && chunk.promptFeedback?.blockReason !== undefined) {
      this.#finished = true
      this.emit(this.#writer.delta({}, 'content_filter'))
    }
  }

  protected onEnd (): void {
    if (!this.#finished) {
      this.fail(upstreamFailure('The Gemini stream ended before its last chunk'))
      return
    }
    if (this.#includeUsage) this.emit(this.#writer.usage(openAIUsage(this.#usage)))
    this.emit(DONE)
    this.finish()
  }

  #start (chunk: GeminiResponse): void {
    if (this.#started) return
    this.#started = true
    if (typeof chunk.responseId === 'string') {
      this.#responseId = chunk.responseId
      this.#writer.id = chunk.responseId
    }
    if (typeof chunk.modelVersion === 'string') this.#writer.model = chunk.modelVersion
    this.emit(this.#writer.delta({ role: 'assistant', content: '' }))
  }
}
