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
 * With Redis each window has a second, in-memory limiter: while Redis is
 * away (cluster/redis-link.ts says so) or a command to it fails, this
 * instance counts on its own instead of waiting, and a warning is logged
 * (at most once a minute). The limits then hold per process.
 */
import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { RedisLink } from './cluster/redis-link.js'
import type { RateLimit } from './config/types.js'
import { RateLimited } from './errors.js'
import { errorMessage } from './json.js'
import type { Runtime } from './runtime.js'
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

function headers (result: Checked, remaining: number): Record<string, string> {
  return {
    'x-ratelimit-limit': String(result.max),
    'x-ratelimit-remaining': String(remaining),
    'x-ratelimit-reset': String(result.ttlInSeconds)
  }
}

/** Reads the limited users' budgets for the status page, without counting a request. */
export interface RateLimitReader {
  /** `asking`: the status page's own request, seen as each limited user in turn. */
  headroom (asking: FastifyRequest): Promise<Map<string, RateLimitHeadroom[]>>
}

/**
 * @fastify/rate-limit reads a request only through berry's `keyGenerator`
 * and `max` (which read `kUser`) and its route's options: the asking request
 * with another user over it peeks at that user's budget.
 */
function probeFor (asking: FastifyRequest, user: BerryUser): FastifyRequest {
  const probe: FastifyRequest = Object.create(asking, { [kUser]: { value: user } })
  return probe
}

export async function registerRateLimit (scope: FastifyInstance, runtime: Runtime, link: RedisLink | undefined): Promise<RateLimitReader> {
  const limitOf = (request: FastifyRequest, field: keyof RateLimit): number => {
    const user = request[kUser]
    return (user === null ? undefined : runtime.snapshot.rateLimits.get(user.id)?.[field]) ?? Number.MAX_SAFE_INTEGER
  }
  // A host that registered @fastify/rate-limit itself owns the decorator;
  // berry's limiters are then children of the host's store.
  const hostOwned = scope.hasDecorator('createRateLimit')
  const limiters: Array<{ readonly window: Window, readonly local: Limiter, readonly shared: Limiter | undefined }> = []
  for (const window of WINDOWS) {
    const options = {
      timeWindow: window.ms,
      max: (request: FastifyRequest) => limitOf(request, window.field),
      keyGenerator: (request: FastifyRequest) => `${window.name}:${request[kUser]?.id ?? ''}`
    }
    const limiter = async (redis: RedisLink['commands'] | undefined): Promise<Limiter> => {
      let made: Limiter | undefined
      await scope.register(async (own) => {
        if (hostOwned) {
          made = own.createRateLimit(options)
          return
        }
        await own.register(rateLimit, { ...options, global: false, nameSpace: 'berry-rate-limit:', ...(redis === undefined ? {} : { redis }) })
        made = own.createRateLimit()
      })
      if (made === undefined) throw new Error('berry: @fastify/rate-limit made no limiter')
      return made
    }
    const local = await limiter(undefined)
    const shared = hostOwned || link === undefined ? undefined : await limiter(link.commands)
    limiters.push({ window, local, shared })
  }

  let lastWarning = -Infinity
  function warn (request: FastifyRequest, err: unknown, message: string): void {
    const now = runtime.now()
    if (now - lastWarning < REDIS_WARNING_INTERVAL_MS) return
    lastWarning = now
    request.log.warn({ reason: errorMessage(err) }, message)
  }

  /** `increment: false` reads a budget without spending it (the status page). */
  async function check (request: FastifyRequest, local: Limiter, shared: Limiter | undefined, increment = true): Promise<Awaited<ReturnType<Limiter>>> {
    if (shared === undefined || link?.up !== true) return local(request, { increment })
    try {
      return await shared(request, { increment })
    } catch (err) {
      link.failed(err)
      warn(request, err, 'berry: shared rate-limit counters unavailable; counting in this process')
      return local(request, { increment })
    }
  }

  async function enforce (request: FastifyRequest, reply: FastifyReply, limits: RateLimit): Promise<void> {
    let tightest: Checked | undefined
    for (const { window, local, shared } of limiters) {
      const limit = limits[window.field]
      if (limit === undefined) continue
      let result: Awaited<ReturnType<Limiter>>
      try {
        result = await check(request, local, shared)
      } catch (err) {
        // A host's own store failed: let the request through rather than fail it.
        warn(request, err, 'berry: rate-limit store failed; letting requests through')
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

  scope.addHook('onRequest', async function enforceRateLimit (request: FastifyRequest, reply: FastifyReply) {
    const user = request[kUser]
    const limits = user === null ? undefined : runtime.snapshot.rateLimits.get(user.id)
    // Users without limits (the common case) never reach the (possibly Redis) stores.
    if (limits !== undefined) await enforce(request, reply, limits)
  })

  async function windowsOf (asking: FastifyRequest, id: string, limits: RateLimit): Promise<RateLimitHeadroom[]> {
    const probe = probeFor(asking, { id })
    const out: RateLimitHeadroom[] = []
    for (const { window, local, shared } of limiters) {
      const limit = limits[window.field]
      if (limit === undefined) continue
      try {
        const result = await check(probe, local, shared, false)
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
    async headroom (asking) {
      const limited = [...runtime.snapshot.rateLimits]
      return new Map(await Promise.all(limited.map(async ([id, limits]) => [id, await windowsOf(asking, id, limits)] as const)))
    }
  }
}
