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
import type { Backend, BerryConfig, Provider } from '../config/types.js'
import { modelsRequest, sendCheck, type ModelsRequestBuilder } from './check-request.js'
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
/** A provider and the backends a connectivity check of it speaks for. */
export interface ConnectivityTarget {
  readonly provider: Provider
  readonly backends: Backend[]
}

/** By provider id. */
export function connectivityTargets (config: BerryConfig): Map<string, ConnectivityTarget> {
  const byProvider = new Map<string, ConnectivityTarget>()
  for (const model of config.models.values()) {
    if (model.strategy !== 'smart_ai' || !model.enabled) continue
    for (const backend of activeOf(model)) {
      if (backend.billingMode === 'per_request') continue
      let target = byProvider.get(backend.provider.id)
      if (target === undefined) {
        target = { provider: backend.provider, backends: [] }
        byProvider.set(backend.provider.id, target)
      }
      if (!target.backends.some((b) => b.key === backend.key)) target.backends.push(backend)
    }
  }
  return byProvider
}

export async function runConnectivityChecks (deps: ConnectivityDeps): Promise<Array<{ provider: string, ok: boolean }>> {
  const config = deps.current()
  const build = deps.modelsRequest ?? modelsRequest
  return Promise.all([...connectivityTargets(config).values()].map(async ({ provider, backends }) => {
    const check = await sendCheck(deps.dispatcher, provider.origin, build(provider), config.settings.healthCheckTimeoutMs)
    const now = deps.now()
    for (const backend of backends) deps.health.confidence.connectivity(backend.key, check.ok, now)
    return { provider: provider.id, ok: check.ok }
  }))
}
