/**
 * Everything berry derives from one loaded config, built in one place when
 * the config is loaded (at register time and on every reload), never in
 * module-level caches. A request reads the snapshot once, in its preHandler,
 * and finishes on what it read, so a reload never changes an index under a
 * request in flight.
 */
import { TokenTable } from './auth.js'
import { hasLimits } from './cluster/quota.js'
import type { Backend, BerryConfig, Model, Quota, RateLimit } from './config/types.js'
import type { BackendSeries, SeriesSource } from './metrics.js'

export interface Snapshot {
  readonly config: BerryConfig
  /** Users by token digest (auth.ts). */
  readonly tokens: TokenTable
  /** Users with at least one `[users.<id>.rate_limit]` window, by id. */
  readonly rateLimits: ReadonlyMap<string, RateLimit>
  /** Users with a `[users.<id>.quota]` that limits something, by id. */
  readonly quotas: ReadonlyMap<string, Quota>
  /** The backends load balancing may use, per model: enabled, of an enabled provider, weight > 0. */
  readonly active: ReadonlyMap<Model, readonly Backend[]>
  /** Each backend's metric series, so accounting looks nothing up by label on the hot path. */
  readonly series: ReadonlyMap<Backend, BackendSeries>
}

function rateLimitsOf (config: BerryConfig): Map<string, RateLimit> {
  const limits = new Map<string, RateLimit>()
  for (const user of config.users) {
    const limit = user.rateLimit
    if (limit !== undefined && (limit.perMinute !== undefined || limit.perHour !== undefined || limit.perDay !== undefined)) {
      limits.set(user.id, limit)
    }
  }
  return limits
}

function quotasOf (config: BerryConfig): Map<string, Quota> {
  const quotas = new Map<string, Quota>()
  for (const user of config.users) {
    if (user.quota !== undefined && hasLimits(user.quota)) quotas.set(user.id, user.quota)
  }
  return quotas
}

/** The backends of `model` load balancing may use: enabled, of an enabled provider, weight > 0. */
export function activeOf (model: Model): readonly Backend[] {
  return model.backends.filter((b) => b.enabled && b.provider.enabled && b.weight > 0)
}

export function buildSnapshot (config: BerryConfig, series: SeriesSource): Snapshot {
  const active = new Map<Model, readonly Backend[]>()
  const seriesOf = new Map<Backend, BackendSeries>()
  for (const model of config.models.values()) {
    active.set(model, Object.freeze(activeOf(model)))
    for (const backend of model.backends) seriesOf.set(backend, series.series(model.name, backend.provider.id))
  }
  return Object.freeze({
    config,
    tokens: new TokenTable(config),
    rateLimits: rateLimitsOf(config),
    quotas: quotasOf(config),
    active,
    series: seriesOf
  })
}

/** The active backends of `model` in `snapshot` (none for a model of another config). */
export function activeBackends (snapshot: Snapshot, model: Model): readonly Backend[] {
  return snapshot.active.get(model) ?? []
}
