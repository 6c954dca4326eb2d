/**
 * Where usage totals are kept: per UTC day, user, public model and backend,
 * requests and tokens. Two stores behind one interface, chosen at register
 * time: in memory (one process, since it started) and in Redis (every
 * instance, surviving restarts). Either keeps, beside the totals, each
 * user's tokens of the current day and month for the quota check, readable
 * without waiting.
 */
import type { UsageRecord } from '../accounting/usage-ledger.js'
import type { TokenUse } from './quota.js'

/** One row of the totals: a user's use of one model on one backend on one UTC day. */
export interface UsageTotals {
  readonly user: string
  /** The public model name; '' when the request named no configured model. */
  readonly model: string
  /** The provider id that answered; '' when no backend was chosen. */
  readonly backend: string
  /** The UTC day the requests ended, `YYYY-MM-DD`. */
  readonly day: string
  readonly requests: number
  /** Requests answered with a status of 400 or more (499 included). */
  readonly errors: number
  readonly prompt_tokens: number
  readonly completion_tokens: number
}

/** Which totals to read; every bound is optional. Days are `YYYY-MM-DD`, inclusive. */
export interface UsageQuery {
  readonly user?: string | undefined
  readonly from?: string | undefined
  readonly to?: string | undefined
}

export interface UsageStore {
  /** Counts a finished request: at once here, in the shared store soon after. Never waits. */
  record (record: UsageRecord): void
  /** The user's tokens in the UTC day and month of `now`, as known here (for quotas). */
  tokensUsed (user: string, now: number): TokenUse
  /** The totals, sorted by day, user, model and backend. */
  totals (query?: UsageQuery): Promise<UsageTotals[]>
  /** Writes what is still pending (bounded) and stops. */
  close (): Promise<void>
}

/** The tokens a request counts for, in totals and quotas. */
export function tokensOf (record: UsageRecord): number {
  return record.promptTokens + record.completionTokens
}

export function inQuery (query: UsageQuery | undefined, day: string, user: string): boolean {
  if (query === undefined) return true
  return (query.user === undefined || query.user === user) &&
    (query.from === undefined || day >= query.from) &&
    (query.to === undefined || day <= query.to)
}

function compare (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

export function compareTotals (a: UsageTotals, b: UsageTotals): number {
  return compare(a.day, b.day) || compare(a.user, b.user) || compare(a.model, b.model) || compare(a.backend, b.backend)
}
