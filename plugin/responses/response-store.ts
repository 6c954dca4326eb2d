/**
 * Which backend created a stored response (OpenAI's Responses API keeps
 * responses on the account that made them): `GET /v1/responses/{id}`, its
 * cancel, input items and delete, and a new request with
 * `previous_response_id`, must go back to that backend. An id berry does not
 * know is a 404, never a guess.
 *
 * In memory by default (bounded: the oldest entries go first); in Redis when
 * one is configured, so every instance behind a load balancer knows every
 * id (redis-response-store.ts).
 */

/** Where a response lives, and whose it is. */
export interface StoredResponse {
  /** The provider id of the backend that created it. */
  readonly provider: string
  /** The public model it was created for. */
  readonly model: string
  /** The user who created it: nobody else may read it. */
  readonly user: string
}

export interface ResponseStore {
  remember (id: string, entry: StoredResponse): void
  find (id: string): Promise<StoredResponse | undefined>
  forget (id: string): void
}

/** OpenAI keeps stored responses for 30 days. */
export const DEFAULT_STORED_RESPONSE_TTL_MS = 30 * 24 * 3600 * 1000
/** About 100 bytes an entry: 100,000 of them are about 10 MB. */
export const DEFAULT_MAX_STORED_RESPONSES = 100_000

interface Timed {
  readonly entry: StoredResponse
  readonly expiresAt: number
}

export class MemoryResponseStore implements ResponseStore {
  readonly #entries = new Map<string, Timed>()
  readonly #ttlMs: number
  readonly #max: number
  readonly #now: () => number

  constructor (options: { ttlMs: number, max?: number, now: () => number }) {
    this.#ttlMs = options.ttlMs
    this.#max = options.max ?? DEFAULT_MAX_STORED_RESPONSES
    this.#now = options.now
  }

  get size (): number {
    return this.#entries.size
  }

  remember (id: string, entry: StoredResponse): void {
    this.#entries.delete(id)
    this.#entries.set(id, { entry, expiresAt: this.#now() + this.#ttlMs })
    // A Map iterates in insertion order: the first key is the oldest.
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.#max) break
      this.#entries.delete(oldest)
    }
  }

  async find (id: string): Promise<StoredResponse | undefined> {
    const timed = this.#entries.get(id)
    if (timed === undefined) return undefined
    if (timed.expiresAt <= this.#now()) {
      this.#entries.delete(id)
      return undefined
    }
    return timed.entry
  }

  forget (id: string): void {
    this.#entries.delete(id)
  }
}
