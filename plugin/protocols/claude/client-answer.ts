/** The reverse direction: an OpenAI chat completion as an Anthropic Message. */
import type { ContentBlock, Message, StopReason, Usage as AnthropicUsage } from '@anthropic-ai/sdk/resources/messages'
import type { CompletionUsage } from 'openai/resources/completions'
import { UpstreamBadAnswer } from '../../errors.js'
import { isRecord, parseJson } from '../json.js'

/** OpenAI's finish_reason (any value an upstream sent) as Anthropic's stop_reason. */
export function stopReason (finish: unknown): StopReason {
  switch (finish) {
    case 'length': return 'max_tokens'
    case 'tool_calls':
    case 'function_call': return 'tool_use'
    case 'content_filter': return 'refusal'
    default: return 'end_turn'
  }
}

function counter (value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0
}

/**
 * Anthropic counts fresh input apart from cache reads and writes; OpenAI's
 * prompt_tokens holds all three.
 */
export function anthropicUsage (usage: Partial<CompletionUsage> | null | undefined): AnthropicUsage {
  const cached = counter(usage?.prompt_tokens_details?.cached_tokens)
  const written = counter(usage?.prompt_tokens_details?.cache_write_tokens)
  const reasoning = usage?.completion_tokens_details?.reasoning_tokens
  return {
    input_tokens: Math.max(0, counter(usage?.prompt_tokens) - cached - written),
    output_tokens: counter(usage?.completion_tokens),
    cache_read_input_tokens: cached,
    cache_creation_input_tokens: written,
    cache_creation: null,
    inference_geo: null,
    output_tokens_details: typeof reasoning === 'number' ? { thinking_tokens: reasoning } : null,
    server_tool_use: null,
    service_tier: null,
    speed: null
  }
}

/** A tool call's arguments as Anthropic's `input` object. */
export function toolInput (args: unknown): Record<string, unknown> {
  if (typeof args !== 'string' || args.trim() === '') return {}
  const input = parseJson(args)
  if (!isRecord(input)) throw UpstreamBadAnswer('a tool call\'s arguments are not a JSON object')
  return input
}

export function toAnthropicMessage (json: unknown): Message {
  if (!isRecord(json) || !Array.isArray(json.choices)) throw UpstreamBadAnswer('not an OpenAI chat completion')
  const choice: unknown = json.choices[0]
  const message = isRecord(choice) && isRecord(choice.message) ? choice.message : {}
  const content: ContentBlock[] = []
  // Reasoning text (DeepSeek's field) is shown as thinking; it has no signature to give.
  if (typeof message.reasoning_content === 'string' && message.reasoning_content !== '') {
    content.push({ type: 'thinking', thinking: message.reasoning_content, signature: '' })
  }
  if (typeof message.content === 'string' && message.content !== '') content.push({ type: 'text', text: message.content, citations: null })
  for (const call of Array.isArray(message.tool_calls) ? message.tool_calls : []) {
    if (!isRecord(call) || call.type !== 'function' || !isRecord(call.function)) continue
    content.push({
      type: 'tool_use',
      id: typeof call.id === 'string' ? call.id : '',
      name: typeof call.function.name === 'string' ? call.function.name : '',
      input: toolInput(call.function.arguments),
      caller: { type: 'direct' }
    })
  }
  const finish = isRecord(choice) ? choice.finish_reason : undefined
  return {
    id: typeof json.id === 'string' ? json.id : '',
    type: 'message',
    role: 'assistant',
    model: typeof json.model === 'string' ? json.model : '',
    content,
    stop_reason: stopReason(finish),
    stop_sequence: null,
    stop_details: null,
    container: null,
    diagnostics: null,
    usage: anthropicUsage(isRecord(json.usage) ? json.usage : undefined)
  }
}
