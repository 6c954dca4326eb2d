/** The reverse direction: OpenAI errors in Anthropic's shape `{"type":"error","error":{"type","message"}}`. */
import type { ErrorResponse, ErrorType } from '@anthropic-ai/sdk/resources/shared'
import type { OpenAIErrorBody } from '../../errors.js'
import { namedEvent } from '../sse-format.js'
import type { StreamFailure } from '../types.js'

type ErrorObjectType = ErrorResponse['error']['type']

const BY_OPENAI_TYPE: Readonly<Record<string, ErrorObjectType>> = {
  invalid_request_error: 'invalid_request_error',
  authentication_error: 'authentication_error',
  permission_error: 'permission_error',
  not_found_error: 'not_found_error',
  rate_limit_error: 'rate_limit_error',
  insufficient_quota: 'billing_error',
  timeout_error: 'timeout_error',
  service_unavailable: 'overloaded_error'
}

/** Anthropic's error type for an OpenAI type, else for the status. */
export function anthropicErrorType (status: number, openAIType: string): ErrorObjectType {
  const byType = BY_OPENAI_TYPE[openAIType]
  if (byType !== undefined) return byType
  if (status === 400 || status === 409 || status === 413 || status === 422) return 'invalid_request_error'
  if (status === 401) return 'authentication_error'
  if (status === 402) return 'billing_error'
  if (status === 403) return 'permission_error'
  if (status === 404) return 'not_found_error'
  if (status === 429) return 'rate_limit_error'
  if (status === 503 || status === 529) return 'overloaded_error'
  if (status === 504) return 'timeout_error'
  return 'api_error'
}

export function toAnthropicError (status: number, body: OpenAIErrorBody): ErrorResponse {
  return { type: 'error', error: { type: anthropicErrorType(status, body.error.type), message: body.error.message }, request_id: null }
}

/** Anthropic's `error` event, which its SDK raises as an APIError. */
export function anthropicStreamError (failure: Pick<StreamFailure, 'type' | 'message'>): Buffer {
  const type: ErrorType = anthropicErrorType(500, failure.type)
  return Buffer.from(namedEvent('error', { type: 'error', error: { type, message: failure.message } }))
}
