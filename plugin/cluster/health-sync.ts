/**
 * How backend health is shared between instances. Without Redis there is
 * nothing to share: each process's HealthTracker is the whole truth
 * (`LOCAL_HEALTH`). With Redis, redis-health-sync.ts publishes this
 * instance's breaker transitions and smart_ai confidence changes and applies
 * the other instances' to the local tracker, which selection keeps reading
 * without ever waiting for Redis.
 */
export interface HealthSync {
  /** Sends what is still pending and stops listening. */
  close (): Promise<void>
}

/** Health per process: nothing to send or receive. */
export const LOCAL_HEALTH: HealthSync = {
  async close () {}
}
