/**
 * The original system's health views, with its field names, built from
 * berry's config and health tracker (pure: `now` is passed in):
 *
 * - `healthSummary`: GET /health, public. No upstream address, no key.
 * - `simpleHealth`: GET /v1/health, public: counts of providers, models and backends.
 * - `detailedHealth`: GET /admin/health, admin: every provider's models and
 *   every model's backends, and the backends out of rotation.
 *
 * Every view is healthy exactly when every enabled model has a healthy
 * backend that load balancing may use (berry's rule for the 200/503 of
 * /health; the original's "more than half the models" is not kept).
 */
import type { Backend, BerryConfig, Provider } from '../config/types.js'
import type { HealthTracker } from '../health/tracker.js'
import { STRATEGY_NAMES } from '../select/weights-view.js'
import { activeOf } from '../snapshot.js'

export interface HealthRatio {
  readonly total: number
  readonly healthy: number
  readonly ratio: number
}

export interface HealthSummary {
  /** `draining` (berry's own): the app is closing, requests in flight finish (drain.ts). */
  readonly status: 'healthy' | 'unhealthy' | 'draining'
  /** false while draining. */
  readonly service_running: boolean
  readonly summary: {
    readonly provider_health: HealthRatio
    readonly model_health: HealthRatio
  }
  readonly timestamp: string
}

export interface SimpleHealth {
  readonly status: 'healthy' | 'unhealthy'
  readonly service_running: boolean
  readonly models_available: boolean
  readonly summary: {
    readonly providers: { readonly total: number, readonly enabled: number, readonly healthy: number }
    readonly models: { readonly total: number, readonly enabled: number, readonly healthy: number }
    readonly backends: { readonly total: number, readonly healthy: number, readonly health_ratio: number }
  }
  readonly timestamp: string
  readonly uptime_seconds: number
}

export interface BackendHealthEntry {
  readonly healthy: boolean
  readonly latency_ms: number | null
  readonly failure_count: number
  readonly backend_key: string
}

export interface ProviderHealthDetail {
  readonly name: string
  readonly healthy: boolean
  readonly enabled: boolean
  readonly models: Readonly<Record<string, BackendHealthEntry>>
  readonly total_models: number
  readonly healthy_models: number
}

export interface ModelBackendDetail extends BackendHealthEntry {
  readonly provider: string
  readonly model: string
  readonly weight: number
  readonly priority: number
  readonly enabled: boolean
}

export interface ModelHealthDetail {
  readonly name: string
  readonly strategy: string
  readonly enabled: boolean
  readonly backends: readonly ModelBackendDetail[]
  readonly total_backends: number
  readonly healthy_backends: number
  readonly health_ratio: number
}

export interface UnhealthyBackend {
  readonly backend_key: string
  readonly failure_count: number
  /** Seconds since the run of failures began. */
  readonly first_failure: number
  /** Seconds since the last failure. */
  readonly last_failure: number
  readonly recovery_attempts: number
  /** Seconds since the last half-open trial; null before the first. */
  readonly last_recovery_attempt: number | null
}

export interface DetailedHealth extends HealthSummary {
  readonly providers: Readonly<Record<string, ProviderHealthDetail>>
  readonly models: Readonly<Record<string, ModelHealthDetail>>
  readonly unhealthy_backends: readonly UnhealthyBackend[]
}

/** The original's backend key: `provider:model`. */
export const originalKey = (provider: string, model: string): string => `${provider}:${model}`

const ratio = (healthy: number, total: number): number => total === 0 ? 0 : healthy / total
const secondsSince = (now: number, then: number): number => Math.max(0, Math.floor((now - then) / 1000))

/** Backends that can serve: enabled, of an enabled provider, in an enabled model. */
function servingBackends (config: BerryConfig): Backend[] {
  const out: Backend[] = []
  for (const model of config.models.values()) {
    if (!model.enabled) continue
    for (const backend of model.backends) if (backend.enabled && backend.provider.enabled) out.push(backend)
  }
  return out
}

interface Counts {
  readonly providers: HealthRatio
  readonly models: HealthRatio
  readonly healthy: boolean
}

function count (config: BerryConfig, health: HealthTracker): Counts {
  let models = 0
  let healthyModels = 0
  for (const model of config.models.values()) {
    if (!model.enabled) continue
    models++
    if (activeOf(model).some((backend) => health.isHealthy(backend.key))) healthyModels++
  }
  // A provider is healthy when none of its serving backends is out of rotation.
  const sick = new Set<string>()
  for (const backend of servingBackends(config)) if (!health.isHealthy(backend.key)) sick.add(backend.provider.id)
  let providers = 0
  let healthyProviders = 0
  for (const provider of config.providers.values()) {
    if (!provider.enabled) continue
    providers++
    if (!sick.has(provider.id)) healthyProviders++
  }
  return {
    providers: { total: providers, healthy: healthyProviders, ratio: ratio(healthyProviders, providers) },
    models: { total: models, healthy: healthyModels, ratio: ratio(healthyModels, models) },
    healthy: healthyModels === models
  }
}

export function healthSummary (config: BerryConfig, health: HealthTracker, now: number): HealthSummary {
  const counts = count(config, health)
  return {
    status: counts.healthy ? 'healthy' : 'unhealthy',
    // The original reports whether its background health service runs; berry
    // has none to stop, and answers only while it is serving.
    service_running: true,
    summary: { provider_health: counts.providers, model_health: counts.models },
    timestamp: new Date(now).toISOString()
  }
}

export function simpleHealth (config: BerryConfig, health: HealthTracker, now: number, startedAt: number): SimpleHealth {
  const counts = count(config, health)
  const backends = servingBackends(config)
  const healthyBackends = backends.filter((backend) => health.isHealthy(backend.key)).length
  let enabledProviders = 0
  for (const provider of config.providers.values()) if (provider.enabled) enabledProviders++
  return {
    status: counts.healthy ? 'healthy' : 'unhealthy',
    service_running: true,
    models_available: counts.models.healthy > 0,
    summary: {
      providers: { total: config.providers.size, enabled: enabledProviders, healthy: counts.providers.healthy },
      models: { total: config.models.size, enabled: counts.models.total, healthy: counts.models.healthy },
      backends: { total: backends.length, healthy: healthyBackends, health_ratio: ratio(healthyBackends, backends.length) }
    },
    timestamp: new Date(now).toISOString(),
    // The original prints seconds since 1970 here; berry's is its own uptime.
    uptime_seconds: secondsSince(now, startedAt)
  }
}

function entry (health: HealthTracker, provider: string, model: string, key: string | undefined): BackendHealthEntry {
  // A model a provider lists but no backend serves has never been tried: healthy, as in the original.
  const h = key === undefined ? undefined : health.snapshot(key)
  return {
    healthy: h === undefined || h.state === 'healthy',
    latency_ms: h?.lastLatencyMs === undefined ? null : Math.round(h.lastLatencyMs),
    failure_count: h?.consecutiveFailures ?? 0,
    backend_key: originalKey(provider, model)
  }
}

/**
 * A provider's models with their health keys: those its `models` lists (as
 * the original shows them), then the other models its backends serve.
 */
function providerModels (provider: Provider, backends: readonly Backend[]): Map<string, string | undefined> {
  const served = new Map<string, string>()
  for (const backend of backends) if (backend.provider.id === provider.id) served.set(backend.model, backend.key)
  const models = new Map<string, string | undefined>()
  for (const model of provider.models) models.set(model, served.get(model))
  for (const [model, key] of served) if (!models.has(model)) models.set(model, key)
  return models
}

export function detailedHealth (config: BerryConfig, health: HealthTracker, now: number): DetailedHealth {
  const all: Backend[] = []
  for (const model of config.models.values()) all.push(...model.backends)

  const providers: Record<string, ProviderHealthDetail> = {}
  for (const provider of config.providers.values()) {
    if (!provider.enabled) continue
    const models: Record<string, BackendHealthEntry> = {}
    let healthyModels = 0
    const list = providerModels(provider, all)
    for (const [model, key] of list) {
      const e = entry(health, provider.id, model, key)
      models[model] = e
      if (e.healthy) healthyModels++
    }
    providers[provider.id] = { name: provider.name, healthy: healthyModels === list.size, enabled: true, models, total_models: list.size, healthy_models: healthyModels }
  }

  const models: Record<string, ModelHealthDetail> = {}
  for (const model of config.models.values()) {
    if (!model.enabled) continue
    const backends = model.backends
      .filter((backend) => backend.enabled && backend.provider.enabled)
      .map((backend): ModelBackendDetail => ({
        provider: backend.provider.id,
        model: backend.model,
        weight: backend.weight,
        priority: backend.priority,
        enabled: true,
        ...entry(health, backend.provider.id, backend.model, backend.key)
      }))
    const healthy = backends.filter((backend) => backend.healthy).length
    models[model.key] = {
      name: model.name,
      strategy: STRATEGY_NAMES[model.strategy],
      enabled: true,
      backends,
      total_backends: backends.length,
      healthy_backends: healthy,
      health_ratio: ratio(healthy, backends.length)
    }
  }

  const unhealthy: UnhealthyBackend[] = []
  const seen = new Set<string>()
  for (const backend of all) {
    if (seen.has(backend.key)) continue
    seen.add(backend.key)
    const h = health.snapshot(backend.key)
    if (h.state === 'healthy') continue
    unhealthy.push({
      backend_key: originalKey(backend.provider.id, backend.model),
      failure_count: h.consecutiveFailures,
      first_failure: secondsSince(now, h.firstFailureAt),
      last_failure: secondsSince(now, h.lastErrorAt),
      recovery_attempts: h.recoveryAttempts,
      last_recovery_attempt: h.recoveryAttempts === 0 ? null : secondsSince(now, h.trialStartedAt)
    })
  }

  return { ...healthSummary(config, health, now), providers, models, unhealthy_backends: unhealthy }
}
