/**
 * Optional active probes: every `health_check_interval_seconds`, a
 * `GET {base_url}/models` per enabled provider (it spends no tokens). A
 * failure counts against each of the provider's backends; a success closes
 * the circuit of those whose cooldown is over, like a passed trial request.
 * Backends billed per request are never probed.
 */
import type { Dispatcher } from 'undici'
import type { BerryConfig, Provider } from '../config/types.js'
import type { HealthTracker } from './tracker.js'

export interface ProbeDeps {
  readonly current: () => BerryConfig
  readonly health: HealthTracker
  readonly dispatcher: Dispatcher
  readonly now: () => number
}

export async function probeProvider (provider: Provider, deps: ProbeDeps): Promise<{ ok: boolean, result: string }> {
  const headers: Record<string, string> = { ...provider.headers }
  if (provider.apiKey !== '') headers.authorization = `Bearer ${provider.apiKey}`
  const started = performance.now()
  let ok = false
  let result: string
  try {
    const res = await deps.dispatcher.request({
      origin: provider.origin,
      path: `${provider.basePath}/models${provider.query === '' ? '' : `?${provider.query}`}`,
      method: 'GET',
      headers,
      headersTimeout: provider.timeoutMs,
      bodyTimeout: provider.timeoutMs
    })
    await res.body.dump()
    ok = res.statusCode < 400
    result = `probe HTTP ${res.statusCode}`
  } catch (err) {
    result = `probe failed: ${(err as { code?: string }).code ?? 'error'}`
  }
  const latency = performance.now() - started
  const now = deps.now()
  for (const model of deps.current().models.values()) {
    for (const backend of model.backends) {
      if (backend.provider.id !== provider.id || backend.billingMode === 'per_request') continue
      if (!ok) deps.health.recordFailure(backend.key, { error: result }, now, provider.breaker)
      else if (!deps.health.isHealthy(backend.key) && deps.health.isAvailable(backend.key, now, provider.breaker)) deps.health.recordSuccess(backend.key, latency, now)
    }
  }
  return { ok, result }
}

function probedProviders (config: BerryConfig): Provider[] {
  const ids = new Set<string>()
  for (const model of config.models.values()) {
    for (const backend of model.backends) {
      if (backend.enabled && backend.provider.enabled && backend.billingMode !== 'per_request') ids.add(backend.provider.id)
    }
  }
  return [...ids].map((id) => config.providers.get(id) as Provider)
}

/** Starts the probe loop; returns its stop function. The timer never holds the process open. */
export function startProber (intervalMs: number, deps: ProbeDeps): () => void {
  let running = false
  const timer = setInterval(() => {
    if (running) return
    running = true
    Promise.all(probedProviders(deps.current()).map((p) => probeProvider(p, deps))).finally(() => { running = false })
  }, intervalMs)
  timer.unref()
  return () => clearInterval(timer)
}
