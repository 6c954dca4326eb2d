/**
 * `GET /admin/backends`: every model's backends with their health, for
 * operators and the berry-health tool. Users with the `admin` tag only.
 * Provider keys appear masked (`sk-...abcd`), never whole.
 */
import type { FastifyInstance } from 'fastify'
import { requireAdmin } from '../auth.js'
import type { Runtime } from '../runtime.js'
import { effectiveWeight } from '../select/weights-view.js'

/** `sk-proj-abcdef123456` -> `sk-...3456`; short keys show nothing. */
export function maskKey (key: string): string {
  if (key === '') return ''
  if (key.length < 12) return '***'
  const dash = key.indexOf('-')
  const head = dash > 0 && dash <= 4 ? key.slice(0, dash + 1) : ''
  return `${head}...${key.slice(-4)}`
}

export function registerAdminRoutes (scope: FastifyInstance, runtime: Runtime): void {
  scope.get('/admin/backends', async (request) => {
    requireAdmin(request)
    const now = runtime.now()
    const { config } = runtime.snapshot
    const models = [...config.models.values()].map((model) => ({
      model: model.name,
      key: model.key,
      enabled: model.enabled,
      strategy: model.strategy,
      backends: model.backends.map((backend) => {
        const health = runtime.health.snapshot(backend.key)
        return {
          provider: backend.provider.id,
          provider_name: backend.provider.name,
          model: backend.model,
          weight: backend.weight,
          // What the model's strategy draws with now (smart_ai: its confidence).
          effective_weight: effectiveWeight(model, backend, { health: runtime.health, now }),
          priority: backend.priority,
          enabled: backend.enabled && backend.provider.enabled,
          health: health.state,
          consecutive_failures: health.consecutiveFailures,
          last_error: health.lastError ?? null,
          last_latency_ms: health.lastLatencyMs === undefined ? null : Math.round(health.lastLatencyMs),
          cooldown_until: health.state === 'healthy' ? null : new Date(health.cooldownUntil).toISOString(),
          api_key: maskKey(backend.provider.apiKey)
        }
      })
    }))
    return { models }
  })
}
