/**
 * Usage totals in this process's memory, since it started: the store when
 * no Redis is configured. Quotas then hold per process.
 */
import type { UsageRecord } from '../accounting/usage-ledger.js'
import { PeriodClock } from './periods.js'
import type { TokenUse } from './quota.js'
import { TokenView } from './token-view.js'
import { compareTotals, inQuery, tokensOf, type UsageQuery, type UsageStore, type UsageTotals } from './usage-store.js'

type Entry = { -readonly [K in keyof UsageTotals]: UsageTotals[K] }

export class MemoryUsageStore implements UsageStore {
  // day -> user -> model -> backend: lookups without building a key string.
  readonly #byDay = new Map<string, Map<string, Map<string, Map<string, Entry>>>>()
  readonly #clock = new PeriodClock()
  readonly #view = new TokenView()

  record (record: UsageRecord): void {
    const day = this.#clock.day(record.time)
    let byUser = this.#byDay.get(day)
    if (byUser === undefined) {
      byUser = new Map()
      this.#byDay.set(day, byUser)
    }
    let byModel = byUser.get(record.user)
    if (byModel === undefined) {
      byModel = new Map()
      byUser.set(record.user, byModel)
    }
    let byBackend = byModel.get(record.model)
    if (byBackend === undefined) {
      byBackend = new Map()
      byModel.set(record.model, byBackend)
    }
    let entry = byBackend.get(record.backend)
    if (entry === undefined) {
      entry = { user: record.user, model: record.model, backend: record.backend, day, requests: 0, errors: 0, prompt_tokens: 0, completion_tokens: 0 }
      byBackend.set(record.backend, entry)
    }
    entry.requests++
    if (record.status >= 400) entry.errors++
    entry.prompt_tokens += record.promptTokens
    entry.completion_tokens += record.completionTokens
    this.#view.add(record.user, tokensOf(record), record.time)
  }

  tokensUsed (user: string, now: number): TokenUse {
    return this.#view.used(user, now)
  }

  async totals (query?: UsageQuery): Promise<UsageTotals[]> {
    const out: UsageTotals[] = []
    for (const [day, byUser] of this.#byDay) {
      for (const [user, byModel] of byUser) {
        if (!inQuery(query, day, user)) continue
        for (const byBackend of byModel.values()) {
          for (const entry of byBackend.values()) out.push({ ...entry })
        }
      }
    }
    return out.sort(compareTotals)
  }

  async close (): Promise<void> {}
}
