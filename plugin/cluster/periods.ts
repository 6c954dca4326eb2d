/**
 * Usage and quotas are counted per UTC day (`2026-11-22`) and UTC calendar
 * month (`2026-11`): every instance names a period the same way whatever its
 * time zone, and a quota resets at the same instant on all of them.
 */

const DAY_MS = 86_400_000

/** The UTC day of `ms` (ms since the epoch), as `YYYY-MM-DD`. */
export function dayOf (ms: number): string {
  return new Date(ms).toISOString().slice(0, 10)
}

/** The UTC month of `ms`, as `YYYY-MM`. */
export function monthOf (ms: number): string {
  return new Date(ms).toISOString().slice(0, 7)
}

/** The first instant of the UTC day after the one holding `ms`. */
export function nextDayStart (ms: number): number {
  return (Math.floor(ms / DAY_MS) + 1) * DAY_MS
}

/** The first instant of the UTC month after the one holding `ms`. */
export function nextMonthStart (ms: number): number {
  const date = new Date(ms)
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1)
}

/** Whether `text` is a day as `dayOf` writes it (and a real date). */
export function isDay (text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false
  const ms = Date.parse(`${text}T00:00:00Z`)
  return !Number.isNaN(ms) && dayOf(ms) === text
}

/**
 * `dayOf` and `monthOf` for a clock that mostly moves forward: the strings
 * are made once per day, not once per request.
 */
export class PeriodClock {
  #from = 0
  #until = 0
  #day = ''
  #month = ''

  #at (ms: number): void {
    if (ms >= this.#from && ms < this.#until) return
    this.#from = ms - (ms % DAY_MS)
    this.#until = this.#from + DAY_MS
    this.#day = dayOf(ms)
    this.#month = monthOf(ms)
  }

  day (ms: number): string {
    this.#at(ms)
    return this.#day
  }

  month (ms: number): string {
    this.#at(ms)
    return this.#month
  }
}
