/**
 * `GET /health`: 200 when every enabled model has at least one healthy
 * backend, 503 otherwise, with a summary. Public and free of secrets. While
 * the app closes the status is `draining` (503): balancers stop sending
 * traffic here (drain.ts).
 */
import type { FastifyInstance } from 'fastify'
import type { Runtime } from '../runtime.js'
import { activeBackends } from '../snapshot.js'

export function healthSummary (runtime: Runtime) {
  const snapshot = runtime.snapshot
  const { config } = snapshot
  const unhealthyModels: string[] = []
  let models = 0
  let backends = 0
  let healthyBackends = 0
  for (const model of config.models.values()) {
    if (!model.enabled) continue
    models++
    let healthy = 0
    for (const backend of activeBackends(snapshot, model)) {
      backends++
      if (runtime.health.isHealthy(backend.key)) healthy++
    }
    healthyBackends += healthy
    if (healthy === 0) unhealthyModels.push(model.name)
  }
  let providers = 0
  for (const provider of config.providers.values()) if (provider.enabled) providers++
  return {
    status: runtime.drain.draining ? 'draining' as const : unhealthyModels.length === 0 ? 'ok' as const : 'degraded' as const,
    providers,
    models,
    backends,
    healthy_backends: healthyBackends,
    unhealthy_models: unhealthyModels
  }
}

export function registerHealthRoute (scope: FastifyInstance, runtime: Runtime): void {
  scope.get('/health', async (_request, reply) => {
    const summary = healthSummary(runtime)
    reply.code(summary.status === 'ok' ? 200 : 503)
    return summary
  })
}
