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

/** Writes the chunks of one streamed answer; `id` and `model` may be learned from the first upstream event. */
export class ChunkWriter {
  id: string
  model: string
  readonly #created: number

  constructor (id: string, model: string, created: number) {
    this.id = id
    this.model = model
    this.#created = created
  }

  delta (delta: ChunkDelta, finish: FinishReason | null = null): string {
    const chunk: Omit<ChatCompletionChunk, 'choices'> & { choices: Array<Omit<ChatCompletionChunk.Choice, 'delta'> & { delta: ChunkDelta }> } = {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.#created,
      model: this.model,
      choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }]
    }
    return dataEvent(chunk)
  }

  /** The last chunk asked for with `stream_options.include_usage`. */
  usage (usage: CompletionUsage): string {
    const chunk: ChatCompletionChunk = { id: this.id, object: 'chat.completion.chunk', created: this.#created, model: this.model, choices: [], usage }
    return dataEvent(chunk)
  }
}
