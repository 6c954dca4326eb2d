/** An Anthropic Message as an OpenAI chat completion. */
import type { Message, MessageDeltaUsage, StopReason } from '@anthropic-ai/sdk/resources/messages'
import type { CompletionUsage } from 'openai/resources/completions'
import { UpstreamBadAnswer } from '../../errors.js'
import { isRecord } from '../json.js'
import type { ToolCall } from '../openai-request.js'
import type { Answer, FinishReason } from '../openai-response.js'

/**
 * `pause_turn` and `model_context_window_exceeded` end an answer that is not
 * complete: `length` is how OpenAI says "cut short, ask again to go on".
 */
export function finishReason (reason: StopReason | null): FinishReason {
  switch (reason) {
    case 'end_turn':
    case 'stop_sequence':
    case null:
      return 'stop'
    case 'max_tokens':
    case 'pause_turn':
    case 'model_context_window_exceeded':
      return 'length'
    case 'tool_use':
      return 'tool_calls'
    case 'refusal':
      return 'content_filter'
    default:
      return unknownStopReason(reason)
  }
}

/** A stop reason newer than these types: the answer ended, as far as OpenAI can say. */
function unknownStopReason (_reason: never): FinishReason {
  return 'stop'
}

/** The counters Anthropic reports, nullable as in its message_delta events. */
export interface AnthropicCounts {
  input: number
  output: number
  cacheRead: number
  cacheCreation: number
  thinking: number | undefined
}

/**
 * OpenAI's usage: every input token (fresh, read from the cache, written to
 * it) is a prompt token, so `total_tokens` is prompt plus completion.
 */
export function openAIUsage (counts: AnthropicCounts): CompletionUsage {
  const prompt = counts.input + counts.cacheRead + counts.cacheCreation
  return {
    prompt_tokens: prompt,
    completion_tokens: counts.output,
    total_tokens: prompt + counts.output,
    prompt_tokens_details: { cached_tokens: counts.cacheRead, cache_write_tokens: counts.cacheCreation },
    ...(counts.thinking === undefined ? {} : { completion_tokens_details: { reasoning_tokens: counts.thinking } })
  }
}

const ZERO: AnthropicCounts = { input: 0, output: 0, cacheRead: 0, cacheCreation: 0, thinking: undefined }

function counter (value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : fallback
}

/**
 * Counters after a usage report. In message_delta events they are running
 * totals and only output_tokens is always there: a missing one keeps its
 * earlier value.
 */
export function updatedCounts (previous: AnthropicCounts, usage: Partial<MessageDeltaUsage> | undefined): AnthropicCounts {
  const thinking = usage?.output_tokens_details?.thinking_tokens
  return {
    input: counter(usage?.input_tokens, previous.input),
    output: counter(usage?.output_tokens, previous.output),
    cacheRead: counter(usage?.cache_read_input_tokens, previous.cacheRead),
    cacheCreation: counter(usage?.cache_creation_input_tokens, previous.cacheCreation),
    thinking: typeof thinking === 'number' ? thinking : previous.thinking
  }
}

export function countsOf (usage: Partial<MessageDeltaUsage> | undefined): AnthropicCounts {
  return updatedCounts(ZERO, usage)
}

function isMessage (json: unknown): json is Message {
  return isRecord(json) && json.type === 'message' && Array.isArray(json.content)
}

/** Blocks this conversion does not carry (server tools, which berry never declares). */
function otherBlock (_block: never): void {}

export function fromAnthropicMessage (json: unknown, created: number): Answer {
  if (!isMessage(json)) throw UpstreamBadAnswer('not an Anthropic message')
  const texts: string[] = []
  const thoughts: string[] = []
  const toolCalls: ToolCall[] = []
  for (const block of json.content) {
    switch (block.type) {
      case 'text':
        texts.push(block.text)
        break
      case 'thinking':
        thoughts.push(block.thinking)
        break
      case 'tool_use':
        toolCalls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) } })
        break
      case 'redacted_thinking':
      case 'server_tool_use':
      case 'web_search_tool_result':
      case 'web_fetch_tool_result':
      case 'code_execution_tool_result':
      case 'bash_code_execution_tool_result':
      case 'text_editor_code_execution_tool_result':
      case 'tool_search_tool_result':
      case 'container_upload':
        break
      default:
        otherBlock(block)
    }
  }
  const text = texts.join('')
  return {
    id: json.id,
    object: 'chat.completion',
    created,
    model: json.model,
    choices: [{
      index: 0,
      message: {
        role: 'assistant',
        content: text === '' && toolCalls.length > 0 ? null : text,
        refusal: null,
        ...(thoughts.length > 0 ? { reasoning_content: thoughts.join('') } : {}),
        ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {})
      },
      finish_reason: finishReason(json.stop_reason),
      logprobs: null
    }],
    usage: openAIUsage(countsOf(json.usage))
  }
}
