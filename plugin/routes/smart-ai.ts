/**
 * `GET /smart-ai/weights` and `GET /smart-ai/models/:model/weights`: each
 * model's backends with their configured and effective weights and
 * confidence (select/weights-view.ts builds the body). Users with the
 * `admin` tag only: the original left them open, but they reveal providers
 * and health. Query: `detailed` (default false) adds `health_details`;
 * `enabled_only` (default true) leaves disabled backends out.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { requireAdmin } from '../auth.js'
import { InvalidBody, ModelNotFound } from '../errors.js'
import { isRecord } from '../json.js'
import type { Runtime } from '../runtime.js'
import { findModel } from '../select/lookup.js'
import { modelWeightsView, weightsView, type WeightViewQuery } from '../select/weights-view.js'

function flag (query: Record<string, unknown>, name: string, fallback: boolean): boolean {
  const value = query[name]
  if (value === undefined) return fallback
  if (value === 'true' || value === '1') return true
  if (value === 'false' || value === '0') return false
  throw InvalidBody(`'${name}' must be true or false`)
}

function viewQuery (request: FastifyRequest): WeightViewQuery {
  requireAdmin(request)
  const query = isRecord(request.query) ? request.query : {}
  return { detailed: flag(query, 'detailed', false), enabledOnly: flag(query, 'enabled_only', true) }
}

export function registerSmartAiRoutes (scope: FastifyInstance, runtime: Runtime): void {
  scope.get('/smart-ai/weights', async (request) => {
    const query = viewQuery(request)
    return weightsView(runtime.snapshot.config, { health: runtime.health, now: runtime.now() }, query)
  })

  scope.get<{ Params: { model: string } }>('/smart-ai/models/:model/weights', async (request) => {
    const query = viewQuery(request)
    const model = findModel(runtime.snapshot.config, request.params.model)
    if (model === undefined) throw ModelNotFound(request.params.model)
    return modelWeightsView(model, { health: runtime.health, now: runtime.now() }, query)
  })
}
