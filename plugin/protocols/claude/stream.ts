/**
 * An Anthropic Messages event stream as OpenAI chat completion chunks, one
 * event at a time:
 *
 * - `message_start`: the first chunk, `role: "assistant"`;
 * - a text block's deltas: `content` deltas;
 * - a `tool_use` block: a `tool_calls` delta (index, id, type, name,
 *   arguments ""), then its `input_json_delta` pieces as argument deltas;
 * - a `thinking` block's deltas: `reasoning_content` deltas;
 * - `message_delta`: the chunk with `finish_reason`;
 * - `message_stop`: the usage chunk when asked for, then `data: [DONE]`;
 * - `ping`, signatures, citations and server-tool blocks: nothing;
 * - `error`: the stream fails with Anthropic's type and message.
 */
import type { ErrorObject } from '@anthropic-ai/sdk/resources/shared'
import type { ContentBlock, RawContentBlockDelta, RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages'
import { createdAt } from '../env.js'
import { EventConverter, upstreamFailure } from '../event-converter.js'
import { isRecord, parseJson } from '../json.js'
import { berryUsage, ChunkWriter } from '../openai-response.js'
import { DONE } from '../sse-format.js'
import type { SseEvent } from '../sse-parser.js'
import type { ProtocolEnv, StreamOptions } from '../types.js'
import { countsOf, finishReason, openAIUsage, updatedCounts, type AnthropicCounts } from './answer.js'
import { streamFailure } from './errors.js'

/** Anthropic's stream events: the typed ones plus `ping` and `error`, which the SDK handles apart. */
type AnthropicEvent = RawMessageStreamEvent | { type: 'ping' } | { type: 'error', error: ErrorObject }

const EVENT_TYPES: ReadonlySet<string> = new Set<AnthropicEvent['type']>([
  'message_start', 'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop', 'ping', 'error'
])

/**
 * An event of the types this stream knows, read as the SDK types it. The
 * `type` decides its shape; a field missing where the type has one ends as
 * a TypeError, which the converter turns into a clean failure
 * (event-converter.ts).
 */
function isAnthropicEvent (value: Record<string, unknown>): value is Record<string, unknown> & AnthropicEvent {
  return typeof value.type === 'string' && EVENT_TYPES.has(value.type)
}

type Block =
  | { readonly kind: 'text' }
  | { readonly kind: 'thinking' }
  | { readonly kind: 'tool', readonly index: number, readonly input: unknown, sent: boolean }
  | { readonly kind: 'other' }

/** Event and block types newer than these SDK types: nothing to carry. */
function unknownEvent (_event: never): void {}
function unknownBlock (_block: never): void {}
function unknownDelta (_delta: never): void {}

export class AnthropicChatStream extends EventConverter {
  readonly #writer: ChunkWriter
  readonly #includeUsage: boolean
  readonly #blocks = new Map<number, Block>()
  #tools = 0
  #counts: AnthropicCounts = countsOf(undefined)
  #started = false

  constructor (options: StreamOptions, env: ProtocolEnv) {
    super()
    this.#writer = new ChunkWriter(`msg_${env.randomId()}`, options.model, createdAt(env))
    this.#includeUsage = options.includeUsage
  }

  protected onEvent (sse: SseEvent): void {
    const event = parseJson(sse.data)
    if (!isRecord(event) || typeof event.type !== 'string') {
      this.fail(upstreamFailure('The Anthropic stream sent an event that is not JSON'))
      return
    }
    // Events of a newer API version than these types are not this stream's business.
    if (!isAnthropicEvent(event)) return
    switch (event.type) {
      case 'message_start':
        this.#start(event.message.id, event.message.model)
        this.#count(countsOf(event.message.usage))
        break
      case 'content_block_start':
        this.#start()
        this.#blockStart(event.index, event.content_block)
        break
      case 'content_block_delta':
        this.#start()
        this.#blockDelta(event.index, event.delta)
        break
      case 'content_block_stop':
        this.#blockStop(event.index)
        break
      case 'message_delta':
        this.#start()
        this.#count(updatedCounts(this.#counts, event.usage))
        this.emit(this.#writer.delta({}, finishReason(event.delta.stop_reason)))
        break
      case 'message_stop':
        this.#start()
        if (this.#includeUsage) this.emit(this.#writer.usage(openAIUsage(this.#counts)))
        this.emit(DONE)
        this.finish()
        break
      case 'ping':
        break
      case 'error':
        this.fail(streamFailure(event))
        break
      default:
        unknownEvent(event)
    }
  }

  protected onEnd (): void {
    this.fail(upstreamFailure('The Anthropic stream ended before message_stop'))
  }

  #start (id?: string, model?: string): void {
    if (this.#started) return
    this.#started = true
    if (typeof id === 'string') this.#writer.id = id
    if (typeof model === 'string') this.#writer.model = model
    this.emit(this.#writer.delta({ role: 'assistant', content: '' }))
  }

  #count (counts: AnthropicCounts): void {
    this.#counts = counts
    this.setUsage(berryUsage(openAIUsage(counts)))
  }

  #text (text: string): void {
    if (text === '') return
    this.emit(this.#writer.delta({ content: text }))
    this.commit()
  }

  #blockStart (index: number, block: ContentBlock): void {
    switch (block.type) {
      case 'text':
        this.#blocks.set(index, { kind: 'text' })
        this.#text(block.text)
        break
      case 'thinking':
        this.#blocks.set(index, { kind: 'thinking' })
        if (block.thinking !== '') this.emit(this.#writer.delta({ reasoning_content: block.thinking }))
        break
      case 'tool_use': {
        const tool = this.#tools++
        this.#blocks.set(index, { kind: 'tool', index: tool, input: block.input, sent: false })
        this.emit(this.#writer.delta({ tool_calls: [{ index: tool, id: block.id, type: 'function', function: { name: block.name, arguments: '' } }] }))
        this.commit()
        break
      }
      case 'redacted_thinking':
      case 'server_tool_use':
      case 'web_search_tool_result':
      case 'web_fetch_tool_result':
      case 'code_execution_tool_result':
      case 'bash_code_execution_tool_result':
      case 'text_editor_code_execution_tool_result':
      case 'tool_search_tool_result':
      case 'container_upload':
        this.#blocks.set(index, { kind: 'other' })
        break
      default:
        this.#blocks.set(index, { kind: 'other' })
        unknownBlock(block)
    }
  }

  #blockDelta (index: number, delta: RawContentBlockDelta): void {
    const block = this.#blocks.get(index)
    switch (delta.type) {
      case 'text_delta':
        if (block?.kind === 'text') this.#text(delta.text)
        break
      case 'thinking_delta':
        if (block?.kind === 'thinking' && delta.thinking !== '') {
          this.emit(this.#writer.delta({ reasoning_content: delta.thinking }))
          // Thinking is the answer under way: held back, a long one would
          // leave the client with no byte until the text.
          this.commit()
        }
        break
      case 'input_json_delta':
        if (block?.kind === 'tool' && delta.partial_json !== '') {
          block.sent = true
          this.emit(this.#writer.delta({ tool_calls: [{ index: block.index, function: { arguments: delta.partial_json } }] }))
        }
        break
      case 'signature_delta':
      case 'citations_delta':
        break
      default:
        unknownDelta(delta)
    }
  }

  /** A tool call whose input came whole or not at all still needs JSON arguments. */
  #blockStop (index: number): void {
    const block = this.#blocks.get(index)
    if (block?.kind !== 'tool' || block.sent) return
    const input = isRecord(block.input) && Object.keys(block.input).length > 0 ? JSON.stringify(block.input) : '{}'
    this.emit(this.#writer.delta({ tool_calls: [{ index: block.index, function: { arguments: input } }] }))
  }
}
