/**
 * A backend's breaker state and smart_ai confidence in the form instances
 * send each other: plain JSON with durations in place of instants ("open
 * for another 42,000 ms", "last success 1,200 ms ago"). Each receiver turns
 * them back into instants with its own clock, so clocks that disagree
 * between machines do not matter. Pure, and every reader of untrusted JSON
 * goes through a guard here.
 */
import type { FailureClass } from '../config/types.js'
import { isOneOf, isRecord } from '../json.js'
import type { ConfidenceEvent, ConfidenceRecord } from './confidence.js'
import { FAILURE_CLASSES } from './failure-class.js'
import type { BackendHealth } from './tracker.js'

export type BreakerShare =
  | { readonly state: 'healthy' }
  /** Open, for `remainingMs` more (may be negative: cooled, a trial may go). */
  | { readonly state: 'open', readonly remainingMs: number, readonly error: string }
  /** A trial went out `sinceMs` ago. */
  | { readonly state: 'half_open', readonly sinceMs: number }

/** The breaker state of `health` at `now`, for other instances. */
export function shareBreaker (health: Readonly<BackendHealth>, now: number): BreakerShare {
  switch (health.state) {
    case 'healthy': return { state: 'healthy' }
    case 'open': return { state: 'open', remainingMs: health.cooldownUntil - now, error: health.lastError ?? '' }
    case 'half_open': return { state: 'half_open', sinceMs: now - health.trialStartedAt }
    default: {
      const never: never = health.state
      return never
    }
  }
}

/** `share` as it stands `elapsedMs` after it was written. */
export function ageBreaker (share: BreakerShare, elapsedMs: number): BreakerShare {
  switch (share.state) {
    case 'healthy': return share
    case 'open': return { ...share, remainingMs: share.remainingMs - elapsedMs }
    case 'half_open': return { ...share, sinceMs: share.sinceMs + elapsedMs }
    default: {
      const never: never = share
      return never
    }
  }
}

const finite = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value)
const count = (value: unknown): value is number => finite(value) && value >= 0

export function parseBreakerShare (value: unknown): BreakerShare | undefined {
  if (!isRecord(value)) return undefined
  if (value.state === 'healthy') return { state: 'healthy' }
  if (value.state === 'open' && finite(value.remainingMs) && typeof value.error === 'string') {
    return { state: 'open', remainingMs: value.remainingMs, error: value.error.slice(0, 200) }
  }
  if (value.state === 'half_open' && finite(value.sinceMs)) return { state: 'half_open', sinceMs: value.sinceMs }
  return undefined
}

/** A ConfidenceRecord with each instant as a time ago (null: never). */
export interface ConfidenceShare {
  readonly confidence: number
  readonly updatedAgoMs: number
  readonly lastRequestAgoMs: number | null
  readonly totalRequests: number
  readonly consecutiveSuccesses: number
  readonly consecutiveFailures: number
  readonly lastSuccessAgoMs: number | null
  readonly lastFailureAgoMs: number | null
  readonly errorCounts: Readonly<Record<FailureClass, number>>
  readonly connectivityOk: boolean
  readonly lastConnectivityCheckAgoMs: number | null
}

const ago = (at: number | null, now: number): number | null => at === null ? null : now - at
const at = (agoMs: number | null, now: number): number | null => agoMs === null ? null : now - agoMs

export function shareConfidence (record: ConfidenceRecord, now: number): ConfidenceShare {
  return {
    confidence: record.confidence,
    updatedAgoMs: now - record.updatedAt,
    lastRequestAgoMs: ago(record.lastRequestAt, now),
    totalRequests: record.totalRequests,
    consecutiveSuccesses: record.consecutiveSuccesses,
    consecutiveFailures: record.consecutiveFailures,
    lastSuccessAgoMs: ago(record.lastSuccessAt, now),
    lastFailureAgoMs: ago(record.lastFailureAt, now),
    errorCounts: { ...record.errorCounts },
    connectivityOk: record.connectivityOk,
    lastConnectivityCheckAgoMs: ago(record.lastConnectivityCheckAt, now)
  }
}

/** The record `share` describes, with instants on this clock. */
export function confidenceFromShare (share: ConfidenceShare, now: number): ConfidenceRecord {
  return {
    confidence: share.confidence,
    updatedAt: now - share.updatedAgoMs,
    lastRequestAt: at(share.lastRequestAgoMs, now),
    totalRequests: share.totalRequests,
    consecutiveSuccesses: share.consecutiveSuccesses,
    consecutiveFailures: share.consecutiveFailures,
    lastSuccessAt: at(share.lastSuccessAgoMs, now),
    lastFailureAt: at(share.lastFailureAgoMs, now),
    errorCounts: { ...share.errorCounts },
    connectivityOk: share.connectivityOk,
    lastConnectivityCheckAt: at(share.lastConnectivityCheckAgoMs, now)
  }
}

function parseErrorCounts (value: unknown): Record<FailureClass, number> | undefined {
  if (!isRecord(value)) return undefined
  const counts: Record<FailureClass, number> = { network: 0, auth: 0, rate_limit: 0, server: 0, model: 0, timeout: 0 }
  for (const kind of FAILURE_CLASSES) {
    const n = value[kind]
    if (!count(n)) return undefined
    counts[kind] = n
  }
  return counts
}

const agoOrNull = (value: unknown): value is number | null => value === null || finite(value)

export function parseConfidenceShare (value: unknown): ConfidenceShare | undefined {
  if (!isRecord(value)) return undefined
  const { confidence, updatedAgoMs, lastRequestAgoMs, totalRequests, consecutiveSuccesses, consecutiveFailures, lastSuccessAgoMs, lastFailureAgoMs, connectivityOk, lastConnectivityCheckAgoMs } = value
  const errorCounts = parseErrorCounts(value.errorCounts)
  if (!finite(confidence) || confidence < 0 || confidence > 1 || !finite(updatedAgoMs) || errorCounts === undefined) return undefined
  if (!count(totalRequests) || !count(consecutiveSuccesses) || !count(consecutiveFailures) || typeof connectivityOk !== 'boolean') return undefined
  if (!agoOrNull(lastRequestAgoMs) || !agoOrNull(lastSuccessAgoMs) || !agoOrNull(lastFailureAgoMs) || !agoOrNull(lastConnectivityCheckAgoMs)) return undefined
  return { confidence, updatedAgoMs, lastRequestAgoMs, totalRequests, consecutiveSuccesses, consecutiveFailures, lastSuccessAgoMs, lastFailureAgoMs, errorCounts, connectivityOk, lastConnectivityCheckAgoMs }
}

/** `share` as it stands `elapsedMs` after it was written. */
export function ageConfidence (share: ConfidenceShare, elapsedMs: number): ConfidenceShare {
  const older = (agoMs: number | null): number | null => agoMs === null ? null : agoMs + elapsedMs
  return {
    ...share,
    updatedAgoMs: share.updatedAgoMs + elapsedMs,
    lastRequestAgoMs: older(share.lastRequestAgoMs),
    lastSuccessAgoMs: older(share.lastSuccessAgoMs),
    lastFailureAgoMs: older(share.lastFailureAgoMs),
    lastConnectivityCheckAgoMs: older(share.lastConnectivityCheckAgoMs)
  }
}

export function parseConfidenceEvent (value: unknown): ConfidenceEvent | undefined {
  if (!isRecord(value)) return undefined
  if (value.type === 'success') return { type: 'success' }
  if (value.type === 'failure' && typeof value.kind === 'string' && isOneOf(FAILURE_CLASSES, value.kind)) return { type: 'failure', kind: value.kind }
  if (value.type === 'connectivity' && typeof value.ok === 'boolean') return { type: 'connectivity', ok: value.ok }
  return undefined
}
