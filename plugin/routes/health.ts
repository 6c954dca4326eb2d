/**
 * The original system's health routes (shapes in status/health-views.ts):
 * `GET /health` and `GET /v1/health` are public and free of secrets;
 * `GET /admin/health` is for users with the `admin` tag. Each answers 200
 * when every enabled model has a healthy backend, else 503.
 */
import type { FastifyInstance } from 'fastify'
import { AdminOnly } from '../errors.js'
import type { Gateway } from '../gateway.js'
import { detailedHealth, healthSummary, simpleHealth, type HealthSummary } from '../status/health-views.js'
import { kUser } from '../symbols.js'
import { hasTag, type BerryUser } from '../user.js'

/** What GET /health answers (and `app.berry.health()` returns). */
export function gatewayHealth (gateway: Gateway): HealthSummary {
  return healthSummary(gateway.current.config, gateway.health, gateway.now())
}

const code = (status: 'healthy' | 'unhealthy'): number => status === 'healthy' ? 200 : 503

/** The public routes; `startedAt` (ms, the gateway's clock) gives /v1/health its uptime. */
export function registerHealthRoutes (scope: FastifyInstance, gateway: Gateway, startedAt: number): void {
  scope.get('/health', async (_request, reply) => {
    const body = gatewayHealth(gateway)
    reply.code(code(body.status))
    return body
  })
  scope.get('/v1/health', async (_request, reply) => {
    const body = simpleHealth(gateway.current.config, gateway.health, gateway.now(), startedAt)
    reply.code(code(body.status))
    return body
  })
}

/** In the authenticated scope: the detailed view names every backend. */
export function registerAdminHealthRoute (scope: FastifyInstance, gateway: Gateway): void {
  scope.get('/admin/health', async (request, reply) => {
    if (!hasTag(request[kUser] as BerryUser, 'admin')) throw AdminOnly()
    const body = detailedHealth(gateway.current.config, gateway.health, gateway.now())
    reply.code(code(body.status))
    return body
  })
}
