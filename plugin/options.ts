/**
 * The plugin's options, validated once at register time. A bad option makes
 * `app.ready()` reject with BERRY_ERR_INVALID_OPTS naming the option.
 */
import type { Redis } from 'ioredis'
import type { Registry } from 'prom-client'
import type { Authenticate } from './auth.js'
import type { ConfigSource } from './config/source.js'
import { InvalidOptions } from './errors.js'
import type { Random } from './select/weighted.js'
import type { UsageRecord } from './accounting/usage-ledger.js'

export const DEFAULT_METRICS_PATH = '/metrics'
export const DEFAULT_STATUS_PATH = '/status'
/** How long a browser may cache a preflight answer, in seconds. */
export const DEFAULT_CORS_MAX_AGE = 600

export interface MetricsOptions {
  /** Where the metrics are served, under berry's prefix. Default '/metrics'. */
  path?: string
  /** Serve them without a token. Default false: an admin user's Bearer token is needed. */
  public?: boolean
  /** The prom-client registry to use. Default: prom-client's default registry. */
  registry?: Registry
}

export interface StatusOptions {
  /** Where the page is served, under berry's prefix. Default '/status'. */
  path?: string
}

export type CorsOrigin = string | RegExp | ReadonlyArray<string | RegExp>

export interface CorsOptions {
  /** Origins allowed to call berry from a browser: '*' (the default), one origin, a RegExp, or a list. */
  origin?: CorsOrigin
  /** Seconds a browser may cache a preflight answer. Default 600. */
  maxAge?: number
}

export interface BerryOptions {
  /** A TOML file path, TOML text, or an already parsed object. */
  config: ConfigSource
  /** Mounts every berry route under this path (`/llm` -> `/llm/v1/chat/completions`). */
  prefix?: string
  /** The host's own authentication; replaces the `[users]` table. Return null for 401. */
  authenticate?: Authenticate
  /** Random source in [0, 1) for backend selection (tests pass a seeded one). */
  random?: Random
  /** Clock in milliseconds since the epoch, for health timing. */
  now?: () => number
  /** Where `${VAR}` references in the config are looked up. Default: process.env. */
  env?: NodeJS.ProcessEnv
  /** Prometheus metrics; `false` turns them (and their route) off. */
  metrics?: false | MetricsOptions
  /** Called once per proxied request, to persist usage. Errors it throws are logged. */
  onUsage?: (record: UsageRecord) => void | Promise<void>
  /**
   * Redis, for what several gateway instances share: backend health (circuit
   * breakers, smart_ai confidence), usage totals, token quotas and rate-limit
   * counters. A URL (berry opens and closes its connections) or an ioredis
   * client (berry makes its own connections from it with `duplicate()`, and
   * leaves yours open). Default: `settings.redis_url`, else all of it per
   * process, in memory.
   */
  redis?: string | Redis
  /**
   * The live status page for operators (`GET /status`) and its data
   * (`GET /admin/status`, admin tag). Off by default; `true` or an object turns it on.
   */
  status?: boolean | StatusOptions
  /** CORS for browser apps that call the API directly (@fastify/cors). Off by default. */
  cors?: boolean | CorsOptions
}

export interface ResolvedMetricsOptions {
  readonly path: string
  readonly public: boolean
  readonly registry: Registry | undefined
}

export interface ResolvedStatusOptions {
  readonly path: string
}

export interface ResolvedCorsOptions {
  readonly origin: CorsOrigin
  readonly maxAge: number
}

export interface ResolvedOptions {
  readonly config: ConfigSource
  readonly prefix: string
  readonly authenticate: Authenticate | undefined
  readonly random: Random
  readonly now: () => number
  readonly env: NodeJS.ProcessEnv | undefined
  readonly metrics: ResolvedMetricsOptions | false
  readonly onUsage: ((record: UsageRecord) => void | Promise<void>) | undefined
  readonly redis: string | Redis | undefined
  readonly status: ResolvedStatusOptions | false
  readonly cors: ResolvedCorsOptions | false
}

// The checks below hold for callers in plain JavaScript too: each option is
// typed, but what arrives at run time is checked before it is trusted.

function optionalFunction<T> (value: T | undefined, name: string): T | undefined {
  if (value !== undefined && typeof value !== 'function') throw InvalidOptions(`'${name}' must be a function`)
  return value
}

/** Whether `value` has each of `methods` as a function (a duck-typed client or registry). */
function hasMethods (value: unknown, methods: readonly string[]): boolean {
  return value !== null && typeof value === 'object' && methods.every((name) => typeof Reflect.get(value, name) === 'function')
}

function resolveMetrics (value: false | MetricsOptions | undefined): ResolvedMetricsOptions | false {
  if (value === false) return false
  if (value === undefined) return { path: DEFAULT_METRICS_PATH, public: false, registry: undefined }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw InvalidOptions("'metrics' must be false or an object")
  const { path = DEFAULT_METRICS_PATH, public: open = false, registry } = value
  if (typeof path !== 'string' || !/^\/[^?#\s]*$/.test(path) || (path.length > 1 && path.endsWith('/'))) {
    throw InvalidOptions("'metrics.path' must be a path like '/metrics' (leading slash, no trailing slash)")
  }
  if (typeof open !== 'boolean') throw InvalidOptions("'metrics.public' must be a boolean")
  if (registry !== undefined && !hasMethods(registry, ['registerMetric', 'metrics'])) {
    throw InvalidOptions("'metrics.registry' must be a prom-client Registry")
  }
  return { path, public: open, registry }
}

function resolveRedis (value: string | Redis | undefined): string | Redis | undefined {
  if (value === undefined) return undefined
  if (typeof value === 'string' ? /^rediss?:\/\//.test(value) : hasMethods(value, ['defineCommand'])) return value
  throw InvalidOptions("'redis' must be a redis:// or rediss:// URL, or an ioredis client")
}

function resolveStatus (value: boolean | StatusOptions | undefined): ResolvedStatusOptions | false {
  if (value === undefined || value === false) return false
  if (value === true) return { path: DEFAULT_STATUS_PATH }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw InvalidOptions("'status' must be a boolean or an object")
  const { path = DEFAULT_STATUS_PATH } = value
  // No ':' or '*': the page's own assets are routes under this path.
  if (typeof path !== 'string' || !/^\/[^?#\s:*]+$/.test(path) || path.endsWith('/')) throw InvalidOptions("'status.path' must be a path like '/status' (leading slash, no trailing slash)")
  return { path }
}

function isOrigin (value: unknown): value is string | RegExp {
  if (value instanceof RegExp) return true
  if (typeof value !== 'string') return false
  // An origin is scheme, host and port: a path or a trailing slash never matches a browser's Origin header.
  return value === '*' || /^[a-z][a-z0-9+.-]*:\/\/[^/?#\s]+$/i.test(value)
}

function resolveCors (value: boolean | CorsOptions | undefined): ResolvedCorsOptions | false {
  if (value === undefined || value === false) return false
  if (value === true) return { origin: '*', maxAge: DEFAULT_CORS_MAX_AGE }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw InvalidOptions("'cors' must be a boolean or an object")
  const { origin = '*', maxAge = DEFAULT_CORS_MAX_AGE } = value
  const origins: readonly unknown[] = Array.isArray(origin) ? origin : [origin]
  if (origins.length === 0 || !origins.every(isOrigin)) {
    throw InvalidOptions("'cors.origin' must be '*', an origin like 'https://app.example.com', a RegExp, or a list of them")
  }
  if (typeof maxAge !== 'number' || !Number.isInteger(maxAge) || maxAge < 0) throw InvalidOptions("'cors.maxAge' must be a whole number of seconds")
  return { origin: Array.isArray(origin) ? [...origin] : origin, maxAge }
}

export function resolveOptions (opts: Partial<BerryOptions> | undefined): ResolvedOptions {
  if (opts === undefined || opts === null || typeof opts !== 'object') throw InvalidOptions('options must be an object')
  const { config, prefix = '' } = opts
  if (config === undefined || config === null || (typeof config !== 'string' && typeof config !== 'object') || Array.isArray(config)) {
    throw InvalidOptions("'config' must be a TOML file path, TOML text, or a config object")
  }
  if (typeof prefix !== 'string' || (prefix !== '' && (!prefix.startsWith('/') || prefix.endsWith('/')))) {
    throw InvalidOptions("'prefix' must be '' or a path like '/llm' (leading slash, no trailing slash)")
  }
  if (opts.env !== undefined && (opts.env === null || typeof opts.env !== 'object')) throw InvalidOptions("'env' must be an object")
  return {
    config,
    prefix,
    authenticate: optionalFunction(opts.authenticate, 'authenticate'),
    random: optionalFunction(opts.random, 'random') ?? Math.random,
    now: optionalFunction(opts.now, 'now') ?? Date.now,
    env: opts.env,
    metrics: resolveMetrics(opts.metrics),
    onUsage: optionalFunction(opts.onUsage, 'onUsage'),
    redis: resolveRedis(opts.redis),
    status: resolveStatus(opts.status),
    cors: resolveCors(opts.cors)
  }
}
