/**
 * Redaction of credentials in every log line written for berry's routes,
 * whatever the host's serializers put in them (some log request headers).
 * berry cannot change the host's logger, so it gives its own routes a child
 * of it with pino's `redact`. The redacting child is built once: pino
 * compiles redaction when a child is made with `redact`, and the per-request
 * children inherit it for free.
 */
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'

export const CENSOR = '[redacted]'

const SECRET_HEADERS = ['authorization', 'proxy-authorization', 'x-api-key', 'api-key', 'cookie']

export const REDACT_PATHS: readonly string[] = [
  ...SECRET_HEADERS.flatMap((name) => [`req.headers["${name}"]`, `request.headers["${name}"]`, `headers["${name}"]`]),
  'res.headers["set-cookie"]',
  'reply.headers["set-cookie"]'
]

export function redactBerryLogs (scope: FastifyInstance): void {
  // Fastify's null logger (logging off) makes children of itself: nothing to redact.
  if (scope.log.child({}) === scope.log) return
  const inherited = scope.childLoggerFactory
  let base: FastifyBaseLogger | undefined
  scope.setChildLoggerFactory(function redactingChild (logger, bindings, options, rawRequest) {
    base ??= logger.child({}, { redact: { paths: [...REDACT_PATHS], censor: CENSOR } })
    return inherited.call(this, base, bindings, options, rawRequest)
  })
}
