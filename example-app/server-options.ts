/**
 * The host server's options, chosen deliberately for a gateway on the
 * network edge. berry is a plugin: the HTTP server, its timeouts and its
 * request log belong to the host app, so they are set here (and used by
 * server.ts and by the security tests, which run against the same options).
 *
 * Fastify's defaults leave a slow client free to hold a connection for ever:
 * `requestTimeout` and `connectionTimeout` are 0 (off). A slow-loris client
 * that trickles its headers or its body would pin a socket and its memory.
 */
import type { FastifyHttpOptions, FastifyRequest } from 'fastify'
import type { Server } from 'node:http'
import type { Socket } from 'node:net'

export interface ServerLimits {
  /** The request line and headers must arrive within this (slow headers). */
  readonly headersTimeoutMs: number
  /** The whole request, body included, must arrive within this (slow bodies). */
  readonly requestTimeoutMs: number
  /** An idle keep-alive connection is closed after this. */
  readonly keepAliveTimeoutMs: number
  /**
   * A socket with no traffic either way is closed after this. It must exceed
   * the longest silence berry waits through: an upstream's `timeout_seconds`
   * before the first byte and `stream_idle_timeout_seconds` between chunks.
   */
  readonly connectionTimeoutMs: number
  /** How often Node checks the two request timeouts (their granularity). */
  readonly checkIntervalMs: number
  /** Request line plus headers, in bytes; more is answered 431. */
  readonly maxHeaderSize: number
}

export const DEFAULT_SERVER_LIMITS: ServerLimits = Object.freeze({
  headersTimeoutMs: 15_000,
  requestTimeoutMs: 60_000,
  keepAliveTimeoutMs: 30_000,
  connectionTimeoutMs: 600_000,
  checkIntervalMs: 5_000,
  maxHeaderSize: 16_384
})

function openAIErrorResponse (status: number, reason: string, message: string, code: string): string {
  const body = JSON.stringify({ error: { message, type: 'invalid_request_error', code } })
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
}

/**
 * Errors Node's HTTP parser raises before Fastify sees a request (bad bytes,
 * oversized headers, time-outs), answered in OpenAI's error shape like every
 * other berry error. The error itself is not echoed: it can quote the bytes.
 */
export function clientErrorHandler (error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  let response: string
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    response = openAIErrorResponse(408, 'Request Timeout', 'The request was not received in time', 'BERRY_ERR_REQUEST_TIMEOUT')
  } else if (error.code === 'HPE_HEADER_OVERFLOW') {
    response = openAIErrorResponse(431, 'Request Header Fields Too Large', 'The request headers are too large', 'BERRY_ERR_HEADERS_TOO_LARGE')
  } else {
    response = openAIErrorResponse(400, 'Bad Request', 'Malformed HTTP request', 'BERRY_ERR_BAD_HTTP')
  }
  // As Node and Fastify do: write what fits, then drop the connection (a
  // client that misbehaves at this level gets no keep-alive).
  if (socket.writable) socket.write(response)
  socket.destroy()
}

export function serverOptions (overrides: Partial<ServerLimits> = {}): FastifyHttpOptions<Server> {
  const limits = { ...DEFAULT_SERVER_LIMITS, ...overrides }
  return {
    connectionTimeout: limits.connectionTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    http: {
      headersTimeout: limits.headersTimeoutMs,
      connectionsCheckingInterval: limits.checkIntervalMs,
      maxHeaderSize: limits.maxHeaderSize,
      // Node's lenient parser accepts malformed framing (request smuggling).
      insecureHTTPParser: false
    },
    // Fastify's own defaults, stated so that nobody flips them unawares:
    // request ids are berry's (a client's `request-id` must not be trusted),
    // `X-Forwarded-*` are ignored unless a known proxy sits in front, and
    // `__proto__` / `constructor.prototype` in JSON bodies are errors.
    requestIdHeader: false,
    trustProxy: false,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // Routes outside berry keep Fastify's 1 MiB; berry's JSON routes use
    // `settings.body_limit` (default 10 MiB) whatever this says.
    bodyLimit: 1024 * 1024,
    clientErrorHandler,
    // While the app closes, requests still reach their routes: berry then
    // answers its own (503 in OpenAI's shape with Retry-After, /health
    // `draining`) instead of Fastify's generic 503. Fastify still adds
    // `Connection: close` to every answer.
    return503OnClosing: false
  }
}

/** The request URL without its query string: clients do put tokens there. */
function pathOnly (url: string): string {
  const query = url.indexOf('?')
  return query === -1 ? url : `${url.slice(0, query)}?[query omitted]`
}

/**
 * Logger options that keep credentials out of the log at every level: the
 * request line is logged without its query string, and credential headers
 * are redacted should anything log request headers.
 */
export function loggerOptions (level: string) {
  return {
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'req.headers["proxy-authorization"]',
        'req.headers["x-api-key"]',
        'req.headers["api-key"]'
      ],
      censor: '[redacted]'
    },
    serializers: {
      req (request: FastifyRequest) {
        return {
          method: request.method,
          url: pathOnly(request.url),
          host: request.host,
          remoteAddress: request.ip,
          remotePort: request.socket?.remotePort
        }
      }
    }
  }
}
