/** A Gemini generateContent answer as an OpenAI chat completion. */
import type { FunctionCall, Part } from '@google/genai'
import type { CompletionUsage } from 'openai/resources/completions'
import { UpstreamBadAnswer } from '../../errors.js'
import { isRecord } from '../json.js'
import type { ToolCall } from '../openai-request.js'
import type { Answer, FinishReason } from '../openai-response.js'
import { isGeminiResponse, type GeminiCandidate, type GeminiResponse } from './types.js'

/**
 * Gemini's reasons in OpenAI's words. A stop that ended with function calls
 * is `tool_calls`; every blocking reason is `content_filter`; the token
 * limit, and a continuation Gemini could go on with, are `length`; the failed
 * tool calls (malformed, unexpected, too many) end the answer as `stop`,
 * since OpenAI has no word for them.
 */
export function finishReason (reason: GeminiCandidate['finishReason'], calledTools: boolean): FinishReason {
  switch (reason) {
    case 'STOP':
    case undefined:
      return calledTools ? 'tool_calls' : 'stop'
    case 'MAX_TOKENS':
    case 'CONTINUATION':
      return 'length'
    case 'SAFETY':
    case 'RECITATION':
    case 'LANGUAGE':
    case 'BLOCKLIST':
    case 'PROHIBITED_CONTENT':
    case 'SPII':
    case 'IMAGE_SAFETY':
    case 'IMAGE_PROHIBITED_CONTENT':
    case 'IMAGE_RECITATION':
      return 'content_filter'
    case 'MALFORMED_FUNCTION_CALL':
    case 'UNEXPECTED_TOOL_CALL':
    case 'TOO_MANY_TOOL_CALLS':
    case 'OTHER':
    case 'NO_IMAGE':
    case 'IMAGE_OTHER':
    case 'FINISH_REASON_UNSPECIFIED':
      return 'stop'
    default:
      return unknownReason(reason)
  }
}

function unknownReason (_reason: never): FinishReason {
  return 'stop'
}

function counter (value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0
}

/**
 * Prompt tokens include those of tool-use prompts, completion tokens the
 * model's thoughts (billed as output), so that the total is their sum.
 */
export function openAIUsage (usage: GeminiResponse['usageMetadata']): CompletionUsage {
  const prompt = counter(usage?.promptTokenCount) + counter(usage?.toolUsePromptTokenCount)
  const thoughts = counter(usage?.thoughtsTokenCount)
  const completion = counter(usage?.candidatesTokenCount) + thoughts
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: counter(usage?.cachedContentTokenCount) },
    completion_tokens_details: { reasoning_tokens: thoughts }
  }
}

/** Gemini's calls carry no id (newer models may): a stable one from the answer's id and the call's place. */
export function toolCallId (call: FunctionCall, responseId: string, n: number): string {
  return typeof call.id === 'string' && call.id !== '' ? call.id : `call_${responseId}_${n}`
}

export function toolCall (part: Part & { functionCall: FunctionCall }, id: string): ToolCall {
  const call: ToolCall = { id, type: 'function', function: { name: part.functionCall.name ?? '', arguments: JSON.stringify(part.functionCall.args ?? {}) } }
  if (typeof part.thoughtSignature === 'string') call.extra_content = { google: { thought_signature: part.thoughtSignature } }
  return call
}

export function hasFunctionCall (part: Part): part is Part & { functionCall: FunctionCall } {
  return isRecord(part.functionCall)
}

export function fromGeminiResponse (json: unknown, model: string, created: number, fallbackId: string): Answer {
  if (!isRecord(json) || !isGeminiResponse(json)) throw UpstreamBadAnswer('not a Gemini answer')
  const answer = json
  const id = answer.responseId ?? fallbackId
  const candidate = answer.candidates?.[0]
  const texts: string[] = []
  const thoughts: string[] = []
  const toolCalls: ToolCall[] = []
  for (const part of candidate?.content?.parts ?? []) {
    if (hasFunctionCall(part)) toolCalls.push(toolCall(part, toolCallId(part.functionCall, id, toolCalls.length)))
    else if (typeof part.text === 'string') (part.thought === true ? thoughts : texts).push(part.text)
  }
  // A prompt blocked outright has no candidate, only the feedback saying why.
  const blocked = candidate === undefined && answer.promptFeedback?.blockReason !== undefined
  const text = texts.join('')
  return {
    id,
    object: 'chat.completion',
    created,
    model: answer.modelVersion ?? model,
    choices: [{
      index: 0,
      message: {
        role: 'assistant',
        content: text === '' && toolCalls.length > 0 ? null : text,
        refusal: null,
        ...(thoughts.length > 0 ? { reasoning_content: thoughts.join('') } : {}),
        ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {})
      },
      finish_reason: blocked ? 'content_filter' : finishReason(candidate?.finishReason, toolCalls.length > 0),
      logprobs: null
    }],
    usage: openAIUsage(answer.usageMetadata)
  }
}
