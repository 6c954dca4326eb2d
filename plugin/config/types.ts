/**
 * The configuration after loading: defaults applied, references resolved,
 * deeply frozen. Everything downstream reads these types, never the raw TOML.
 */

export interface BreakerSettings {
  readonly failureThreshold: number
  readonly cooldownMs: number
}

export interface Provider {
  readonly id: string
  readonly name: string
  /** Origin only (`https://api.openai.com`): what reply-from dials. */
  readonly origin: string
  /** Path of base_url without a trailing slash (`/v1`, `/openai/v1`, or ''). */
  readonly basePath: string
  /** Query of base_url without '?' (Azure's `api-version=...`), or ''. */
  readonly query: string
  readonly apiKey: string
  readonly models: readonly string[]
  readonly enabled: boolean
  readonly headers: Readonly<Record<string, string>>
  readonly timeoutMs: number
  readonly maxAttempts: number
  readonly breaker: BreakerSettings
  /** PEM text of `ca_file`, trusted for this provider beside the system CAs. */
  readonly ca: string | undefined
  readonly backendType: BackendType
  /** `max_tokens` for a protocol that requires one when the client sent none (Anthropic: 4096, as the original). */
  readonly defaultMaxTokens: number
}

export interface Backend {
  /** Stable identity across reloads: health state is kept under it. */
  readonly key: string
  /** Index in its model's backends array, for messages naming the TOML path. */
  readonly index: number
  readonly provider: Provider
  /** The model name sent upstream. */
  readonly model: string
  readonly weight: number
  readonly priority: number
  readonly enabled: boolean
  readonly tags: readonly string[]
  readonly billingMode: 'per_token' | 'per_request'
}

/** Every strategy name the original system has used; `STRATEGIES` in schema.ts lists them. */
export type Strategy =
  | 'weighted_random'
  | 'failover'
  | 'round_robin'
  | 'least_latency'
  | 'random'
  | 'weighted_failover'
  | 'smart_weighted_failover'
  | 'smart_ai'

/** The protocol a provider speaks (`backend_type`; `anthropic` is read as `claude`). */
export type BackendType = 'openai' | 'claude' | 'gemini'

/** How confidence moves under `smart_ai`, one class per kind of failure. */
export type FailureClass = 'network' | 'auth' | 'rate_limit' | 'server' | 'model' | 'timeout'

/** `[settings.smart_ai]`, with the original's defaults. */
export interface SmartAiSettings {
  readonly initialConfidence: number
  readonly minConfidence: number
  readonly enableTimeDecay: boolean
  /** Free connectivity checks (`GET {base_url}/models`) of smart_ai backends; 0 is off. */
  readonly lightweightCheckIntervalMs: number
  readonly explorationRatio: number
  readonly nonPremiumStabilityBonus: number
  readonly successBoost: number
  readonly penalties: Readonly<Record<FailureClass, number>>
}

export interface Model {
  /** The public name clients send. */
  readonly name: string
  /** The table key under [models]. */
  readonly key: string
  readonly enabled: boolean
  readonly strategy: Strategy
  readonly backends: readonly Backend[]
}

export interface RateLimit {
  readonly perMinute: number | undefined
  readonly perHour: number | undefined
  readonly perDay: number | undefined
}

/** `[users.<id>.quota]`: tokens per UTC day and month, enforced across instances. */
export interface Quota {
  readonly tokensPerDay: number | undefined
  readonly tokensPerMonth: number | undefined
}

export interface User {
  readonly id: string
  readonly name: string
  readonly token: string
  /** Empty means every model. */
  readonly allowedModels: readonly string[]
  readonly enabled: boolean
  readonly tags: readonly string[]
  readonly rateLimit: RateLimit | undefined
  readonly quota: Quota | undefined
}

export type PinningPolicy = 'all' | 'off' | readonly string[]

export interface Settings {
  readonly requestTimeoutMs: number
  readonly healthCheckIntervalMs: number
  /** Recovery checks of open per-token backends (a 1-token completion); 0 is off. */
  readonly recoveryCheckIntervalMs: number
  /** Bounds each probe, connectivity check and recovery check. */
  readonly healthCheckTimeoutMs: number
  /** Draws again when a pick's circuit is open, at most this many times. */
  readonly maxInternalRetries: number
  readonly smartAi: SmartAiSettings
  readonly streamIdleTimeoutMs: number
  readonly bodyLimit: number
  readonly connectionsPerOrigin: number
  /** Longest wait for a free upstream connection. */
  readonly upstreamQueueTimeoutMs: number
  /** Offer HTTP/2 to https upstreams. */
  readonly upstreamHttp2: boolean
  /** How long requests in flight may finish when the app closes. */
  readonly shutdownGraceMs: number
  readonly maxAttempts: number
  readonly breaker: BreakerSettings
  readonly backendPinning: PinningPolicy
  readonly redisUrl: string | undefined
  /** How long a stored response's backend is remembered. */
  readonly storedResponseTtlMs: number
}

export interface BerryConfig {
  readonly providers: ReadonlyMap<string, Provider>
  /** Public models by their public name. */
  readonly models: ReadonlyMap<string, Model>
  /** Public models by table key, for the spec's key-based lookup. */
  readonly modelsByKey: ReadonlyMap<string, Model>
  readonly users: readonly User[]
  readonly settings: Settings
  /** Non-fatal findings (an allowed model that does not exist). */
  readonly warnings: readonly string[]
}
