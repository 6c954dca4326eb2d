/**
 * Usage totals in memory, per user, public model and backend (provider id).
 * Pinned requests are counted like any other: the spec bills them normally.
 * A host that needs the figures to survive a restart persists the per-request
 * records (`onUsage`); these totals are for dashboards and quick checks.
 */

/** One proxied request, as handed to `onUsage`. */
export interface UsageRecord {
  /** Fastify's request id (also in the log line). */
  readonly requestId: string
  readonly user: string
  /** The public model name; '' when the request named no configured model. */
  readonly model: string
  /** The provider id that answered; '' when no backend was chosen. */
  readonly backend: string
  readonly pinned: boolean
  /** The status the client got (499: the client left before the end). */
  readonly status: number
  readonly latencyMs: number
  /** Upstream attempts (more than one after a failover). */
  readonly attempts: number
  readonly promptTokens: number
  readonly completionTokens: number
  readonly totalTokens: number
  /** False when the upstream reported no usage (a stream without `include_usage`). */
  readonly tokensReported: boolean
  /** When the request ended, in ms since the epoch. */
  readonly time: number
}

export interface UsageTotals {
  readonly user: string
  readonly model: string
  readonly backend: string
  readonly requests: number
  /** Requests answered with a status of 400 or more (499 included). */
  readonly errors: number
  readonly promptTokens: number
  readonly completionTokens: number
  readonly totalTokens: number
}

type Entry = { -readonly [K in keyof UsageTotals]: UsageTotals[K] }

export class UsageLedger {
  // user -> model -> backend: lookups without building a key string.
  readonly #byUser = new Map<string, Map<string, Map<string, Entry>>>()

  record (record: UsageRecord): void {
    let byModel = this.#byUser.get(record.user)
    if (byModel === undefined) {
      byModel = new Map()
      this.#byUser.set(record.user, byModel)
    }
    let byBackend = byModel.get(record.model)
    if (byBackend === undefined) {
      byBackend = new Map()
      byModel.set(record.model, byBackend)
    }
    let entry = byBackend.get(record.backend)
    if (entry === undefined) {
      entry = { user: record.user, model: record.model, backend: record.backend, requests: 0, errors: 0, promptTokens: 0, completionTokens: 0, totalTokens: 0 }
      byBackend.set(record.backend, entry)
    }
    entry.requests++
    if (record.status >= 400) entry.errors++
    entry.promptTokens += record.promptTokens
    entry.completionTokens += record.completionTokens
    entry.totalTokens += record.totalTokens
  }

  /** Copies of every total, by user, then model, then backend. */
  totals (): UsageTotals[] {
    const out: UsageTotals[] = []
    for (const byModel of this.#byUser.values()) {
      for (const byBackend of byModel.values()) {
        for (const entry of byBackend.values()) out.push({ ...entry })
      }
    }
    return out.sort((a, b) => compare(a.user, b.user) || compare(a.model, b.model) || compare(a.backend, b.backend))
  }
}

function compare (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
