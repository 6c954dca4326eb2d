/** `GET /v1/models` and `GET /models`: OpenAI's list shape, filtered by the caller's permissions. */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { callerOf } from '../auth.js'
import type { Runtime } from '../runtime.js'
import { candidatesFor } from '../select/dispatch.js'
import { userMayUse } from '../select/lookup.js'
import { activeBackends } from '../snapshot.js'

export function registerModelRoutes (scope: FastifyInstance, runtime: Runtime, startedAt: number): void {
  const handler = async (request: FastifyRequest) => {
    const user = callerOf(request)
    const snapshot = runtime.snapshot
    const { config } = snapshot
    const data = []
    for (const model of config.models.values()) {
      // Only models this caller can be served: allowed, and a backend their tags reach.
      if (!model.enabled || !userMayUse(user, model, config) || candidatesFor(activeBackends(snapshot, model), user).length === 0) continue
      data.push({ id: model.name, object: 'model', created: startedAt, owned_by: 'berry' })
    }
    return { object: 'list', data }
  }
  scope.get('/v1/models', handler)
  scope.get('/models', handler)
}
