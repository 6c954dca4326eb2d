/**
 * `GET /metrics`: Prometheus text from berry's registry (the host's own
 * metrics too, when they share it). Prometheus scrapes with an admin user's
 * Bearer token, unless the operator made the route public. Outside the
 * rate-limited scope: scrapes do not eat into the admin's budget.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Registry } from 'prom-client'
import { AdminOnly } from '../errors.js'
import { hasTag, type BerryUser } from '../user.js'

export interface MetricsRouteOptions {
  readonly path: string
  readonly public: boolean
  readonly registry: Registry
  /** Resolves the caller (berry's own authentication); throws 401. */
  readonly authenticate: (request: FastifyRequest) => Promise<BerryUser>
}

export function registerMetricsRoute (scope: FastifyInstance, options: MetricsRouteOptions): void {
  const { registry, authenticate } = options
  const adminOnly = async (request: FastifyRequest): Promise<void> => {
    const user = await authenticate(request)
    if (!hasTag(user, 'admin')) throw AdminOnly()
  }
  scope.get(options.path, {
    ...(options.public ? {} : { onRequest: adminOnly }),
    logLevel: 'warn'
  }, async (_request: FastifyRequest, reply: FastifyReply) => {
    reply.type(registry.contentType)
    return registry.metrics()
  })
}
