/**
 * `GET /health`: 200 when every enabled model has at least one healthy
 * backend, 503 otherwise, with a summary. Public and free of secrets.
 */
import type { FastifyInstance } from 'fastify'
import type { Gateway } from '../gateway.js'

export function healthSummary (gateway: Gateway) {
  const { config } = gateway.current
  const unhealthyModels: string[] = []
  let models = 0
  let backends = 0
  let healthyBackends = 0
  for (const model of config.models.values()) {
    if (!model.enabled) continue
    models++
    let healthy = 0
    for (const backend of model.active) {
      backends++
      if (gateway.health.isHealthy(backend.key)) healthy++
    }
    healthyBackends += healthy
    if (healthy === 0) unhealthyModels.push(model.name)
  }
  let providers = 0
  for (const provider of config.providers.values()) if (provider.enabled) providers++
  return {
    status: unhealthyModels.length === 0 ? 'ok' as const : 'degraded' as const,
    providers,
    models,
    backends,
    healthy_backends: healthyBackends,
    unhealthy_models: unhealthyModels
  }
}

export function registerHealthRoute (scope: FastifyInstance, gateway: Gateway): void {
  scope.get('/health', async (_request, reply) => {
    const summary = healthSummary(gateway)
    reply.code(summary.status === 'ok' ? 200 : 503)
    return summary
  })
}
