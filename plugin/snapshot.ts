/**
 * Everything berry derives from one loaded config, built in one place when
 * the config is loaded (at register time and on every reload), never in
 * module-level caches. A request reads the snapshot once, in its preHandler,
 * and finishes on what it read, so a reload never changes an index under a
 * request in flight.
 */
import { TokenTable } from './auth.js'
import { hasLimits } from './cluster/quota.js'
import type { Backend, BerryConfig, Model, Provider, Quota, RateLimit } from './config/types.js'
import type { BackendSeries, SeriesSource } from './metrics.js'
import { protocolOf } from './protocols/registry.js'
import type { Api, Protocol } from './protocols/types.js'

/** How berry speaks to one provider: its protocol, and the headers every request to it carries. */
export interface ProviderLink {
  readonly protocol: Protocol
  /** The protocol's credentials, then the provider's `headers` (which override them). */
  readonly headers: Readonly<Record<string, string>>
}

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
  /** Of those, the ones whose protocol serves each route (no Claude backend for embeddings). */
  readonly routable: ReadonlyMap<Model, Readonly<Record<Api, readonly Backend[]>>>
  readonly links: ReadonlyMap<Provider, ProviderLink>
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

/** The headers every request to `provider` carries: its protocol's credentials, then its configured headers, which override them. */
export function providerHeaders (provider: Provider): Record<string, string> {
  // A keyless local server gets no credentials at all.
  const credentials = provider.apiKey === '' ? {} : protocolOf(provider.backendType).credentials(provider.apiKey)
  return { ...credentials, ...provider.headers }
}

function newLink (provider: Provider): ProviderLink {
  return { protocol: protocolOf(provider.backendType), headers: Object.freeze(providerHeaders(provider)) }
}

export function buildSnapshot (config: BerryConfig, series: SeriesSource): Snapshot {
  const links = new Map<Provider, ProviderLink>()
  for (const provider of config.providers.values()) links.set(provider, newLink(provider))
  const active = new Map<Model, readonly Backend[]>()
  const routable = new Map<Model, Readonly<Record<Api, readonly Backend[]>>>()
  const seriesOf = new Map<Backend, BackendSeries>()
  for (const model of config.models.values()) {
    const backends = Object.freeze(activeOf(model))
    active.set(model, backends)
    const serving = (api: Api): readonly Backend[] => Object.freeze(backends.filter((b) => links.get(b.provider)?.protocol.serves(api) === true))
    routable.set(model, Object.freeze({
      chat: serving('chat'),
      completions: serving('completions'),
      embeddings: serving('embeddings'),
      responses: serving('responses'),
      moderations: serving('moderations'),
      images: serving('images'),
      speech: serving('speech'),
      messages: serving('messages'),
      count_tokens: serving('count_tokens')
    }))
    for (const backend of model.backends) seriesOf.set(backend, series.series(model.name, backend.provider.id))
  }
  return Object.freeze({
    config,
    tokens: new TokenTable(config),
    rateLimits: rateLimitsOf(config),
    quotas: quotasOf(config),
    active,
    routable,
    links,
    series: seriesOf
  })
}

/** The active backends of `model` in `snapshot` (none for a model of another config). */
export function activeBackends (snapshot: Snapshot, model: Model): readonly Backend[] {
  return snapshot.active.get(model) ?? []
}

/** The active backends of `model` that can serve `api`. */
export function routableBackends (snapshot: Snapshot, model: Model, api: Api): readonly Backend[] {
  return snapshot.routable.get(model)?.[api] ?? []
}

/** How to speak to `provider` (every provider of the snapshot's config has a link). */
export function linkOf (snapshot: Snapshot, provider: Provider): ProviderLink {
  const link = snapshot.links.get(provider)
  if (link === undefined) throw new Error(`berry: provider '${provider.id}' is not in this snapshot`)
  return link
}
