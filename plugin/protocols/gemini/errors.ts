/**
 * Gemini's errors (`{"error": {"code", "message", "status"}}`, as a body or
 * a stream chunk) in OpenAI's terms. The gRPC status names the OpenAI type
 * and is kept as `code`.
 */
import { openAIError } from '../../errors.js'
import { typeForStatus } from '../error-status.js'
import { isRecord, parseJson } from '../json.js'
import type { ConvertedError, StreamFailure } from '../types.js'

const TYPES: Readonly<Record<string, string>> = {
  INVALID_ARGUMENT: 'invalid_request_error',
  FAILED_PRECONDITION: 'invalid_request_error',
  OUT_OF_RANGE: 'invalid_request_error',
  UNAUTHENTICATED: 'authentication_error',
  PERMISSION_DENIED: 'permission_error',
  NOT_FOUND: 'not_found_error',
  RESOURCE_EXHAUSTED: 'rate_limit_error',
  UNAVAILABLE: 'service_unavailable',
  DEADLINE_EXCEEDED: 'timeout_error',
  INTERNAL: 'api_error',
  UNKNOWN: 'api_error'
}

interface GeminiError {
  readonly code: number | undefined
  readonly message: string
  readonly status: string | undefined
  /** Gemini answers a bad key with 400 INVALID_ARGUMENT and this reason. */
  readonly badKey: boolean
}

export function geminiErrorOf (value: unknown): GeminiError | undefined {
  if (!isRecord(value) || !isRecord(value.error)) return undefined
  const { code, message, status, details } = value.error
  if (typeof message !== 'string') return undefined
  const badKey = Array.isArray(details) && details.some((detail) => isRecord(detail) && detail.reason === 'API_KEY_INVALID')
  return { code: typeof code === 'number' ? code : undefined, message, status: typeof status === 'string' ? status : undefined, badKey }
}

function typeOf (error: GeminiError, status: number): string {
  return (error.status === undefined ? undefined : TYPES[error.status]) ?? typeForStatus(status)
}

/** An error chunk in a Gemini stream. */
export function streamFailure (error: GeminiError): StreamFailure {
  const status = error.code !== undefined && error.code >= 400 && error.code < 600 ? error.code : 502
  return { status, type: typeOf(error, status), message: error.message }
}

/**
 * A non-2xx Gemini answer. A rejected key comes as a 400: it is reported as
 * the 401 it is, so the proxy treats it as its own credentials failing and
 * not as the client's mistake.
 */
export function geminiError (status: number, bodyText: string): ConvertedError {
  const error = geminiErrorOf(parseJson(bodyText))
  if (error === undefined) return { status, body: openAIError(`The Gemini backend answered HTTP ${status}`, typeForStatus(status), null) }
  if (error.badKey) return { status: 401, body: openAIError(error.message, 'authentication_error', 'API_KEY_INVALID') }
  return { status, body: openAIError(error.message, typeOf(error, status), error.status ?? null) }
}
