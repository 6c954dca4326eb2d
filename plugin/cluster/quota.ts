/**
 * Token quotas (`[users.<id>.quota]`), as arithmetic: given what a user has
 * used this UTC day and month, may another request go, how many tokens are
 * left, and when does the quota that stops it reset. Pure: the clock is an
 * argument. The hook that applies it is quota-hook.ts; the totals it reads
 * come from the usage store (usage-store.ts).
 */
import type { Quota } from '../config/types.js'
import { nextDayStart, nextMonthStart } from './periods.js'

/** A user's tokens (prompt + completion) in the current UTC day and month. */
export interface TokenUse {
  readonly day: number
  readonly month: number
}

export type QuotaPeriod = 'day' | 'month'

export interface QuotaBreach {
  readonly period: QuotaPeriod
  readonly limit: number
  readonly used: number
  /** When the period ends (ms since the epoch): the next UTC day or month. */
  readonly resetsAt: number
}

export interface QuotaStatus {
  /** Tokens left under the tightest quota, never below 0. */
  readonly remaining: number
  /** The limit of that tightest quota. */
  readonly limit: number
  /** The quota that stops the user, when one does: of those reached, the one that resets last. */
  readonly breach: QuotaBreach | undefined
}

/** Whether `quota` limits anything at all. */
export function hasLimits (quota: Quota): boolean {
  return quota.tokensPerDay !== undefined || quota.tokensPerMonth !== undefined
}

/**
 * Where `use` stands against `quota` at `now`. A quota is reached once the
 * recorded tokens are at or above it: a request's size is unknown before it
 * ends, so the request that crosses the line goes through and the next one
 * is refused.
 */
export function quotaStatus (quota: Quota, use: TokenUse, now: number): QuotaStatus {
  let remaining = Infinity
  let limit = 0
  let breach: QuotaBreach | undefined
  const consider = (period: QuotaPeriod, max: number | undefined, used: number, resetsAt: number): void => {
    if (max === undefined) return
    const left = Math.max(0, max - used)
    if (left < remaining) {
      remaining = left
      limit = max
    }
    if (used >= max && (breach === undefined || resetsAt > breach.resetsAt)) breach = { period, limit: max, used, resetsAt }
  }
  consider('day', quota.tokensPerDay, use.day, nextDayStart(now))
  consider('month', quota.tokensPerMonth, use.month, nextMonthStart(now))
  return { remaining: remaining === Infinity ? 0 : remaining, limit, breach }
}

/** `3h 12m`, `45s`, `2d 4h`: how long until a reset, to the two largest units. */
export function formatDuration (ms: number): string {
  const seconds = Math.max(0, Math.ceil(ms / 1000))
  const units: Array<[string, number]> = [['d', 86_400], ['h', 3600], ['m', 60], ['s', 1]]
  const parts: string[] = []
  let rest = seconds
  for (const [name, size] of units) {
    const count = Math.floor(rest / size)
    rest -= count * size
    if (count > 0 || (parts.length > 0 && parts.length < 2)) parts.push(`${count}${name}`)
    if (parts.length === 2) break
  }
  return parts.length === 0 ? '0s' : parts.join(' ')
}

/** The message of the 429: which quota, how much was used, and when it resets (UTC). */
export function quotaMessage (breach: QuotaBreach, now: number): string {
  const at = new Date(breach.resetsAt).toISOString().replace('.000Z', 'Z')
  const { period } = breach
  return `You exceeded your token quota: ${breach.used} of ${breach.limit} tokens per UTC ${period} used. ` +
    `It resets at ${at}, the start of the next UTC ${period} (in ${formatDuration(breach.resetsAt - now)}).`
}
