/**
 * smart_ai's confidence in each backend, learnt from real traffic: a success
 * adds `success_boost`, a failure subtracts its class's penalty, never below
 * `min_confidence` nor above 1. With `enable_time_decay` a backend that sees
 * no traffic drifts back toward `initial_confidence`, so one bad hour is not
 * held against it forever and a long-unused backend is not trusted blindly.
 *
 * Pure and synchronous, like the breaker: every function takes `now`. The
 * per-backend state is a plain, JSON-serialisable record (numbers, booleans
 * and null for "never"); several gateway instances share it through Redis
 * (cluster/redis-health-sync.ts) as events and as records with ages in
 * place of instants (health/shared-state.ts).
 */
import type { FailureClass, SmartAiSettings } from '../config/types.js'

/**
 * How fast an idle backend's confidence returns toward the initial value:
 * the distance halves every hour without traffic. The original system
 * decayed in steps from the second idle hour on; a half-life gives the same
 * time scale without steps.
 */
export const TIME_DECAY_HALF_LIFE_MS = 3_600_000

export interface ConfidenceRecord {
  /** Confidence as of `updatedAt`; read it through `confidenceAt`, which applies the decay. */
  confidence: number
  /**
   * When `confidence` was last set (a request's outcome or a connectivity
   * check), ms since the epoch: the decay runs from here. Meaningless while
   * `confidence` is still the initial value, which does not decay.
   */
  updatedAt: number
  lastRequestAt: number | null
  totalRequests: number
  consecutiveSuccesses: number
  consecutiveFailures: number
  lastSuccessAt: number | null
  lastFailureAt: number | null
  errorCounts: Record<FailureClass, number>
  /** The last free connectivity check's verdict (true until one fails). */
  connectivityOk: boolean
  lastConnectivityCheckAt: number | null
}

export function freshRecord (settings: SmartAiSettings): ConfidenceRecord {
  return {
    confidence: settings.initialConfidence,
    updatedAt: 0,
    lastRequestAt: null,
    totalRequests: 0,
    consecutiveSuccesses: 0,
    consecutiveFailures: 0,
    lastSuccessAt: null,
    lastFailureAt: null,
    errorCounts: { network: 0, auth: 0, rate_limit: 0, server: 0, model: 0, timeout: 0 },
    connectivityOk: true,
    lastConnectivityCheckAt: null
  }
}

function clamp (value: number, settings: SmartAiSettings): number {
  return Math.min(1, Math.max(settings.minConfidence, value))
}

/** The confidence now: the stored value, drifted toward the initial one for the time without news. */
export function confidenceAt (record: ConfidenceRecord | undefined, now: number, settings: SmartAiSettings): number {
  if (record === undefined) return settings.initialConfidence
  if (!settings.enableTimeDecay || now <= record.updatedAt) return record.confidence
  const keep = Math.pow(0.5, (now - record.updatedAt) / TIME_DECAY_HALF_LIFE_MS)
  return clamp(settings.initialConfidence + (record.confidence - settings.initialConfidence) * keep, settings)
}

function settle (record: ConfidenceRecord, now: number, settings: SmartAiSettings): number {
  const current = confidenceAt(record, now, settings)
  record.updatedAt = now
  return current
}

export function applySuccess (record: ConfidenceRecord, now: number, settings: SmartAiSettings): void {
  record.confidence = clamp(settle(record, now, settings) + settings.successBoost, settings)
  record.lastRequestAt = now
  record.totalRequests++
  record.consecutiveSuccesses++
  record.consecutiveFailures = 0
  record.lastSuccessAt = now
}

export function applyFailure (record: ConfidenceRecord, kind: FailureClass, now: number, settings: SmartAiSettings): void {
  record.confidence = clamp(settle(record, now, settings) - settings.penalties[kind], settings)
  record.lastRequestAt = now
  record.totalRequests++
  record.consecutiveFailures++
  record.consecutiveSuccesses = 0
  record.lastFailureAt = now
  record.errorCounts[kind]++
}

/**
 * A free connectivity check (`GET {base_url}/models`): a failure halves the
 * confidence, as the original's lightweight checker did; a success only says
 * so (reaching the model list proves nothing about completions).
 */
export function applyConnectivity (record: ConfidenceRecord, ok: boolean, now: number, settings: SmartAiSettings): void {
  if (!ok) record.confidence = clamp(settle(record, now, settings) * 0.5, settings)
  record.connectivityOk = ok
  record.lastConnectivityCheckAt = now
}

/** One piece of news about a backend that moves its confidence. */
export type ConfidenceEvent =
  | { readonly type: 'success' }
  | { readonly type: 'failure', readonly kind: FailureClass }
  | { readonly type: 'connectivity', readonly ok: boolean }

/** Told of each confidence change made here (never of one applied from elsewhere). */
export type ConfidenceObserver = (key: string, event: ConfidenceEvent, now: number) => void

const SUCCESS: ConfidenceEvent = Object.freeze({ type: 'success' })

/** The records of every backend, by backend key. */
export class ConfidenceBook {
  readonly #records = new Map<string, ConfidenceRecord>()
  readonly #settings: () => SmartAiSettings
  #observer: ConfidenceObserver | undefined

  constructor (settings: () => SmartAiSettings) {
    this.#settings = settings
  }

  get settings (): SmartAiSettings {
    return this.#settings()
  }

  #get (key: string): ConfidenceRecord {
    let record = this.#records.get(key)
    if (record === undefined) {
      record = freshRecord(this.#settings())
      this.#records.set(key, record)
    }
    return record
  }

  confidence (key: string, now: number): number {
    return confidenceAt(this.#records.get(key), now, this.#settings())
  }

  /** A deep copy of one backend's record (a fresh one when it has none yet). */
  record (key: string): ConfidenceRecord {
    const record = this.#records.get(key) ?? freshRecord(this.#settings())
    return { ...record, errorCounts: { ...record.errorCounts } }
  }

  /**
   * The one observer of changes (the cluster's health sync, which shares
   * them with other instances); it must not block: it is called on the
   * request path.
   */
  observe (observer: ConfidenceObserver | undefined): void {
    this.#observer = observer
  }

  success (key: string, now: number): void {
    applySuccess(this.#get(key), now, this.#settings())
    this.#observer?.(key, SUCCESS, now)
  }

  failure (key: string, kind: FailureClass, now: number): void {
    applyFailure(this.#get(key), kind, now, this.#settings())
    this.#observer?.(key, { type: 'failure', kind }, now)
  }

  connectivity (key: string, ok: boolean, now: number): void {
    applyConnectivity(this.#get(key), ok, now, this.#settings())
    this.#observer?.(key, { type: 'connectivity', ok }, now)
  }

  /**
   * News from another instance, applied as if seen here at `at` (never
   * before the record's last update, so its instants do not run backwards),
   * and not told to the observer.
   */
  apply (key: string, event: ConfidenceEvent, at: number): void {
    const record = this.#get(key)
    const settings = this.#settings()
    const when = Math.max(at, record.updatedAt)
    switch (event.type) {
      case 'success': return applySuccess(record, when, settings)
      case 'failure': return applyFailure(record, event.kind, when, settings)
      case 'connectivity': return applyConnectivity(record, event.ok, when, settings)
      default: {
        const never: never = event
        return never
      }
    }
  }

  /** Every record, as plain data (for sharing between instances). */
  entries (): Array<[string, ConfidenceRecord]> {
    return [...this.#records.keys()].map((key) => [key, this.record(key)])
  }

  /** Puts records read back from `entries()` in place. */
  load (entries: Iterable<readonly [string, ConfidenceRecord]>): void {
    for (const [key, record] of entries) this.#records.set(key, { ...record, errorCounts: { ...record.errorCounts } })
  }

  retain (keys: ReadonlySet<string>): void {
    for (const key of this.#records.keys()) {
      if (!keys.has(key)) this.#records.delete(key)
    }
  }
}
