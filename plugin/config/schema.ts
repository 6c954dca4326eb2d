/**
 * The TOML configuration as written by a user, checked with typebox.
 *
 * Key names and defaults follow the original Rust system so its configs keep
 * working. Every object is closed (`additionalProperties: false`): an unknown
 * key is an error, never silently dropped. Every key the original system
 * reads is here and does what it says (docs/load-balancing.md).
 */
import Type from 'typebox'

const Closed = { additionalProperties: false } as const
const PositiveSeconds = Type.Number({ exclusiveMinimum: 0 })
const Count = Type.Integer({ minimum: 1 })

const Breaker = {
  /** Consecutive failures that open a backend's circuit. */
  circuit_breaker_failure_threshold: Type.Optional(Count),
  /** How long an open circuit cools before one trial request. */
  circuit_breaker_timeout_seconds: Type.Optional(PositiveSeconds),
  /** Attempts in all for one request, first try included. */
  max_retries: Type.Optional(Count)
}

export const ProviderSchema = Type.Object({
  name: Type.Optional(Type.String()),
  base_url: Type.String({ minLength: 1 }),
  /** Empty for keyless local servers: then no Authorization goes upstream. */
  api_key: Type.Optional(Type.String()),
  models: Type.Optional(Type.Array(Type.String())),
  enabled: Type.Optional(Type.Boolean()),
  headers: Type.Optional(Type.Record(Type.String(), Type.String())),
  timeout_seconds: Type.Optional(PositiveSeconds),
  /** PEM file of a CA to trust for this provider, beside the system CAs. */
  ca_file: Type.Optional(Type.String({ minLength: 1 })),
  backend_type: Type.Optional(Type.String()),
  /** `max_tokens` for protocols that require one (Anthropic) when the client sent none. */
  default_max_tokens: Type.Optional(Count),
  ...Breaker
}, Closed)

export const BackendSchema = Type.Object({
  provider: Type.String({ minLength: 1 }),
  model: Type.String({ minLength: 1 }),
  weight: Type.Optional(Type.Number({ minimum: 0 })),
  priority: Type.Optional(Type.Integer({ minimum: 0 })),
  enabled: Type.Optional(Type.Boolean()),
  tags: Type.Optional(Type.Array(Type.String())),
  billing_mode: Type.Optional(Type.Union([Type.Literal('per_token'), Type.Literal('per_request')]))
}, Closed)

/** Every strategy name the original system has used (plugin/select/strategies.ts implements each). */
export const STRATEGIES = [
  'weighted_random',
  'failover',
  'round_robin',
  'least_latency',
  'random',
  'weighted_failover',
  'smart_weighted_failover',
  'smart_ai'
] as const

/** `backend_type` values; `anthropic` is read as `claude`. */
export const BACKEND_TYPES = ['openai', 'claude', 'anthropic', 'gemini'] as const

export const ModelSchema = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1 })),
  enabled: Type.Optional(Type.Boolean()),
  strategy: Type.Optional(Type.String()),
  backends: Type.Array(BackendSchema)
}, Closed)

export const RateLimitSchema = Type.Object({
  requests_per_minute: Type.Optional(Count),
  requests_per_hour: Type.Optional(Count),
  requests_per_day: Type.Optional(Count)
}, Closed)

/** Tokens (prompt + completion) a user may spend per UTC day and per UTC month, across instances. */
export const QuotaSchema = Type.Object({
  tokens_per_day: Type.Optional(Count),
  tokens_per_month: Type.Optional(Count)
}, Closed)

export const UserSchema = Type.Object({
  name: Type.Optional(Type.String()),
  token: Type.String({ minLength: 1 }),
  /** Public model names; empty means every model. */
  allowed_models: Type.Optional(Type.Array(Type.String())),
  enabled: Type.Optional(Type.Boolean()),
  tags: Type.Optional(Type.Array(Type.String())),
  rate_limit: Type.Optional(RateLimitSchema),
  quota: Type.Optional(QuotaSchema)
}, Closed)

const Share = Type.Number({ minimum: 0, maximum: 1 })

export const ConfidenceAdjustmentsSchema = Type.Object({
  success_boost: Type.Optional(Share),
  network_error_penalty: Type.Optional(Share),
  auth_error_penalty: Type.Optional(Share),
  rate_limit_penalty: Type.Optional(Share),
  server_error_penalty: Type.Optional(Share),
  model_error_penalty: Type.Optional(Share),
  timeout_penalty: Type.Optional(Share)
}, Closed)

export const SmartAiSchema = Type.Object({
  initial_confidence: Type.Optional(Share),
  /** The floor: a failing backend keeps this much confidence, so it keeps a trickle of traffic. */
  min_confidence: Type.Optional(Share),
  enable_time_decay: Type.Optional(Type.Boolean()),
  /** Free connectivity checks (`GET {base_url}/models`) of smart_ai backends; 0 is off. */
  lightweight_check_interval_seconds: Type.Optional(Type.Number({ minimum: 0 })),
  exploration_ratio: Type.Optional(Share),
  non_premium_stability_bonus: Type.Optional(Type.Number({ minimum: 0 })),
  confidence_adjustments: Type.Optional(ConfidenceAdjustmentsSchema)
}, Closed)

export const SettingsSchema = Type.Object({
  request_timeout_seconds: Type.Optional(PositiveSeconds),
  health_check_interval_seconds: Type.Optional(Type.Number({ minimum: 0 })),
  /** Recovery checks of open per-token backends; 0 is off. */
  recovery_check_interval_seconds: Type.Optional(Type.Number({ minimum: 0 })),
  /** Bounds each probe, connectivity check and recovery check. */
  health_check_timeout_seconds: Type.Optional(PositiveSeconds),
  /** Draws again when a pick's circuit is open, at most this many times. */
  max_internal_retries: Type.Optional(Type.Integer({ minimum: 0 })),
  smart_ai: Type.Optional(SmartAiSchema),
  stream_idle_timeout_seconds: Type.Optional(PositiveSeconds),
  /** Largest JSON request body, in bytes. */
  body_limit: Type.Optional(Count),
  /** Connections per upstream origin (long streams each hold one over HTTP/1.1). */
  connections_per_origin: Type.Optional(Count),
  /** Longest wait for a free upstream connection before a 503 BERRY_ERR_UPSTREAM_BUSY. */
  upstream_queue_timeout_seconds: Type.Optional(PositiveSeconds),
  /** Offer HTTP/2 to https upstreams (ALPN): many streams on one connection. */
  upstream_http2: Type.Optional(Type.Boolean()),
  /** On close (SIGTERM), how long requests in flight may finish before they are ended. */
  shutdown_grace_seconds: Type.Optional(Type.Number({ minimum: 0 })),
  /** "all", "off", or the user tags allowed to pin a backend. */
  backend_pinning: Type.Optional(Type.Union([Type.Literal('all'), Type.Literal('off'), Type.Array(Type.String())])),
  redis_url: Type.Optional(Type.String({ minLength: 1 })),
  /** How long berry remembers which backend stored a Responses API response (OpenAI keeps them 30 days). */
  stored_response_ttl_seconds: Type.Optional(PositiveSeconds),
  ...Breaker
}, Closed)

export const ConfigSchema = Type.Object({
  providers: Type.Record(Type.String({ minLength: 1 }), ProviderSchema),
  models: Type.Record(Type.String({ minLength: 1 }), ModelSchema),
  users: Type.Optional(Type.Record(Type.String({ minLength: 1 }), UserSchema)),
  settings: Type.Optional(SettingsSchema)
}, Closed)

export type RawConfig = Type.Static<typeof ConfigSchema>
export type RawProvider = Type.Static<typeof ProviderSchema>
export type RawModel = Type.Static<typeof ModelSchema>
export type RawBackend = Type.Static<typeof BackendSchema>
export type RawUser = Type.Static<typeof UserSchema>
export type RawSettings = Type.Static<typeof SettingsSchema>
export type RawSmartAi = Type.Static<typeof SmartAiSchema>
