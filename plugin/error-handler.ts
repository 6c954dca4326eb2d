/**
 * One error handler and one 404 handler for berry's routes: every error
 * leaves in OpenAI's shape `{"error": {"message", "type", "code"}}`.
 * Unexpected errors are logged in full and answered with a generic message:
 * their text may hold internals (addresses, stack frames).
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { BerryError, openAIError, type OpenAIErrorBody } from './errors.js'
import { errorCode } from './json.js'
import { lingerOnRefusedBody } from './lingering-close.js'
import { anthropicClient } from './protocols/claude/client.js'

function typeForStatus (status: number): string {
  if (status === 401) return 'authentication_error'
  if (status === 403) return 'permission_error'
  if (status === 404) return 'not_found_error'
  if (status === 429) return 'rate_limit_error'
  if (status < 500) return 'invalid_request_error'
  return 'api_error'
}

/** Fastify's own client errors, reworded where its text is unhelpful. */
const FASTIFY_MESSAGES: Readonly<Record<string, string>> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "Unsupported content type: send 'Content-Type: application/json'",
  FST_ERR_CTP_BODY_TOO_LARGE: 'The request body is larger than this gateway accepts',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'The request body is empty: send a JSON object',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'The Content-Length header does not match the body'
}

export function renderError (error: FastifyError | BerryError | Error): { status: number, body: OpenAIErrorBody, headers: Record<string, string> | undefined } {
  if (error instanceof BerryError) {
    return { status: error.statusCode, body: openAIError(error.message, error.type, error.code), headers: error.headers }
  }
  const status = 'statusCode' in error ? error.statusCode : undefined
  const code = errorCode(error)
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const message = (code !== undefined && FASTIFY_MESSAGES[code]) || (error instanceof SyntaxError || code === 'FST_ERR_CTP_INVALID_JSON' ? `The request body is not valid JSON: ${error.message}` : error.message)
    return { status, body: openAIError(message, typeForStatus(status), code ?? null), headers: undefined }
  }
  return { status: 500, body: openAIError('Internal error in the gateway', 'api_error', 'BERRY_ERR_INTERNAL'), headers: undefined }
}

/** Renders `error` for the client in the shape `shape` gives (OpenAI's by default). */
function answerError (error: FastifyError, request: FastifyRequest, reply: FastifyReply, shape: (status: number, body: OpenAIErrorBody) => object): void {
  const { status, body, headers } = renderError(error)
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') lingerOnRefusedBody(request.raw, () => reply.removeHeader('connection'))
  if (status >= 500 && !(error instanceof BerryError)) request.log.error({ err: error }, 'unexpected error')
  else if (status >= 500) request.log.warn({ code: body.error.code }, body.error.message)
  if (headers !== undefined) reply.headers(headers)
  reply.code(status).send(shape(status, body))
}

export function berryErrorHandler (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  answerError(error, request, reply, (_status, body) => body)
}

/**
 * Errors on Anthropic's routes (`/v1/messages`) in Anthropic's shape
 * (`{"type": "error", "error": {"type", "message"}}`), which its SDKs and
 * Claude Code read: berry's own (401, 429, the spec's pinned 500) as well as
 * converted upstream errors.
 */
export function anthropicErrorHandler (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  answerError(error, request, reply, anthropicClient.error)
}

export function berryNotFoundHandler (request: FastifyRequest, reply: FastifyReply): void {
  reply.code(404).send(openAIError(`Unknown route: ${request.method} ${request.url.split('?', 1)[0]}`, 'not_found_error', 'BERRY_ERR_NOT_FOUND'))
}
