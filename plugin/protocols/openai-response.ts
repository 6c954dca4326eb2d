/**
 * OpenAI's answer and stream chunk shapes as converters write them, typed
 * with the official `openai` SDK. Reasoning text goes in `reasoning_content`
 * (DeepSeek's field, which most gateways and clients read); Gemini's thought
 * signatures ride on tool calls as Google's own OpenAI layer carries them.
 */
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionMessage } from 'openai/resources/chat/completions'
import type { CompletionUsage } from 'openai/resources/completions'
import type { Usage } from '../accounting/usage-scanner.js'
import type { ToolCall } from './openai-request.js'
import { dataEvent } from './sse-format.js'

export type FinishReason = ChatCompletion.Choice['finish_reason']

export interface Reasoning {
  reasoning_content?: string
}

export type AnswerMessage = Omit<ChatCompletionMessage, 'tool_calls'> & Reasoning & { tool_calls?: ToolCall[] }

export type Answer = Omit<ChatCompletion, 'choices'> & {
  choices: Array<Omit<ChatCompletion.Choice, 'message'> & { message: AnswerMessage }>
}

export type ChunkToolCall = ChatCompletionChunk.Choice.Delta.ToolCall & Pick<ToolCall, 'extra_content'>

export type ChunkDelta = Omit<ChatCompletionChunk.Choice.Delta, 'tool_calls'> & Reasoning & { tool_calls?: ChunkToolCall[] }

/** Berry's usage record (accounting/usage-scanner.ts) from OpenAI's. */
export function berryUsage (usage: CompletionUsage): Usage {
  return { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens, totalTokens: usage.total_tokens }
}

/** A chunk as ChunkWriter writes it: OpenAI's, with berry's delta (reasoning, Gemini's extras). */
export type Chunk = Omit<ChatCompletionChunk, 'choices'> & { choices: Array<Omit<ChatCompletionChunk.Choice, 'delta'> & { delta: ChunkDelta }> }

/** Writes the chunks of one streamed answer; `id` and `model` may be learned from the first upstream event. */
export class ChunkWriter {
  #id: string
  #model: string
  readonly #created: number
  /** The serialised fields every chunk shares, up to its delta; made anew when `id` or `model` change. */
  #head: string | undefined

  constructor (id: string, model: string, created: number) {
    this.#id = id
    this.#model = model
    this.#created = created
  }

  get id (): string { return this.#id }
  set id (value: string) {
    this.#id = value
    this.#head = undefined
  }

  get model (): string { return this.#model }
  set model (value: string) {
    this.#model = value
    this.#head = undefined
  }

  /**
   * `dataEvent(chunk)` of the chunk `chunkOf` builds, with the fields every
   * chunk shares serialised once: only the delta is new in each. Profiled,
   * serialising the whole chunk was a tenth of a converted stream's CPU.
   * test/protocols/chunk-writer.test.ts holds the two equal byte for byte.
   */
  delta (delta: ChunkDelta, finish: FinishReason | null = null): string {
    this.#head ??= `data: {"id":${JSON.stringify(this.#id)},"object":"chat.completion.chunk","created":${JSON.stringify(this.#created)},"model":${JSON.stringify(this.#model)},"choices":[{"index":0,"delta":`
    return `${this.#head}${JSON.stringify(delta)},"finish_reason":${JSON.stringify(finish)},"logprobs":null}]}\n\n`
  }

  /** The chunk `delta` writes, as an object. */
  chunkOf (delta: ChunkDelta, finish: FinishReason | null = null): Chunk {
    return {
      id: this.#id,
      object: 'chat.completion.chunk',
      created: this.#created,
      model: this.#model,
      choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }]
    }
  }

  /** The last chunk asked for with `stream_options.include_usage`. */
  usage (usage: CompletionUsage): string {
    const chunk: ChatCompletionChunk = { id: this.#id, object: 'chat.completion.chunk', created: this.#created, model: this.#model, choices: [], usage }
    return dataEvent(chunk)
  }
}
