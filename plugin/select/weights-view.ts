/**
 * The weight view (`GET /smart-ai/weights`, `GET /smart-ai/models/:model/weights`),
 * with the original system's fields and formats: strategy and billing mode
 * as the original's Rust enum names (`SmartAi`, `PerToken`), times as
 * "N seconds ago", error counts by the original's error type names,
 * `weight_distribution` as provider id -> summed effective weight.
 *
 * Where berry differs: every model is listed (berry has several strategies;
 * `total_smart_ai_models` still counts the smart_ai ones), each backend's
 * `effective_weight` is the weight its own strategy draws with now (the
 * original's view used a second formula that disagreed with its selector),
 * an unusable backend (disabled, or its provider) weighs 0, and
 * `health_details` also gives the circuit breaker's state. Pure: health and
 * time come in as arguments.
 */
import type { Backend, BerryConfig, FailureClass, Model, Strategy } from '../config/types.js'
import { FAILURE_CLASSES } from '../health/failure-class.js'
import type { HealthTracker } from '../health/tracker.js'
import { PREMIUM_TAG, smartAiWeight } from './smart-ai.js'
import { TRICKLE_SHARE } from './tiered.js'

/** The original's enum names, as its view printed them (`format!("{:?}")`). */
export const STRATEGY_NAMES: Readonly<Record<Strategy, string>> = {
  weighted_random: 'WeightedRandom',
  failover: 'Failover',
  round_robin: 'RoundRobin',
  least_latency: 'LeastLatency',
  random: 'Random',
  weighted_failover: 'WeightedFailover',
  smart_weighted_failover: 'SmartWeightedFailover',
  smart_ai: 'SmartAi'
}

export const ERROR_TYPE_NAMES: Readonly<Record<FailureClass, string>> = {
  network: 'NetworkError',
  auth: 'AuthError',
  rate_limit: 'RateLimitError',
  server: 'ServerError',
  model: 'ModelError',
  timeout: 'TimeoutError'
}

const BILLING_MODE_NAMES = { per_token: 'PerToken', per_request: 'PerRequest' } as const

/** The original counted a backend as healthy in this view above this confidence. */
export const HEALTHY_CONFIDENCE = 0.6

export interface WeightViewQuery {
  readonly detailed: boolean
  readonly enabledOnly: boolean
}

export interface WeightViewInputs {
  readonly health: HealthTracker
  readonly now: number
}

export interface BackendHealthDetails {
  total_requests: number
  consecutive_successes: number
  consecutive_failures: number
  last_request_time: string | null
  last_success_time: string | null
  last_failure_time: string | null
  error_counts: Record<string, number>
  connectivity_ok: boolean
  last_connectivity_check: string | null
  circuit_state: 'healthy' | 'open' | 'half_open'
}

export interface BackendWeightInfo {
  provider: string
  model: string
  original_weight: number
  effective_weight: number
  confidence: number
  is_premium: boolean
  enabled: boolean
  tags: string[]
  billing_mode: string
  health_details?: BackendHealthDetails
}

export interface ModelWeightInfo {
  name: string
  strategy: string
  enabled: boolean
  backends: BackendWeightInfo[]
  stats: {
    total_backends: number
    enabled_backends: number
    healthy_backends: number
    premium_backends: number
    average_confidence: number
    weight_distribution: Record<string, number>
  }
}

function usable (model: Model, backend: Backend): boolean {
  return model.enabled && backend.enabled && backend.provider.enabled && backend.weight > 0
}

/** The weight `backend` is drawn with under its model's strategy now (0 when it gets no traffic). */
export function effectiveWeight (model: Model, backend: Backend, inputs: WeightViewInputs): number {
  if (!usable(model, backend)) return 0
  const { health, now } = inputs
  if (model.strategy === 'smart_ai') return smartAiWeight(backend, health.confidence.confidence(backend.key, now), health.confidence.settings)
  const available = health.isAvailable(backend.key, now, backend.provider.breaker)
  if (available) return backend.weight * health.weightFactor(backend.key)
  return model.strategy === 'smart_weighted_failover' ? backend.weight * TRICKLE_SHARE : 0
}

function ago (at: number | null, now: number): string | null {
  return at === null ? null : `${Math.max(0, Math.floor((now - at) / 1000))} seconds ago`
}

function healthDetails (backend: Backend, inputs: WeightViewInputs): BackendHealthDetails {
  const { health, now } = inputs
  const record = health.confidence.record(backend.key)
  const errorCounts: Record<string, number> = {}
  for (const kind of FAILURE_CLASSES) {
    const count = record.errorCounts[kind]
    if (count > 0) errorCounts[ERROR_TYPE_NAMES[kind]] = count
  }
  return {
    total_requests: record.totalRequests,
    consecutive_successes: record.consecutiveSuccesses,
    consecutive_failures: record.consecutiveFailures,
    last_request_time: ago(record.lastRequestAt, now),
    last_success_time: ago(record.lastSuccessAt, now),
    last_failure_time: ago(record.lastFailureAt, now),
    error_counts: errorCounts,
    connectivity_ok: record.connectivityOk,
    last_connectivity_check: ago(record.lastConnectivityCheckAt, now),
    circuit_state: health.snapshot(backend.key).state
  }
}

export function modelWeightInfo (model: Model, inputs: WeightViewInputs, query: WeightViewQuery): ModelWeightInfo {
  const backends: BackendWeightInfo[] = []
  const distribution: Record<string, number> = {}
  let enabled = 0
  let healthy = 0
  let premium = 0
  let confidenceSum = 0
  for (const backend of model.backends) {
    const isEnabled = backend.enabled && backend.provider.enabled
    if (query.enabledOnly && !isEnabled) continue
    if (isEnabled) enabled++
    const confidence = inputs.health.confidence.confidence(backend.key, inputs.now)
    const weight = effectiveWeight(model, backend, inputs)
    const isPremium = backend.tags.includes(PREMIUM_TAG)
    if (isPremium) premium++
    if (confidence > HEALTHY_CONFIDENCE) healthy++
    confidenceSum += confidence
    distribution[backend.provider.id] = (distribution[backend.provider.id] ?? 0) + weight
    const info: BackendWeightInfo = {
      provider: backend.provider.id,
      model: backend.model,
      original_weight: backend.weight,
      effective_weight: weight,
      confidence,
      is_premium: isPremium,
      enabled: isEnabled,
      tags: [...backend.tags],
      billing_mode: BILLING_MODE_NAMES[backend.billingMode]
    }
    if (query.detailed) info.health_details = healthDetails(backend, inputs)
    backends.push(info)
  }
  const total = query.enabledOnly ? enabled : model.backends.length
  return {
    name: model.name,
    strategy: STRATEGY_NAMES[model.strategy],
    enabled: model.enabled,
    backends,
    stats: {
      total_backends: total,
      enabled_backends: enabled,
      healthy_backends: healthy,
      premium_backends: premium,
      average_confidence: total > 0 ? confidenceSum / total : 0,
      weight_distribution: distribution
    }
  }
}

/** `GET /smart-ai/weights`. */
export function weightsView (config: BerryConfig, inputs: WeightViewInputs, query: WeightViewQuery) {
  const models = [...config.models.values()]
  return {
    models: models.map((model) => modelWeightInfo(model, inputs, query)),
    total_smart_ai_models: models.filter((m) => m.strategy === 'smart_ai').length,
    available_models: models.map((m) => ({ key: m.key, name: m.name, enabled: m.enabled, strategy: STRATEGY_NAMES[m.strategy] })),
    timestamp: new Date(inputs.now).toISOString(),
    settings: { detailed: query.detailed, enabled_only: query.enabledOnly }
  }
}

/** `GET /smart-ai/models/:model/weights`. */
export function modelWeightsView (model: Model, inputs: WeightViewInputs, query: WeightViewQuery) {
  return { model: modelWeightInfo(model, inputs, query), timestamp: new Date(inputs.now).toISOString() }
}
