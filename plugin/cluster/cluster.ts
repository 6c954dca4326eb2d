/**
 * What several berry instances share, chosen once at register time: with
 * Redis (the `redis` option or `settings.redis_url`) health, usage, quotas
 * and rate limits go through one RedisLink; without it each process keeps
 * its own, in memory.
 */
import type { FastifyBaseLogger } from 'fastify'
import type { Redis } from 'ioredis'
import type { Runtime } from '../runtime.js'
import { LOCAL_HEALTH, type HealthSync } from './health-sync.js'
import { MemoryUsageStore } from './memory-usage-store.js'
import { RedisHealthSync } from './redis-health-sync.js'
import { CONNECT_TIMEOUT_MS, RedisLink } from './redis-link.js'
import { RedisUsageStore } from './redis-usage-store.js'
import type { UsageStore } from './usage-store.js'

export interface Cluster {
  /** The Redis connections, when there is a Redis. */
  readonly link: RedisLink | undefined
  readonly usage: UsageStore
  readonly health: HealthSync
  /** Writes what is pending and closes berry's own connections (never the host's client). */
  close (): Promise<void>
}

/**
 * The shared state for `source`. With Redis, waits (at most
 * CONNECT_TIMEOUT_MS) for the first connection and the shared state, so an
 * instance starts with what the others know; a Redis that is not there by
 * then is caught up with when it comes.
 */
export async function openCluster (source: string | Redis | undefined, runtime: Runtime, log: FastifyBaseLogger): Promise<Cluster> {
  if (source === undefined) {
    return { link: undefined, usage: new MemoryUsageStore(), health: LOCAL_HEALTH, async close () {} }
  }
  const link = await RedisLink.open(source, log)
  const usage = new RedisUsageStore(link, { now: runtime.now, log })
  const health = new RedisHealthSync(link, { health: runtime.health, now: runtime.now, config: () => runtime.snapshot.config, log })
  await link.ready(CONNECT_TIMEOUT_MS)
  return {
    link,
    usage,
    health,
    async close () {
      await health.close()
      await usage.close()
      await link.close()
    }
  }
}
