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

export interface MetricsOptions {
  /** Where the metrics are served, under berry's prefix. Default '/metrics'. */
  path?: string
  /** Serve them without a token. Default false: an admin user's Bearer token is needed. */
  public?: boolean
  /** The prom-client registry to use. Default: prom-client's default registry. */
  registry?: Registry
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
}

export interface ResolvedMetricsOptions {
  readonly path: string
  readonly public: boolean
  readonly registry: Registry | undefined
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
    redis: resolveRedis(opts.redis)
  }
}
