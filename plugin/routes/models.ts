/** `GET /v1/models` and `GET /models`: OpenAI's list shape, filtered by the caller's permissions. */
import type { FastifyInstance } from 'fastify'
import type { Gateway } from '../gateway.js'
import { userMayUse } from '../select/lookup.js'
import { kUser } from '../symbols.js'
import type { BerryUser } from '../user.js'

export function registerModelRoutes (scope: FastifyInstance, gateway: Gateway, startedAt: number): void {
  const handler = async (request: { [kUser]: BerryUser | null }) => {
    const user = request[kUser] as BerryUser
    const { config } = gateway.current
    const data = []
    for (const model of config.models.values()) {
      if (!model.enabled || model.active.length === 0 || !userMayUse(user, model, config)) continue
      data.push({ id: model.name, object: 'model', created: startedAt, owned_by: 'berry' })
    }
    return { object: 'list', data }
  }
  scope.get('/v1/models', handler)
  scope.get('/models', handler)
}
