/**
 * The Gemini API's REST bodies, built from the official `@google/genai`
 * types. The SDK's enums cannot be used as values through a type-only
 * import, so enum-typed fields take the enum's string literals
 * (`${FunctionCallingConfigMode}`): a renamed member still fails the
 * type-check.
 */
import type {
  BlockedReason,
  Candidate,
  Content,
  FinishReason,
  FunctionCallingConfig,
  FunctionCallingConfigMode,
  GenerateContentResponse,
  GenerateContentResponsePromptFeedback,
  GenerationConfig,
  ThinkingConfig,
  ThinkingLevel,
  Tool,
  ToolConfig
} from '@google/genai'
import { isRecord } from '../json.js'

export type GeminiThinkingConfig = Omit<ThinkingConfig, 'thinkingLevel'> & { thinkingLevel?: `${ThinkingLevel}` }

export type GeminiGenerationConfig = Omit<GenerationConfig, 'thinkingConfig'> & { thinkingConfig?: GeminiThinkingConfig }

export type GeminiFunctionCallingConfig = Omit<FunctionCallingConfig, 'mode'> & { mode?: `${FunctionCallingConfigMode}` }

export type GeminiToolConfig = Omit<ToolConfig, 'functionCallingConfig'> & { functionCallingConfig?: GeminiFunctionCallingConfig }

/** The body of `models/{model}:generateContent` and `:streamGenerateContent`. */
export interface GeminiRequest {
  contents: Content[]
  systemInstruction?: Content
  generationConfig?: GeminiGenerationConfig
  tools?: Tool[]
  toolConfig?: GeminiToolConfig
}

export type GeminiCandidate = Omit<Candidate, 'finishReason'> & { finishReason?: `${FinishReason}` }

export type GeminiPromptFeedback = Omit<GenerateContentResponsePromptFeedback, 'blockReason'> & { blockReason?: `${BlockedReason}` }

/** An answer, or one chunk of a streamed one (the fields the REST API sends). */
export type GeminiResponse = Pick<GenerateContentResponse, 'usageMetadata' | 'modelVersion' | 'responseId'> & {
  candidates?: GeminiCandidate[]
  promptFeedback?: GeminiPromptFeedback
}

/** One request of `models/{model}:batchEmbedContents`. */
export interface GeminiEmbedRequest {
  model: string
  content: Content
  outputDimensionality?: number
}

export interface GeminiBatchEmbedResponse {
  embeddings?: Array<{ values?: number[] }>
}

/**
 * A Gemini answer or stream chunk, read as the SDK types it: its top-level
 * fields are there with the right kind or absent. Deeper fields are read
 * defensively, and one of the wrong shape ends as a TypeError the converter
 * turns into a clean failure.
 */
export function isGeminiResponse (value: Record<string, unknown>): value is Record<string, unknown> & GeminiResponse {
  return (value.candidates === undefined || Array.isArray(value.candidates)) &&
    (value.usageMetadata === undefined || isRecord(value.usageMetadata)) &&
    (value.promptFeedback === undefined || isRecord(value.promptFeedback)) &&
    (value.responseId === undefined || typeof value.responseId === 'string')
}

export function isBatchEmbedResponse (value: Record<string, unknown>): value is Record<string, unknown> & GeminiBatchEmbedResponse {
  const { embeddings } = value
  return Array.isArray(embeddings) && embeddings.every((item) => isRecord(item) && (item.values === undefined || (Array.isArray(item.values) && item.values.every((x) => typeof x === 'number'))))
}
