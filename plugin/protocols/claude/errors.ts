/**
 * Anthropic's error types (`{"type":"error","error":{"type","message"}}`, as
 * a body or a stream event) in OpenAI's terms: the HTTP status each stands
 * for and the OpenAI error type. The provider's type is kept as `code`.
 */
import type { ErrorType } from '@anthropic-ai/sdk/resources/shared'
import { openAIError } from '../../errors.js'
import { isRecord, parseJson } from '../json.js'
import { typeForStatus } from '../error-status.js'
import type { ConvertedError, StreamFailure } from '../types.js'

interface Meaning {
  readonly status: number
  readonly type: string
}

const MEANINGS: Readonly<Record<ErrorType, Meaning>> = {
  invalid_request_error: { status: 400, type: 'invalid_request_error' },
  authentication_error: { status: 401, type: 'authentication_error' },
  billing_error: { status: 402, type: 'insufficient_quota' },
  permission_error: { status: 403, type: 'permission_error' },
  not_found_error: { status: 404, type: 'not_found_error' },
  conflict_error: { status: 409, type: 'invalid_request_error' },
  memory_path_conflict_error: { status: 409, type: 'invalid_request_error' },
  memory_precondition_failed_error: { status: 412, type: 'invalid_request_error' },
  rate_limit_error: { status: 429, type: 'rate_limit_error' },
  api_error: { status: 500, type: 'api_error' },
  timeout_error: { status: 504, type: 'timeout_error' },
  overloaded_error: { status: 529, type: 'service_unavailable' }
}

function meaningOf (type: string, status: number): Meaning {
  return (Object.hasOwn(MEANINGS, type) ? Object.entries(MEANINGS).find(([name]) => name === type)?.[1] : undefined) ?? { status, type: typeForStatus(status) }
}

/** The `error` object of an Anthropic error body or event, when it has one. */
function errorObject (value: unknown): { type: string, message: string } | undefined {
  if (!isRecord(value) || !isRecord(value.error)) return undefined
  const { type, message } = value.error
  return typeof type === 'string' && typeof message === 'string' ? { type, message } : undefined
}

/** An `error` event of an Anthropic stream. */
export function streamFailure (event: unknown): StreamFailure {
  const error = errorObject(event)
  if (error === undefined) return { status: 502, type: 'upstream_error', message: 'The Anthropic stream sent an error event without an error' }
  const meaning = meaningOf(error.type, 500)
  return { status: meaning.status, type: meaning.type, message: error.message }
}

/**
 * A non-2xx Anthropic answer. Only the error's own message is kept: a body
 * that is not Anthropic's (a proxy's HTML page) is not copied at all.
 */
export function anthropicError (status: number, bodyText: string): ConvertedError {
  const error = errorObject(parseJson(bodyText))
  if (error === undefined) return { status, body: openAIError(`The Anthropic backend answered HTTP ${status}`, typeForStatus(status), null) }
  return { status, body: openAIError(error.message, meaningOf(error.type, status).type, error.type) }
}
