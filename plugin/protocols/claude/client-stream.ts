/**
 * The reverse direction: an OpenAI chat completion stream as Anthropic's
 * Messages events, for clients that speak Anthropic:
 *
 * - the first chunk: `message_start` (usage still zero: OpenAI counts at the end);
 * - `content` deltas: a text block (`content_block_start`, `text_delta`s);
 * - `reasoning_content` deltas: a thinking block (`thinking_delta`s);
 * - each tool call: a `tool_use` block, its argument pieces `input_json_delta`s;
 * - a new kind of block closes the open one (`content_block_stop`);
 * - `[DONE]`: `message_delta` with the stop reason and the usage the request
 *   asked OpenAI for, then `message_stop`.
 *
 * An `{"error": ...}` chunk fails the stream; a body that ends with no
 * finish_reason and no `[DONE]` fails too.
 */
import type { RawMessageStreamEvent, StopReason } from '@anthropic-ai/sdk/resources/messages'
import { toUsage } from '../../accounting/usage-scanner.js'
import { EventConverter, upstreamFailure } from '../event-converter.js'
import { isRecord, parseJson } from '../json.js'
import { statusOfErrorType } from '../openai.js'
import { namedEvent } from '../sse-format.js'
import type { SseEvent } from '../sse-parser.js'
import type { StreamFailure } from '../types.js'
import { anthropicUsage, stopReason } from './client-answer.js'

type OpenBlock =
  | { readonly kind: 'text', readonly index: number }
  | { readonly kind: 'thinking', readonly index: number }
  | { readonly kind: 'tool', readonly index: number, readonly call: number }

function write (event: RawMessageStreamEvent): string {
  return namedEvent(event.type, event)
}

function chunkFailure (error: Record<string, unknown>): StreamFailure {
  const type = typeof error.type === 'string' ? error.type : 'api_error'
  const message = typeof error.message === 'string' ? error.message : 'The OpenAI stream sent an error'
  return { status: statusOfErrorType(type), type, message }
}

export class OpenAIToAnthropicStream extends EventConverter {
  #started = false
  #open: OpenBlock | undefined
  #blocks = 0
  /** OpenAI's tool call index to the Anthropic block that carries it. */
  readonly #calls = new Map<number, number>()
  #stop: StopReason | undefined
  #usage: Record<string, unknown> | undefined

  protected onEvent (sse: SseEvent): void {
    if (sse.data === '[DONE]') {
      this.#end()
      return
    }
    const chunk = parseJson(sse.data)
    if (!isRecord(chunk)) {
      this.fail(upstreamFailure('The OpenAI stream sent an event that is not JSON'))
      return
    }
    if (isRecord(chunk.error)) {
      this.fail(chunkFailure(chunk.error))
      return
    }
    this.#start(chunk)
    if (isRecord(chunk.usage)) {
      this.#usage = chunk.usage
      const usage = toUsage(chunk.usage)
      if (usage !== undefined) this.setUsage(usage)
    }
    const choice: unknown = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined
    if (!isRecord(choice)) return
    const delta = isRecord(choice.delta) ? choice.delta : {}
    if (typeof delta.reasoning_content === 'string' && delta.reasoning_content !== '') {
      const index = this.#block('thinking')
      this.emit(write({ type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking: delta.reasoning_content } }))
      this.commit()
    }
    if (typeof delta.content === 'string' && delta.content !== '') {
      const index = this.#block('text')
      this.emit(write({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: delta.content } }))
      this.commit()
    }
    if (Array.isArray(delta.tool_calls)) for (const call of delta.tool_calls) if (isRecord(call)) this.#toolCall(call)
    if (typeof choice.finish_reason === 'string') {
      this.#stop = stopReason(choice.finish_reason)
      this.#close()
    }
  }

  protected onEnd (): void {
    if (this.#stop === undefined) this.fail(upstreamFailure('The OpenAI stream ended before its finish_reason'))
    else this.#end()
  }

  #start (chunk: Record<string, unknown>): void {
    if (this.#started) return
    this.#started = true
    this.emit(write({
      type: 'message_start',
      message: {
        id: typeof chunk.id === 'string' ? chunk.id : '',
        type: 'message',
        role: 'assistant',
        model: typeof chunk.model === 'string' ? chunk.model : '',
        content: [],
        stop_reason: null,
        stop_sequence: null,
        stop_details: null,
        container: null,
        diagnostics: null,
        usage: anthropicUsage(undefined)
      }
    }))
  }

  /** The index of the open block of this kind, opening one (and closing another) when needed. */
  #block (kind: 'text' | 'thinking'): number {
    if (this.#open?.kind === kind) return this.#open.index
    this.#close()
    const index = this.#blocks++
    this.#open = { kind, index }
    this.emit(write({
      type: 'content_block_start',
      index,
      content_block: kind === 'text' ? { type: 'text', text: '', citations: null } : { type: 'thinking', thinking: '', signature: '' }
    }))
    return index
  }

  #toolCall (call: Record<string, unknown>): void {
    const number = typeof call.index === 'number' ? call.index : 0
    const fn = isRecord(call.function) ? call.function : {}
    let index = this.#calls.get(number)
    if (index === undefined) {
      this.#close()
      index = this.#blocks++
      this.#calls.set(number, index)
      this.#open = { kind: 'tool', index, call: number }
      this.emit(write({
        type: 'content_block_start',
        index,
        content_block: {
          type: 'tool_use',
          id: typeof call.id === 'string' ? call.id : '',
          name: typeof fn.name === 'string' ? fn.name : '',
          input: {},
          caller: { type: 'direct' }
        }
      }))
      this.commit()
    }
    if (typeof fn.arguments === 'string' && fn.arguments !== '') {
      this.emit(write({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: fn.arguments } }))
    }
  }

  #close (): void {
    if (this.#open === undefined) return
    this.emit(write({ type: 'content_block_stop', index: this.#open.index }))
    this.#open = undefined
  }

  #end (): void {
    this.#close()
    const usage = anthropicUsage(this.#usage)
    this.emit(write({
      type: 'message_delta',
      delta: { stop_reason: this.#stop ?? 'end_turn', stop_sequence: null, stop_details: null, container: null },
      usage: {
        input_tokens: usage.input_tokens,
        output_tokens: usage.output_tokens,
        cache_read_input_tokens: usage.cache_read_input_tokens,
        cache_creation_input_tokens: usage.cache_creation_input_tokens,
        output_tokens_details: usage.output_tokens_details,
        server_tool_use: null
      }
    }))
    this.emit(write({ type: 'message_stop' }))
    this.finish()
  }
}
