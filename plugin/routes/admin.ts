/**
 * `GET /admin/backends`: every model's backends with their health, for
 * operators and the berry-health tool. Users with the `admin` tag only.
 * Provider keys appear masked (`sk-...abcd`), never whole.
 */
import type { FastifyInstance } from 'fastify'
import { AdminOnly } from '../errors.js'
import type { Gateway } from '../gateway.js'
import { kUser } from '../symbols.js'
import { hasTag, type BerryUser } from '../user.js'

/** `sk-proj-abcdef123456` -> `sk-...3456`; short keys show nothing. */
export function maskKey (key: string): string {
  if (key === '') return ''
  if (key.length < 12) return '***'
  const dash = key.indexOf('-')
  const head = dash > 0 && dash <= 4 ? key.slice(0, dash + 1) : ''
  return `${head}...${key.slice(-4)}`
}

export function registerAdminRoutes (scope: FastifyInstance, gateway: Gateway): void {
  scope.get('/admin/backends', async (request) => {
    const user = request[kUser] as BerryUser
    if (!hasTag(user, 'admin')) throw AdminOnly()
    const now = gateway.now()
    const { config } = gateway.current
    const models = [...config.models.values()].map((model) => ({
      model: model.name,
      key: model.key,
      enabled: model.enabled,
      strategy: model.strategy,
      backends: model.backends.map((backend) => {
        const health = gateway.health.snapshot(backend.key)
        const available = gateway.health.isAvailable(backend.key, now, backend.provider.breaker)
        const factor = gateway.health.weightFactor(backend.key)
        return {
          provider: backend.provider.id,
          provider_name: backend.provider.name,
          model: backend.model,
          weight: backend.weight,
          effective_weight: backend.enabled && backend.provider.enabled && available ? backend.weight * factor : 0,
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
