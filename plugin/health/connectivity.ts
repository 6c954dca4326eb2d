/**
 * smart_ai's lightweight checks (`lightweight_check_interval_seconds`):
 * a free `GET {base_url}/models` per provider that serves a smart_ai model,
 * bounded by `health_check_timeout_seconds`. A failure halves the
 * confidence of the provider's smart_ai backends (never below the floor);
 * a success only records that the provider is reachable. They touch no
 * circuit breaker and spend no tokens. Backends billed per request are not
 * checked (their provider may bill the model list too).
 */
import type { Dispatcher } from 'undici'
import type { Backend, BerryConfig } from '../config/types.js'
import { openAIModelsRequest, sendCheck, type ModelsRequestBuilder } from './check-request.js'
import { activeOf } from '../snapshot.js'
import type { HealthTracker } from './tracker.js'

export interface ConnectivityDeps {
  readonly current: () => BerryConfig
  readonly health: HealthTracker
  readonly dispatcher: Dispatcher
  readonly now: () => number
  readonly modelsRequest?: ModelsRequestBuilder
}

/** smart_ai backends to check, by provider id. */
export function connectivityTargets (config: BerryConfig): Map<string, Backend[]> {
  const byProvider = new Map<string, Backend[]>()
  for (const model of config.models.values()) {
    if (model.strategy !== 'smart_ai' || !model.enabled) continue
    for (const backend of activeOf(model)) {
      if (backend.billingMode === 'per_request') continue
      const list = byProvider.get(backend.provider.id) ?? []
      if (!list.some((b) => b.key === backend.key)) list.push(backend)
      byProvider.set(backend.provider.id, list)
    }
  }
  return byProvider
}

export async function runConnectivityChecks (deps: ConnectivityDeps): Promise<Array<{ provider: string, ok: boolean }>> {
  const config = deps.current()
  const build = deps.modelsRequest ?? openAIModelsRequest
  return Promise.all([...connectivityTargets(config)].map(async ([id, backends]) => {
    const provider = (backends[0] as Backend).provider
    const check = await sendCheck(deps.dispatcher, provider.origin, build(provider), config.settings.healthCheckTimeoutMs)
    const now = deps.now()
    for (const backend of backends) deps.health.confidence.connectivity(backend.key, check.ok, now)
    return { provider: id, ok: check.ok }
  }))
}
