/**
 * berry's own traffic figures for the status page: per backend (public
 * model and provider), per user and in all, each a rolling window of
 * 10-second buckets over 15 minutes.
 *
 * `record` is called once per finished request. Once a series exists it
 * allocates nothing: two or three map lookups and a few typed-array adds.
 * Memory does not grow with traffic: one window per configured backend
 * (29.5 KB each), one per user up to `maxUsers` (5 KB each; more
 * users share one overflow series), and series idle for the whole window
 * are dropped by `prune`.
 */
import { binOf } from './latency-histogram.js'
import { RollingWindow, type WindowShape } from './rolling-window.js'

/** One finished request, as the accounting subscriber sees it. */
export interface TrafficSample {
  /** Public model name; '' when the request named no configured model. */
  readonly model: string
  /** Provider id that answered; '' when no backend was chosen. */
  readonly backend: string
  /** User id; '' for requests turned away before authentication. */
  readonly user: string
  readonly status: number
  readonly latencyMs: number
  /** Time to the answer's first byte (its headers), when one came. */
  readonly ttfbMs: number | undefined
  readonly pinned: boolean
  readonly promptTokens: number
  readonly completionTokens: number
  /** When the request ended (ms since the epoch, the gateway's clock). */
  readonly now: number
}

/** Counters of a backend (and of the whole gateway) series. */
export const REQUESTS = 0
export const ERRORS = 1
export const PINNED = 2
export const PROMPT_TOKENS = 3
export const COMPLETION_TOKENS = 4
/** Attempts on a backend that failed and went on to another backend (not in its requests). */
export const FAILOVERS = 5
const TRAFFIC_COUNTERS = 6

/** Histograms of a backend series. */
export const LATENCY = 0
export const TTFB = 1

/** nginx's status for a client gone before the end: its latency is the client's, not the backend's. */
const CLIENT_CLOSED = 499

export const DEFAULT_BUCKET_MS = 10_000
export const DEFAULT_BUCKETS = 90
export const DEFAULT_MAX_USERS = 1000
/** Where users beyond `maxUsers` are counted together. */
export const OTHER_USERS = '*'

/**
 * What counts as an error on the page: a failure on the server's side
 * (5xx, berry's 502/503/504 included) or an upstream's 408 or 429. A
 * client's own mistakes (400, 401, 404) are not the backend's failing.
 */
export function isError (status: number): boolean {
  return status >= 500 || status === 408 || status === 429
}

export interface TrafficStoreOptions {
  readonly bucketMs?: number
  readonly buckets?: number
  readonly maxUsers?: number
  /** When counting began (the gateway's clock): rates are not averaged over time before it. */
  readonly startedAt: number
}

export class TrafficStore {
  readonly startedAt: number
  readonly trafficShape: WindowShape
  readonly userShape: WindowShape
  readonly maxUsers: number
  /** Everything, routed or not. */
  readonly all: RollingWindow
  // model -> provider id -> window: no key string built per request.
  readonly #backends = new Map<string, Map<string, RollingWindow>>()
  readonly #users = new Map<string, RollingWindow>()

  constructor (options: TrafficStoreOptions) {
    const bucketMs = options.bucketMs ?? DEFAULT_BUCKET_MS
    const buckets = options.buckets ?? DEFAULT_BUCKETS
    this.startedAt = options.startedAt
    this.maxUsers = options.maxUsers ?? DEFAULT_MAX_USERS
    this.trafficShape = { bucketMs, buckets, counters: TRAFFIC_COUNTERS, histograms: 2 }
    this.userShape = { bucketMs, buckets, counters: TRAFFIC_COUNTERS, histograms: 0 }
    this.all = new RollingWindow(this.trafficShape)
  }

  record (sample: TrafficSample): void {
    const slot = this.all.slotOf(sample.now)
    const error = isError(sample.status)
    // A client gone is its own latency, not the backend's: no histogram.
    const latencyBin = sample.status === CLIENT_CLOSED ? -1 : binOf(sample.latencyMs)
    const ttfbBin = latencyBin < 0 || sample.ttfbMs === undefined ? -1 : binOf(sample.ttfbMs)
    add(this.all, slot, sample, error, latencyBin, ttfbBin)
    if (sample.model !== '' && sample.backend !== '') add(this.#backend(sample.model, sample.backend), slot, sample, error, latencyBin, ttfbBin)
    if (sample.user !== '') add(this.#user(sample.user), slot, sample, error, -1, -1)
  }

  /**
   * An attempt on `backend` failed and the request went on to another
   * backend. The request itself is recorded once, for the backend that
   * answered: without this, a backend whose every failure fails over would
   * show no error at all.
   */
  failover (model: string, backend: string, now: number): void {
    if (model === '' || backend === '') return
    const slot = this.all.slotOf(now)
    this.all.count(this.all.row(slot), FAILOVERS, 1)
    const window = this.#backend(model, backend)
    window.count(window.row(slot), FAILOVERS, 1)
  }

  #backend (model: string, provider: string): RollingWindow {
    let byProvider = this.#backends.get(model)
    if (byProvider === undefined) {
      byProvider = new Map()
      this.#backends.set(model, byProvider)
    }
    let window = byProvider.get(provider)
    if (window === undefined) {
      window = new RollingWindow(this.trafficShape)
      byProvider.set(provider, window)
    }
    return window
  }

  #user (id: string): RollingWindow {
    let window = this.#users.get(id)
    if (window === undefined) {
      const full = this.#users.size >= this.maxUsers
      window = full ? this.#users.get(OTHER_USERS) : undefined
      if (window === undefined) {
        window = new RollingWindow(this.userShape)
        this.#users.set(full ? OTHER_USERS : id, window)
      }
    }
    return window
  }

  backend (model: string, provider: string): RollingWindow | undefined {
    return this.#backends.get(model)?.get(provider)
  }

  user (id: string): RollingWindow | undefined {
    return this.#users.get(id)
  }

  /** Ids of the users with a series, in the order they first came. */
  userIds (): IterableIterator<string> {
    return this.#users.keys()
  }

  /** Series held, for the memory bound. */
  get series (): number {
    let n = 1 + this.#users.size
    for (const byProvider of this.#backends.values()) n += byProvider.size
    return n
  }

  /** Drops series with nothing left in the window: removed backends, users gone quiet. */
  prune (now: number): void {
    const oldest = this.all.slotOf(now) - this.trafficShape.buckets + 1
    for (const [model, byProvider] of this.#backends) {
      for (const [provider, window] of byProvider) if (window.newestSlot < oldest) byProvider.delete(provider)
      if (byProvider.size === 0) this.#backends.delete(model)
    }
    for (const [id, window] of this.#users) if (window.newestSlot < oldest) this.#users.delete(id)
  }
}

function add (window: RollingWindow, slot: number, sample: TrafficSample, error: boolean, latencyBin: number, ttfbBin: number): void {
  const row = window.row(slot)
  window.count(row, REQUESTS, 1)
  if (error) window.count(row, ERRORS, 1)
  if (sample.pinned) window.count(row, PINNED, 1)
  window.count(row, PROMPT_TOKENS, sample.promptTokens)
  window.count(row, COMPLETION_TOKENS, sample.completionTokens)
  if (latencyBin >= 0) window.observe(row, LATENCY, latencyBin)
  if (ttfbBin >= 0) window.observe(row, TTFB, ttfbBin)
}
