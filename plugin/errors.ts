/**
 * Every error berry raises on purpose, in one place.
 *
 * Each has a stable `code` (BERRY_ERR_*), an HTTP status and an OpenAI error
 * `type`; the error handler (`error-handler.ts`) renders them as
 * `{"error": {"message", "type", "code"}}`. Messages never carry provider
 * keys, user tokens or upstream addresses: only ids from the config.
 */
import { isOneOf } from './json.js'

const ERROR_TYPES = [
  'invalid_request_error',
  'authentication_error',
  'permission_error',
  'not_found_error',
  'rate_limit_error',
  'insufficient_quota',
  'api_error',
  'upstream_error',
  'timeout_error',
  'service_unavailable'
] as const

export type OpenAIErrorType = typeof ERROR_TYPES[number]

export class BerryError extends Error {
  readonly code: string
  readonly statusCode: number
  readonly type: OpenAIErrorType
  /** Extra response headers (Retry-After). */
  readonly headers: Record<string, string> | undefined

  constructor (code: string, statusCode: number, type: OpenAIErrorType, message: string, options?: { cause?: unknown, headers?: Record<string, string> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'BerryError'
    this.code = code
    this.statusCode = statusCode
    this.type = type
    this.headers = options?.headers
  }
}

type Factory<A extends unknown[]> = (...args: A) => BerryError

function define<A extends unknown[]> (code: string, statusCode: number, type: OpenAIErrorType, message: (...args: A) => string): Factory<A> & { code: string } {
  const factory = (...args: A): BerryError => new BerryError(code, statusCode, type, message(...args))
  return Object.assign(factory, { code })
}

// Configuration and options: thrown at register time (app.ready() rejects).
export const InvalidOptions = define('BERRY_ERR_INVALID_OPTS', 500, 'api_error',
  (detail: string) => `Invalid berry options: ${detail}`)
export const InvalidConfig = define('BERRY_ERR_INVALID_CONFIG', 500, 'api_error',
  (problems: readonly string[]) => `Invalid berry config:\n${problems.join('\n')}`)

// Client errors.
export const Unauthenticated = define('BERRY_ERR_UNAUTHENTICATED', 401, 'authentication_error',
  (detail: string) => detail)
export const ModelNotAllowed = define('BERRY_ERR_MODEL_NOT_ALLOWED', 403, 'permission_error',
  (model: string) => `You are not allowed to use model '${model}'`)
export const PinningNotAllowed = define('BERRY_ERR_PINNING_NOT_ALLOWED', 403, 'permission_error',
  () => "You are not allowed to pin a backend with the 'backend' field")
export const AdminOnly = define('BERRY_ERR_ADMIN_ONLY', 403, 'permission_error',
  () => "This endpoint needs a user with the 'admin' tag")
export const InvalidBody = define('BERRY_ERR_INVALID_BODY', 400, 'invalid_request_error',
  (detail: string) => detail)
/** Over a `[users.<id>.rate_limit]` window; the headers say when to come back. */
export function RateLimited (limit: number, window: string, retryAfterSeconds: number, headers: Record<string, string>): BerryError {
  return new BerryError('BERRY_ERR_RATE_LIMITED', 429, 'rate_limit_error',
    `Rate limit reached: ${limit} requests per ${window}. Retry in ${retryAfterSeconds}s`, { headers })
}
/**
 * Over a `[users.<id>.quota]`: OpenAI's own answer to an exhausted quota
 * (429, `insufficient_quota`), so SDKs report it as such; the message says
 * when the quota resets.
 */
export function QuotaExceeded (message: string, headers: Record<string, string>): BerryError {
  return new BerryError('insufficient_quota', 429, 'insufficient_quota', message, { headers })
}
export const InvalidQuery = define('BERRY_ERR_INVALID_QUERY', 400, 'invalid_request_error',
  (detail: string) => detail)
/** The shared usage totals live in Redis, and Redis cannot be reached now. */
export const UsageUnavailable = define('BERRY_ERR_USAGE_UNAVAILABLE', 503, 'service_unavailable',
  () => 'Usage totals are kept in Redis, which cannot be reached now; try again shortly')
/**
 * A request a provider's protocol cannot carry: a parameter that would change
 * the answer and has no equivalent there. Never dropped silently.
 */
export const UnsupportedParameter = define('BERRY_ERR_UNSUPPORTED_PARAMETER', 400, 'invalid_request_error',
  (parameter: string, protocol: string, why: string) => `The parameter '${parameter}' cannot be sent to a backend speaking ${protocol}: ${why}`)
/** A route a backend's protocol cannot carry (Anthropic has no embeddings). */
export const RouteNotServed = define('BERRY_ERR_ROUTE_NOT_SERVED', 400, 'invalid_request_error',
  (route: string, protocol: string) => `A backend speaking ${protocol} does not serve ${route}`)
/** A stored response berry does not know (or that belongs to another user: the same answer, so nothing is revealed). */
export const ResponseNotFound = define('BERRY_ERR_RESPONSE_NOT_FOUND', 404, 'not_found_error',
  (id: string) => `No response with id '${id}' was created through this gateway (or it has expired)`)
/** A `previous_response_id` stored on a backend that does not serve the requested model. */
export const ResponseElsewhere = define('BERRY_ERR_RESPONSE_BACKEND', 400, 'invalid_request_error',
  (id: string, provider: string, model: string) => `The response '${id}' is stored on backend '${provider}', which does not serve model '${model}'`)
export const RouteNotFound = define('BERRY_ERR_NOT_FOUND', 404, 'not_found_error',
  (method: string, path: string) => `Unknown route: ${method} ${path}`)
export const ModelNotFound = define('BERRY_ERR_MODEL_NOT_FOUND', 404, 'not_found_error',
  (model: string) => `The model '${model}' does not exist`)

/**
 * The spec's error for a pinned backend that cannot be used. Status 500 and
 * the message are fixed by the spec, to the letter.
 */
export const PinnedBackendUnavailable = define('BERRY_ERR_BACKEND_UNAVAILABLE', 500, 'api_error',
  (backend: string, model: string, reason: string) => `Specified backend '${backend}' is not available for model '${model}': ${reason}`)

// Upstream trouble. These keep the error behind them (undici's, reply-from's)
// as `cause`, for logs and debuggers; the message never quotes it.
interface Caused { readonly cause?: unknown }

export const NoBackendAvailable = define('BERRY_ERR_NO_BACKEND', 503, 'service_unavailable',
  (model: string, detail: string) => `No backend available for model '${model}': ${detail}`)

/**
 * The gateway is closing (SIGTERM, `app.close()`): nothing is wrong with the
 * request, so the client is told to come back at once, and a keep-alive
 * client (or a load balancer) to open a new connection, which lands on
 * another instance.
 */
export function ShuttingDown (): BerryError {
  return new BerryError('BERRY_ERR_SHUTTING_DOWN', 503, 'service_unavailable', 'The gateway is shutting down; retry the request',
    { headers: { 'retry-after': '1', connection: 'close' } })
}

/**
 * Every connection berry may open to a backend's origin
 * (`connections_per_origin`) stayed busy for as long as a request may wait
 * (`upstream_queue_timeout_seconds`). It says nothing about the backend's
 * health: its circuit is left alone.
 */
export function UpstreamBusy (provider: string, seconds: number): BerryError {
  return new BerryError('BERRY_ERR_UPSTREAM_BUSY', 503, 'service_unavailable',
    `Every connection to backend '${provider}' stayed busy for ${seconds}s; retry shortly`, { headers: { 'retry-after': '1' } })
}

export function UpstreamUnreachable (provider: string, reason: string, options: Caused = {}): BerryError {
  return new BerryError('BERRY_ERR_UPSTREAM_UNREACHABLE', 502, 'upstream_error', `Backend '${provider}' could not be reached: ${reason}`, options)
}

export const UpstreamCredentialsRejected = define('BERRY_ERR_UPSTREAM_AUTH', 502, 'upstream_error',
  (provider: string, status: number) => `Backend '${provider}' rejected the gateway's credentials (HTTP ${status})`)

export function UpstreamTimeout (provider: string, seconds: number, options: Caused = {}): BerryError {
  return new BerryError('BERRY_ERR_UPSTREAM_TIMEOUT', 504, 'timeout_error', `Backend '${provider}' did not answer within ${seconds}s`, options)
}

export function AllAttemptsFailed (model: string, attempts: readonly string[], options: Caused = {}): BerryError {
  return new BerryError('BERRY_ERR_ALL_ATTEMPTS_FAILED', 502, 'upstream_error', `All ${attempts.length} backends tried for model '${model}' failed: ${attempts.join('; ')}`, options)
}

/** A stream that failed in its provider's own words before its first token, with nowhere to fail over to. */
export function UpstreamStreamError (provider: string, failure: { readonly status: number, readonly type: string, readonly message: string }, options: Caused = {}): BerryError {
  const type: OpenAIErrorType = isOneOf(ERROR_TYPES, failure.type) ? failure.type : 'upstream_error'
  return new BerryError('BERRY_ERR_UPSTREAM_STREAM', failure.status, type, `Backend '${provider}' failed before its first token: ${failure.message}`, options)
}

/**
 * Every backend tried answered 429. The client gets what OpenAI itself
 * would send (429, `rate_limit_exceeded`), with the soonest Retry-After of
 * the attempts, so SDKs back off and retry instead of reporting an outage.
 */
export function UpstreamRateLimited (model: string, providers: readonly string[], retryAfterSeconds: number | undefined): BerryError {
  const when = retryAfterSeconds === undefined ? '' : ` Retry in ${retryAfterSeconds}s.`
  return new BerryError('rate_limit_exceeded', 429, 'rate_limit_error',
    `Rate limit reached for model '${model}' on every backend tried (${providers.join(', ')}).${when}`,
    retryAfterSeconds === undefined ? {} : { headers: { 'retry-after': String(retryAfterSeconds) } })
}

/** An upstream's stream event larger than berry will hold: the stream is given up. */
export const UpstreamEventTooLarge = define('BERRY_ERR_UPSTREAM_EVENT_TOO_LARGE', 502, 'upstream_error',
  (limit: number) => `The upstream sent a stream event larger than ${limit} bytes`)

/** A 2xx answer a protocol could not read (not its provider's shape). */
export const UpstreamBadAnswer = define('BERRY_ERR_UPSTREAM_BAD_ANSWER', 502, 'upstream_error',
  (detail: string) => `The upstream's answer could not be converted: ${detail}`)

export interface OpenAIErrorBody {
  error: { message: string, type: string, code: string | null, param?: string | null }
}

export function openAIError (message: string, type: string, code: string | null): OpenAIErrorBody {
  return { error: { message, type, code } }
}
