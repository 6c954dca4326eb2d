/**
 * Config source -> frozen, resolved `BerryConfig`, or a `BERRY_ERR_INVALID_CONFIG`
 * error listing every problem, one per line, each naming its TOML path.
 */
import { readFileSync } from 'node:fs'
import { InvalidConfig } from '../errors.js'
import { errorCode, isOneOf, isRecord } from '../json.js'
import { modelKeyOf } from '../select/lookup.js'
import { BACKEND_TYPES, STRATEGIES, type RawBackend, type RawConfig, type RawModel, type RawProvider, type RawSettings, type RawUser } from './schema.js'
import { checker, schemaProblems } from './problems.js'
import { readConfigSource, substituteEnv, type ConfigSource } from './source.js'
import { resolveSmartAi } from './smart-ai.js'
import type { Backend, BackendType, BerryConfig, BreakerSettings, Model, PinningPolicy, Provider, Settings, Strategy, User } from './types.js'

export const DEFAULT_TIMEOUT_SECONDS = 30
export const DEFAULT_MAX_ATTEMPTS = 3
export const DEFAULT_FAILURE_THRESHOLD = 5
export const DEFAULT_COOLDOWN_SECONDS = 60
export const DEFAULT_RECOVERY_CHECK_SECONDS = 120
export const DEFAULT_HEALTH_CHECK_TIMEOUT_SECONDS = 10
export const DEFAULT_MAX_INTERNAL_RETRIES = 2
export const DEFAULT_STREAM_IDLE_TIMEOUT_SECONDS = 60
export const DEFAULT_BODY_LIMIT = 10 * 1024 * 1024
export const DEFAULT_CONNECTIONS_PER_ORIGIN = 1024
/** OpenAI keeps stored responses for 30 days. */
export const DEFAULT_STORED_RESPONSE_TTL_SECONDS = 30 * 24 * 3600
/** The original's `max_tokens` for Claude when the client sends none. */
export const DEFAULT_MAX_TOKENS = 4096
export const DEFAULT_UPSTREAM_QUEUE_TIMEOUT_SECONDS = 10
export const DEFAULT_SHUTDOWN_GRACE_SECONDS = 30

export interface LoadOptions {
  env?: NodeJS.ProcessEnv
}

export function loadConfig (source: ConfigSource, options: LoadOptions = {}): BerryConfig {
  const read = readConfigSource(source)
  if (read.problems.length > 0) throw InvalidConfig(read.problems)

  const problems: string[] = []
  const warnings: string[] = []
  const value = substituteEnv(read.value, options.env ?? process.env, '', problems)
  if (!isRecord(value)) throw InvalidConfig(['(root): the config must be a table'])
  if (!checker.Check(value)) {
    problems.push(...schemaProblems(value))
    throw InvalidConfig(problems)
  }
  const resolved = resolve(value, problems, warnings)
  if (problems.length > 0) throw InvalidConfig(problems)
  return resolved
}

function breakerOf (raw: RawSettings | RawProvider | undefined, fallback: BreakerSettings): BreakerSettings {
  return {
    failureThreshold: raw?.circuit_breaker_failure_threshold ?? fallback.failureThreshold,
    cooldownMs: raw?.circuit_breaker_timeout_seconds === undefined ? fallback.cooldownMs : raw.circuit_breaker_timeout_seconds * 1000
  }
}

function resolveSettings (raw: RawSettings | undefined, problems: string[]): Settings {
  const pinning: PinningPolicy = Array.isArray(raw?.backend_pinning) ? Object.freeze([...raw.backend_pinning]) : (raw?.backend_pinning ?? 'all')
  return {
    requestTimeoutMs: (raw?.request_timeout_seconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000,
    healthCheckIntervalMs: (raw?.health_check_interval_seconds ?? 0) * 1000,
    recoveryCheckIntervalMs: (raw?.recovery_check_interval_seconds ?? DEFAULT_RECOVERY_CHECK_SECONDS) * 1000,
    healthCheckTimeoutMs: (raw?.health_check_timeout_seconds ?? DEFAULT_HEALTH_CHECK_TIMEOUT_SECONDS) * 1000,
    maxInternalRetries: raw?.max_internal_retries ?? DEFAULT_MAX_INTERNAL_RETRIES,
    smartAi: resolveSmartAi(raw?.smart_ai, problems),
    streamIdleTimeoutMs: (raw?.stream_idle_timeout_seconds ?? DEFAULT_STREAM_IDLE_TIMEOUT_SECONDS) * 1000,
    bodyLimit: raw?.body_limit ?? DEFAULT_BODY_LIMIT,
    connectionsPerOrigin: raw?.connections_per_origin ?? DEFAULT_CONNECTIONS_PER_ORIGIN,
    upstreamQueueTimeoutMs: (raw?.upstream_queue_timeout_seconds ?? DEFAULT_UPSTREAM_QUEUE_TIMEOUT_SECONDS) * 1000,
    upstreamHttp2: raw?.upstream_http2 ?? false,
    shutdownGraceMs: (raw?.shutdown_grace_seconds ?? DEFAULT_SHUTDOWN_GRACE_SECONDS) * 1000,
    maxAttempts: raw?.max_retries ?? DEFAULT_MAX_ATTEMPTS,
    breaker: breakerOf(raw, { failureThreshold: DEFAULT_FAILURE_THRESHOLD, cooldownMs: DEFAULT_COOLDOWN_SECONDS * 1000 }),
    backendPinning: pinning,
    redisUrl: raw?.redis_url,
    storedResponseTtlMs: (raw?.stored_response_ttl_seconds ?? DEFAULT_STORED_RESPONSE_TTL_SECONDS) * 1000
  }
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
// Headers berry owns on the upstream request; a provider may not override them.
const RESERVED_HEADERS = new Set(['host', 'content-length', 'content-type', 'transfer-encoding', 'connection'])

/** `backend_type` values as written, to the protocol berry speaks (`anthropic` is the original's other name for `claude`). */
const BACKEND_TYPE_NAMES: Readonly<Record<(typeof BACKEND_TYPES)[number], BackendType>> = { openai: 'openai', claude: 'claude', anthropic: 'claude', gemini: 'gemini' }

function resolveBackendType (at: string, raw: string | undefined, problems: string[]): BackendType {
  if (raw === undefined) return 'openai'
  if (!isOneOf(BACKEND_TYPES, raw)) {
    problems.push(`${at}.backend_type: unknown backend type '${raw}' (one of ${BACKEND_TYPES.join(', ')})`)
    return 'openai'
  }
  return BACKEND_TYPE_NAMES[raw]
}

function resolveProvider (id: string, raw: RawProvider, settings: Settings, problems: string[]): Provider | undefined {
  const at = `providers.${id}`
  const backendType = resolveBackendType(at, raw.backend_type, problems)
  let url: URL
  try {
    url = new URL(raw.base_url)
  } catch {
    problems.push(`${at}.base_url: not a valid URL`)
    return undefined
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    problems.push(`${at}.base_url: must be an http:// or https:// URL`)
    return undefined
  }
  if (url.username !== '' || url.password !== '') {
    problems.push(`${at}.base_url: must not carry credentials; use api_key or headers`)
  }
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(raw.headers ?? {})) {
    if (!HEADER_NAME.test(name)) problems.push(`${at}.headers.${name}: not a valid header name`)
    else if (RESERVED_HEADERS.has(name.toLowerCase())) problems.push(`${at}.headers.${name}: berry sets this header itself`)
    else if (/[\r\n\0]/.test(value)) problems.push(`${at}.headers.${name}: the value must not contain CR, LF or NUL`)
    else headers[name.toLowerCase()] = value
  }
  const apiKey = raw.api_key ?? ''
  if (/[\r\n\0]/.test(apiKey)) problems.push(`${at}.api_key: must not contain CR, LF or NUL`)
  let ca: string | undefined
  if (raw.ca_file !== undefined) {
    try {
      ca = readFileSync(raw.ca_file, 'utf8')
    } catch (err) {
      problems.push(`${at}.ca_file: cannot read '${raw.ca_file}' (${errorCode(err) ?? 'error'})`)
    }
  }
  return {
    id,
    name: raw.name ?? id,
    origin: url.origin,
    basePath: url.pathname.replace(/\/+$/, ''),
    query: url.search.replace(/^\?/, ''),
    apiKey,
    models: Object.freeze([...(raw.models ?? [])]),
    enabled: raw.enabled ?? true,
    headers: Object.freeze(headers),
    timeoutMs: raw.timeout_seconds === undefined ? settings.requestTimeoutMs : raw.timeout_seconds * 1000,
    maxAttempts: raw.max_retries ?? settings.maxAttempts,
    breaker: breakerOf(raw, settings.breaker),
    ca,
    backendType,
    defaultMaxTokens: raw.default_max_tokens ?? DEFAULT_MAX_TOKENS
  }
}

function resolveBackend (model: string, index: number, raw: RawBackend, providers: Map<string, Provider>, declared: Record<string, unknown>, problems: string[]): Backend | undefined {
  const provider = providers.get(raw.provider)
  if (provider === undefined) {
    // A declared provider that failed its own checks is reported there once.
    if (Object.hasOwn(declared, raw.provider)) return undefined
    problems.push(`models.${model}.backends[${index}].provider: unknown provider '${raw.provider}'`)
    return undefined
  }
  return {
    key: `${provider.id}/${raw.model}`,
    index,
    provider,
    model: raw.model,
    weight: raw.weight ?? 1,
    priority: raw.priority ?? 0,
    enabled: raw.enabled ?? true,
    tags: Object.freeze([...(raw.tags ?? [])]),
    billingMode: raw.billing_mode ?? 'per_token'
  }
}

function resolveStrategy (key: string, raw: RawModel, problems: string[]): Strategy {
  const strategy = raw.strategy ?? 'weighted_random'
  if (isOneOf(STRATEGIES, strategy)) return strategy
  problems.push(`models.${key}.strategy: unknown strategy '${strategy}' (one of ${STRATEGIES.join(', ')})`)
  return 'weighted_random'
}

/**
 * A model without `name` is public under the name its key was made from,
 * when a backend's upstream model or its provider's `models` list holds one:
 * the spec's `[models.gpt_4o]` lists as `gpt-4o`, `[models.claude_sonnet_4]`
 * as `claude-sonnet-4`. Otherwise the key itself.
 */
function derivedName (key: string, backends: readonly Backend[]): string {
  for (const backend of backends) {
    for (const candidate of [backend.model, ...backend.provider.models]) {
      if (candidate !== key && modelKeyOf(candidate) === key) return candidate
    }
  }
  return key
}

function resolveUser (id: string, raw: RawUser, problems: string[]): User {
  if (/[\s\0]/.test(raw.token)) problems.push(`users.${id}.token: must not contain white space or NUL`)
  const limit = raw.rate_limit
  const quota = raw.quota
  return {
    id,
    name: raw.name ?? id,
    token: raw.token,
    allowedModels: Object.freeze([...(raw.allowed_models ?? [])]),
    enabled: raw.enabled ?? true,
    tags: Object.freeze([...(raw.tags ?? [])]),
    rateLimit: limit === undefined
      ? undefined
      : Object.freeze({ perMinute: limit.requests_per_minute, perHour: limit.requests_per_hour, perDay: limit.requests_per_day }),
    quota: quota === undefined
      ? undefined
      : Object.freeze({ tokensPerDay: quota.tokens_per_day, tokensPerMonth: quota.tokens_per_month })
  }
}

function resolve (raw: RawConfig, problems: string[], warnings: string[]): BerryConfig {
  const settings = resolveSettings(raw.settings, problems)

  const providers = new Map<string, Provider>()
  for (const [id, rawProvider] of Object.entries(raw.providers)) {
    const provider = resolveProvider(id, rawProvider, settings, problems)
    if (provider !== undefined) providers.set(id, Object.freeze(provider))
  }

  const models = new Map<string, Model>()
  const modelsByKey = new Map<string, Model>()
  for (const [key, rawModel] of Object.entries(raw.models)) {
    const backends: Backend[] = []
    rawModel.backends.forEach((rawBackend, index) => {
      const backend = resolveBackend(key, index, rawBackend, providers, raw.providers, problems)
      if (backend !== undefined) backends.push(Object.freeze(backend))
    })
    const seenBackends = new Set<string>()
    for (const backend of backends) {
      if (seenBackends.has(backend.key)) {
        problems.push(`models.${key}.backends[${backend.index}]: provider '${backend.provider.id}' with model '${backend.model}' is listed twice`)
      }
      seenBackends.add(backend.key)
    }
    const model: Model = Object.freeze({
      name: rawModel.name ?? derivedName(key, backends),
      key,
      enabled: rawModel.enabled ?? true,
      strategy: resolveStrategy(key, rawModel, problems),
      backends: Object.freeze(backends)
    })
    const clash = models.get(model.name)
    if (clash !== undefined) {
      problems.push(`models.${key}.name: public model name '${model.name}' is already used by models.${clash.key}`)
    } else {
      models.set(model.name, model)
    }
    modelsByKey.set(key, model)
  }

  const users: User[] = []
  const tokens = new Map<string, string>()
  for (const [id, rawUser] of Object.entries(raw.users ?? {})) {
    const user = resolveUser(id, rawUser, problems)
    const other = tokens.get(user.token)
    if (other !== undefined) problems.push(`users.${id}.token: the same token as users.${other}`)
    tokens.set(user.token, id)
    for (const allowed of user.allowedModels) {
      if (!models.has(allowed) && !modelsByKey.has(allowed) && !modelsByKey.has(modelKeyOf(allowed))) {
        warnings.push(`users.${id}.allowed_models: no model named '${allowed}'`)
      }
    }
    users.push(Object.freeze(user))
  }

  return Object.freeze({
    providers,
    models,
    modelsByKey,
    users: Object.freeze(users),
    settings: Object.freeze(settings),
    warnings: Object.freeze(warnings)
  })
}
