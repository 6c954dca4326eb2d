/**
 * The original system's health routes (shapes in status/health-views.ts):
 * `GET /health` and `GET /v1/health` are public and free of secrets;
 * `GET /admin/health` is for users with the `admin` tag. Each answers 200
 * when every enabled model has a healthy backend, else 503. While the app
 * closes, `GET /health` says `draining` (503): balancers stop sending
 * traffic here (drain.ts).
 */
import type { FastifyInstance } from 'fastify'
import { requireAdmin } from '../auth.js'
import type { Runtime } from '../runtime.js'
import { detailedHealth, healthSummary, simpleHealth, type HealthSummary } from '../status/health-views.js'

/** What GET /health answers (and `app.berry.health()` returns). */
export function gatewayHealth (runtime: Runtime): HealthSummary {
  const summary = healthSummary(runtime.snapshot.config, runtime.health, runtime.now())
  return runtime.drain.draining ? { ...summary, status: 'draining', service_running: false } : summary
}

const code = (status: HealthSummary['status']): number => status === 'healthy' ? 200 : 503

/** The public routes; `startedAt` (ms, the gateway's clock) gives /v1/health its uptime. */
export function registerHealthRoutes (scope: FastifyInstance, runtime: Runtime, startedAt: number): void {
  scope.get('/health', async (_request, reply) => {
    const body = gatewayHealth(runtime)
    reply.code(code(body.status))
    return body
  })
  scope.get('/v1/health', async (_request, reply) => {
    const body = simpleHealth(runtime.snapshot.config, runtime.health, runtime.now(), startedAt)
    reply.code(code(body.status))
    return body
  })
}

/** In the authenticated scope: the detailed view names every backend. */
export function registerAdminHealthRoute (scope: FastifyInstance, runtime: Runtime): void {
  scope.get('/admin/health', async (request, reply) => {
    requireAdmin(request)
    const body = detailedHealth(runtime.snapshot.config, runtime.health, runtime.now())
    reply.code(code(body.status))
    return body
  })
}
