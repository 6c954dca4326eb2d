/**
 * The TOML configuration as written by a user, checked with typebox.
 *
 * Key names and defaults follow the original Rust system so its configs keep
 * working. Every object is closed (`additionalProperties: false`): an unknown
 * key is an error, never silently dropped. Keys of the original system that
 * berry accepts but does not implement are removed (with a warning) by
 * `load.ts` before this schema sees them.
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

export const STRATEGIES = ['weighted_random', 'failover'] as const

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

export const UserSchema = Type.Object({
  name: Type.Optional(Type.String()),
  token: Type.String({ minLength: 1 }),
  /** Public model names; empty means every model. */
  allowed_models: Type.Optional(Type.Array(Type.String())),
  enabled: Type.Optional(Type.Boolean()),
  tags: Type.Optional(Type.Array(Type.String())),
  rate_limit: Type.Optional(RateLimitSchema)
}, Closed)

export const SettingsSchema = Type.Object({
  request_timeout_seconds: Type.Optional(PositiveSeconds),
  health_check_interval_seconds: Type.Optional(Type.Number({ minimum: 0 })),
  recovery_check_interval_seconds: Type.Optional(PositiveSeconds),
  stream_idle_timeout_seconds: Type.Optional(PositiveSeconds),
  /** Largest JSON request body, in bytes. */
  body_limit: Type.Optional(Count),
  /** Connections per upstream origin (long streams each hold one). */
  connections_per_origin: Type.Optional(Count),
  /** "all", "off", or the user tags allowed to pin a backend. */
  backend_pinning: Type.Optional(Type.Union([Type.Literal('all'), Type.Literal('off'), Type.Array(Type.String())])),
  redis_url: Type.Optional(Type.String({ minLength: 1 })),
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
