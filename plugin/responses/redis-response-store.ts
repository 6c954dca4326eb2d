/**
 * Stored response ids in Redis, so every berry instance behind a load
 * balancer sends `GET /v1/responses/{id}` to the backend that created it.
 * Each id is also kept in this instance's memory: when Redis is away or
 * slow, the instance that created a response still knows it, and nothing
 * waits longer than FIND_TIMEOUT_MS for Redis on the request path.
 */
import type { Redis } from 'ioredis'
import { isRecord } from '../json.js'
import type { MemoryResponseStore, ResponseStore, StoredResponse } from './response-store.js'

const KEY_PREFIX = 'berry:response:'
/** Longest a request waits for Redis before using this instance's own memory. */
export const FIND_TIMEOUT_MS = 250

function parse (text: string | null): StoredResponse | undefined {
  if (text === null) return undefined
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  if (!isRecord(value)) return undefined
  const { provider, model, user } = value
  return typeof provider === 'string' && typeof model === 'string' && typeof user === 'string' ? { provider, model, user } : undefined
}

export class RedisResponseStore implements ResponseStore {
  readonly #redis: Redis
  readonly #local: MemoryResponseStore
  readonly #ttlMs: number

  constructor (redis: Redis, local: MemoryResponseStore, ttlMs: number) {
    this.#redis = redis
    this.#local = local
    this.#ttlMs = ttlMs
  }

  remember (id: string, entry: StoredResponse): void {
    this.#local.remember(id, entry)
    this.#redis.set(KEY_PREFIX + id, JSON.stringify(entry), 'PX', this.#ttlMs).catch(() => {})
  }

  async find (id: string): Promise<StoredResponse | undefined> {
    let timer: ReturnType<typeof setTimeout> | undefined
    const late = new Promise<undefined>((resolve) => { timer = setTimeout(() => { resolve(undefined) }, FIND_TIMEOUT_MS) })
    try {
      const shared = parse(await Promise.race([this.#redis.get(KEY_PREFIX + id), late]) ?? null)
      if (shared !== undefined) return shared
    } catch {
      // Redis away: this instance's memory answers.
    } finally {
      clearTimeout(timer)
    }
    return this.#local.find(id)
  }

  forget (id: string): void {
    this.#local.forget(id)
    this.#redis.del(KEY_PREFIX + id).catch(() => {})
  }
}
