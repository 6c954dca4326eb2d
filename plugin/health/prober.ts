/**
 * Optional active probes: every `health_check_interval_seconds`, a
 * `GET {base_url}/models` per enabled provider (it spends no tokens), each
 * bounded by `health_check_timeout_seconds`. A failure counts against each
 * of the provider's backends; a success closes the circuit of those whose
 * cooldown is over, like a passed trial request. Probes move the breaker
 * only, never smart_ai's confidence (that is learnt from real traffic).
 * Backends billed per request are never probed.
 */
import type { Dispatcher } from 'undici'
import type { BerryConfig, Provider } from '../config/types.js'
import { modelsRequest, sendCheck, type ModelsRequestBuilder } from './check-request.js'
import type { HealthTracker } from './tracker.js'

export interface ProbeDeps {
  readonly current: () => BerryConfig
  readonly health: HealthTracker
  readonly dispatcher: Dispatcher
  readonly now: () => number
  /** The probe request of a provider (default: OpenAI's `GET /models`). */
  readonly modelsRequest?: ModelsRequestBuilder
}

export async function probeProvider (provider: Provider, deps: ProbeDeps): Promise<{ ok: boolean, result: string }> {
  const request = (deps.modelsRequest ?? modelsRequest)(provider)
  const check = await sendCheck(deps.dispatcher, provider.origin, request, deps.current().settings.healthCheckTimeoutMs)
  // Any answer below 400 shows the provider up (a redirect included), as before.
  const ok = check.status !== undefined && check.status < 400
  const result = check.status === undefined ? `probe failed: ${check.result}` : `probe ${check.result}`
  const now = deps.now()
  for (const model of deps.current().models.values()) {
    for (const backend of model.backends) {
      if (backend.provider.id !== provider.id || backend.billingMode === 'per_request') continue
      if (!ok) {
        deps.health.recordFailure(backend.key, { error: result, probe: true, ...(check.status === undefined ? {} : { status: check.status }) }, now, provider.breaker)
      } else if (!deps.health.isHealthy(backend.key) && deps.health.isAvailable(backend.key, now, provider.breaker)) {
        deps.health.recordSuccess(backend.key, check.latencyMs, now, true)
      }
    }
  }
  return { ok, result }
}

export function probedProviders (config: BerryConfig): Provider[] {
  const probed = new Set<Provider>()
  for (const model of config.models.values()) {
    for (const backend of model.backends) {
      if (backend.enabled && backend.provider.enabled && backend.billingMode !== 'per_request') probed.add(backend.provider)
    }
  }
  return [...probed]
}

export async function runProbes (deps: ProbeDeps): Promise<void> {
  await Promise.all(probedProviders(deps.current()).map((p) => probeProvider(p, deps)))
}
