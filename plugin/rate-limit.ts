/**
 * Per-user rate limits from `[users.<id>.rate_limit]`, counted by
 * @fastify/rate-limit's stores (in memory, or in Redis so that several
 * gateway instances share the counters), keyed by the user id, not the IP.
 *
 * Each window (minute, hour, day) is one registration of @fastify/rate-limit
 * in a scope of its own, with `global: false`: berry calls its limiter from
 * one hook that runs after authentication, checks the windows from the
 * shortest, and answers 429 in OpenAI's shape. A request turned away by the
 * minute window does not use up the hour's or the day's budget.
 *
 * A failing Redis does not take the gateway down: the request passes and a
 * warning is logged (at most once a minute).
 */
import rateLimit from '@fastify/rate-limit'
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import type { Redis } from 'ioredis'
import type { BerryConfig, RateLimit } from './config/types.js'
import { RateLimited } from './errors.js'
import type { Gateway } from './gateway.js'
import type { RateLimitHeadroom } from './status/view-types.js'
import { kUser } from './symbols.js'
import type { BerryUser } from './user.js'

type Limiter = ReturnType<FastifyInstance['createRateLimit']>
type Checked = Extract<Awaited<ReturnType<Limiter>>, { isAllowed: false }>

interface Window {
  readonly name: 'minute' | 'hour' | 'day'
  readonly ms: number
  readonly field: keyof RateLimit
}

export const WINDOWS: readonly Window[] = [
  { name: 'minute', ms: 60_000, field: 'perMinute' },
  { name: 'hour', ms: 3_600_000, field: 'perHour' },
  { name: 'day', ms: 86_400_000, field: 'perDay' }
]

const REDIS_WARNING_INTERVAL_MS = 60_000

const byConfig = new WeakMap<BerryConfig, ReadonlyMap<string, RateLimit>>()

/** Users with at least one limit, by id; built once per config. */
function limitsOf (config: BerryConfig): ReadonlyMap<string, RateLimit> {
  let limits = byConfig.get(config)
  if (limits === undefined) {
    const map = new Map<string, RateLimit>()
    for (const user of config.users) {
      const limit = user.rateLimit
      if (limit !== undefined && (limit.perMinute !== undefined || limit.perHour !== undefined || limit.perDay !== undefined)) map.set(user.id, limit)
    }
    limits = map
    byConfig.set(config, limits)
  }
  return limits
}

/** An ioredis client for a URL, logging connection trouble once per outage. */
export async function openRedis (url: string, log: FastifyBaseLogger): Promise<Redis> {
  const { Redis } = await import('ioredis')
  // Fail a command fast when Redis is away rather than hold requests.
  const client = new Redis(url, { maxRetriesPerRequest: 1 })
  let warned = false
  // The URL may hold a password: only the error's message is logged.
  client.on('error', (err: Error) => {
    if (warned) return
    warned = true
    log.warn({ reason: err.message }, 'berry: Redis for rate limits is unavailable')
  })
  client.on('ready', () => { warned = false })
  return client
}

function headers (result: Checked, remaining: number): Record<string, string> {
  return {
    'x-ratelimit-limit': String(result.max),
    'x-ratelimit-remaining': String(remaining),
    'x-ratelimit-reset': String(result.ttlInSeconds)
  }
}

/** Reads the limited users' budgets for the status page, without counting a request. */
export interface RateLimitReader {
  headroom (): Promise<Map<string, RateLimitHeadroom[]>>
}

/**
 * @fastify/rate-limit reads a request only through berry's `keyGenerator`
 * and `max` (which read `kUser`) and, for a route's groupId, its
 * `routeOptions.config`: a stand-in carrying those peeks at any user's budget.
 */
function probeFor (user: BerryUser): FastifyRequest {
  const probe: { [kUser]: BerryUser, routeOptions: { config: Record<string, never> } } = { [kUser]: user, routeOptions: { config: {} } }
  return probe as unknown as FastifyRequest
}

export async function registerRateLimit (scope: FastifyInstance, gateway: Gateway, redis: Redis | undefined): Promise<RateLimitReader> {
  const limitOf = (request: FastifyRequest, field: keyof RateLimit): number => {
    const user = request[kUser]
    return (user === null ? undefined : limitsOf(gateway.current.config).get(user.id)?.[field]) ?? Number.MAX_SAFE_INTEGER
  }
  // A host that registered @fastify/rate-limit itself owns the decorator;
  // berry's limiters are then children of the host's store.
  const hostOwned = scope.hasDecorator('createRateLimit')
  const limiters: Limiter[] = []
  for (const window of WINDOWS) {
    const options = {
      timeWindow: window.ms,
      max: (request: FastifyRequest) => limitOf(request, window.field),
      keyGenerator: (request: FastifyRequest) => `${window.name}:${request[kUser]?.id ?? ''}`
    }
    await scope.register(async (own) => {
      if (hostOwned) {
        limiters.push(own.createRateLimit(options))
        return
      }
      await own.register(rateLimit, { ...options, global: false, nameSpace: 'berry-rate-limit:', ...(redis === undefined ? {} : { redis }) })
      limiters.push(own.createRateLimit())
    })
  }

  let lastWarning = -Infinity
  async function enforce (request: FastifyRequest, reply: FastifyReply, limits: RateLimit): Promise<void> {
    let tightest: Checked | undefined
    for (let i = 0; i < WINDOWS.length; i++) {
      const window = WINDOWS[i] as Window
      const limit = limits[window.field]
      if (limit === undefined) continue
      let result: Awaited<ReturnType<Limiter>>
      try {
        result = await (limiters[i] as Limiter)(request)
      } catch (err) {
        if (Date.now() - lastWarning >= REDIS_WARNING_INTERVAL_MS) {
          lastWarning = Date.now()
          request.log.warn({ reason: (err as Error).message }, 'berry: rate-limit store failed; letting requests through')
        }
        return
      }
      if (result.isAllowed) continue
      if (result.isExceeded) {
        const retryAfter = Math.max(1, result.ttlInSeconds)
        throw RateLimited(limit, window.name, retryAfter, { ...headers(result, 0), 'retry-after': String(retryAfter) })
      }
      if (tightest === undefined || result.remaining < tightest.remaining) tightest = result
    }
    if (tightest !== undefined) reply.headers(headers(tightest, tightest.remaining))
  }

  // Callback-shaped so that a user without limits (the common case) costs
  // no promise; only limited users go through the (possibly Redis) stores.
  scope.addHook('onRequest', function enforceRateLimit (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) {
    const user = request[kUser]
    const limits = user === null ? undefined : limitsOf(gateway.current.config).get(user.id)
    if (limits === undefined) {
      done()
      return
    }
    enforce(request, reply, limits).then(() => { done() }, done)
  })

  async function windowsOf (id: string, limits: RateLimit): Promise<RateLimitHeadroom[]> {
    const probe = probeFor({ id })
    const out: RateLimitHeadroom[] = []
    for (let i = 0; i < WINDOWS.length; i++) {
      const window = WINDOWS[i] as Window
      const limit = limits[window.field]
      if (limit === undefined) continue
      try {
        const result = await (limiters[i] as Limiter)(probe, { increment: false })
        // A window nobody has opened yet has its whole budget and no reset time.
        const open = !result.isAllowed && result.ttl > 0
        out.push({
          window: window.name,
          limit,
          remaining: result.isAllowed ? limit : result.remaining,
          reset_seconds: open ? result.ttlInSeconds : null
        })
      } catch {
        // A store that cannot be read (Redis away, a host's store without `read`): the limit is still worth showing.
        out.push({ window: window.name, limit, remaining: null, reset_seconds: null })
      }
    }
    return out
  }

  return {
    async headroom () {
      const limited = [...limitsOf(gateway.current.config)]
      const windows = await Promise.all(limited.map(([id, limits]) => windowsOf(id, limits)))
      return new Map(limited.map(([id], i) => [id, windows[i] as RateLimitHeadroom[]]))
    }
  }
}
