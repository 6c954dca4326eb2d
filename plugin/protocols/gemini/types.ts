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
