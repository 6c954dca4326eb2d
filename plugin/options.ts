/**
 * The plugin's options, validated once at register time. A bad option makes
 * `app.ready()` reject with BERRY_ERR_INVALID_OPTS naming the option.
 */
import type { Authenticate } from './auth.js'
import type { ConfigSource } from './config/source.js'
import { InvalidOptions } from './errors.js'
import type { Random } from './select/weighted.js'

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
}

export interface ResolvedOptions {
  readonly config: ConfigSource
  readonly prefix: string
  readonly authenticate: Authenticate | undefined
  readonly random: Random
  readonly now: () => number
  readonly env: NodeJS.ProcessEnv | undefined
}

function optionalFunction<T> (value: unknown, name: string): T | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'function') throw InvalidOptions(`'${name}' must be a function`)
  return value as T
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
    authenticate: optionalFunction<Authenticate>(opts.authenticate, 'authenticate'),
    random: optionalFunction<Random>(opts.random, 'random') ?? Math.random,
    now: optionalFunction<() => number>(opts.now, 'now') ?? Date.now,
    env: opts.env
  }
}
