/**
 * Each user's tokens in the current UTC day and month, as this instance
 * knows them, for the quota check: read on the request path, so it never
 * waits for Redis. Two parts:
 *
 * - confirmed totals: what the shared store last said a user's total for a
 *   period is (every instance's flushed usage included), from the replies
 *   to this instance's own increments and from other instances' news. A
 *   period's total only grows, so the largest one heard wins, whatever the
 *   order the news arrives in.
 * - unconfirmed tokens: this instance's own usage not yet in any confirmed
 *   total (not flushed yet, or in flight); added at once, taken out when
 *   the store acknowledges them (in the same step that confirms the total
 *   including them).
 *
 * Without Redis only the second part is used: the view is the process's own.
 */
import { PeriodClock } from './periods.js'
import type { TokenUse } from './quota.js'

type Tally = Map<string, Map<string, number>>

function get (tally: Tally, period: string, user: string): number {
  return tally.get(period)?.get(user) ?? 0
}

function set (tally: Tally, period: string, user: string, value: number): void {
  let users = tally.get(period)
  if (users === undefined) {
    users = new Map()
    tally.set(period, users)
  }
  if (value > 0) users.set(user, value)
  else users.delete(user)
}

export class TokenView {
  readonly #clock = new PeriodClock()
  /** period (`YYYY-MM-DD` or `YYYY-MM`) -> user -> tokens */
  readonly #confirmed: Tally = new Map()
  readonly #unconfirmed: Tally = new Map()
  #day = ''

  /** Forgets the periods before the current day and month, once per day. */
  #roll (now: number): void {
    const day = this.#clock.day(now)
    if (day === this.#day) return
    this.#day = day
    const month = this.#clock.month(now)
    for (const tally of [this.#confirmed, this.#unconfirmed]) {
      for (const period of tally.keys()) {
        // Periods compare as text within their kind; one ahead of this
        // clock (another instance's clock is ahead) is kept.
        if (period < (period.length === day.length ? day : month)) tally.delete(period)
      }
    }
  }

  /** This instance's own tokens, counted at once. */
  add (user: string, tokens: number, at: number): void {
    if (tokens <= 0) return
    this.#roll(at)
    const day = this.#clock.day(at)
    const month = this.#clock.month(at)
    set(this.#unconfirmed, day, user, get(this.#unconfirmed, day, user) + tokens)
    set(this.#unconfirmed, month, user, get(this.#unconfirmed, month, user) + tokens)
  }

  /** The shared store says `user` has used `total` tokens in `period`. */
  confirm (period: string, user: string, total: number): void {
    if (total > get(this.#confirmed, period, user)) set(this.#confirmed, period, user, total)
  }

  /** `tokens` of this instance's own reached the shared store (and are in its next `confirm`). */
  acknowledge (period: string, user: string, tokens: number): void {
    set(this.#unconfirmed, period, user, Math.max(0, get(this.#unconfirmed, period, user) - tokens))
  }

  /** The user's tokens in the UTC day and month of `now`. */
  used (user: string, now: number): TokenUse {
    this.#roll(now)
    const day = this.#clock.day(now)
    const month = this.#clock.month(now)
    return {
      day: get(this.#confirmed, day, user) + get(this.#unconfirmed, day, user),
      month: get(this.#confirmed, month, user) + get(this.#unconfirmed, month, user)
    }
  }
}
