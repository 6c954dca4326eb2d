/**
 * Usage totals in Redis, shared by every instance and kept across restarts.
 *
 * A finished request is counted at once in this instance's token view (so
 * the quota check sees it on the next request) and added to the open batch.
 * The batch goes out in one script call, off the request path: once the
 * current turn of the event loop is over when the last batch left more than
 * FLUSH_INTERVAL_MS ago (light traffic: the others hear of a request one
 * Redis round trip after it ended), else when that interval is over (heavy
 * traffic: one call carries every request of the interval).
 *
 * The script applies a batch at most once: an instance numbers its batches
 * and sends them strictly in order, and Redis keeps the last number applied
 * per instance, so a batch whose reply was lost (a timeout, a dropped
 * connection) is simply sent again. While Redis is away one open batch
 * holds the outage's usage; it goes out when Redis returns. The script
 * answers each user's new day and month token totals, which confirm this
 * instance's view, and publishes them to the other instances itself.
 *
 * Keys (after the client's key prefix, if any):
 *   berry:usage:days              set of the days that have totals
 *   berry:usage:<YYYY-MM-DD>      hash: JSON [user, model, backend, field] -> count,
 *                                 field one of requests, errors, prompt_tokens, completion_tokens
 *   berry:tokens:<YYYY-MM-DD>     hash: user -> tokens that day (expires after 3 days)
 *   berry:tokens:<YYYY-MM>        hash: user -> tokens that month (expires after 62 days)
 *   berry:usage:applied:<id>      the last batch number applied of one instance
 *                                 (expires a day after that instance's last batch)
 */
import type { FastifyBaseLogger } from 'fastify'
import type { UsageRecord } from '../accounting/usage-ledger.js'
import { UsageUnavailable } from '../errors.js'
import { isRecord } from '../json.js'
import { isDay, PeriodClock } from './periods.js'
import type { TokenUse } from './quota.js'
import { defineScript, MESSAGE_VERSION, type ClusterMessage, type RedisLink } from './redis-link.js'
import { TokenView } from './token-view.js'
import { compareTotals, inQuery, tokensOf, type UsageQuery, type UsageStore, type UsageTotals } from './usage-store.js'

/** The shortest time between two batches: under load, a batch carries every request of such an interval. */
export const FLUSH_INTERVAL_MS = 5
/** How long `close()` keeps trying to write what is pending. */
export const CLOSE_FLUSH_MS = 2000

export const DAYS_KEY = 'berry:usage:days'
export const usageKey = (day: string): string => `berry:usage:${day}`
export const tokensKey = (period: string): string => `berry:tokens:${period}`
const appliedKey = (instance: string): string => `berry:usage:applied:${instance}`

const APPLIED_TTL_MS = 86_400_000
const DAY_TOKENS_TTL_MS = 3 * 86_400_000
const MONTH_TOKENS_TTL_MS = 62 * 86_400_000

const FIELDS = ['requests', 'errors', 'prompt_tokens', 'completion_tokens'] as const
type Field = (typeof FIELDS)[number]

/**
 * KEYS[1]: the instance's last applied batch number; KEYS[2..]: the keys the
 * batch touches. ARGV[1]: this batch's number; ARGV[2]: how long the number
 * is kept (ms); ARGV[3]: the batch, as JSON:
 *   { incr: [[k, field, n]], add: [[k, member]], expire: [[k, ms]], read: [[k, user, period]] }
 * with k an index into KEYS; ARGV[4]: the channel; ARGV[5]: the instance id;
 * ARGV[6]: the message version. Returns the `read` totals, after the batch,
 * and publishes them as a `tokens` message.
 */
const FLUSH_SCRIPT = defineScript(`
local fresh = tonumber(ARGV[1]) > tonumber(redis.call('GET', KEYS[1]) or '0')
if fresh then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) else redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
local batch = cjson.decode(ARGV[3])
if fresh then
  for _, op in ipairs(batch.incr) do redis.call('HINCRBY', KEYS[op[1]], op[2], op[3]) end
  for _, op in ipairs(batch.add) do redis.call('SADD', KEYS[op[1]], op[2]) end
end
for _, op in ipairs(batch.expire) do redis.call('PEXPIRE', KEYS[op[1]], op[2]) end
local totals = {}
local news = {}
for i, op in ipairs(batch.read) do
  totals[i] = redis.call('HGET', KEYS[op[1]], op[2]) or '0'
  news[i] = { op[3], op[2], tonumber(totals[i]) }
end
if #news > 0 then
  redis.call('PUBLISH', ARGV[4], cjson.encode({ v = tonumber(ARGV[6]), type = 'tokens', from = ARGV[5], totals = news }))
end
return totals
`)

interface Cell {
  readonly day: string
  /** JSON [user, model, backend]: the start of each of the cell's fields. */
  readonly id: string
  readonly counts: Record<Field, number>
}

interface TokenCell {
  readonly period: string
  readonly user: string
  tokens: number
  readonly ttlMs: number
}

/** Requests gathered to be written in one script call. */
class Batch {
  /** Set when the batch is sealed: batches of an instance are numbered in the order they are sent. */
  seq = 0
  readonly cells = new Map<string, Cell>()
  readonly tokens = new Map<string, TokenCell>()
  requests = 0

  get empty (): boolean {
    return this.requests === 0
  }

  addTokens (period: string, user: string, tokens: number, ttlMs: number): void {
    const key = `${period}\n${user}`
    const cell = this.tokens.get(key)
    if (cell === undefined) this.tokens.set(key, { period, user, tokens, ttlMs })
    else cell.tokens += tokens
  }

  /** The script's KEYS and batch JSON for this batch of `instance`. */
  command (instance: string): { keys: string[], batch: string } {
    const keys = [appliedKey(instance)]
    const index = new Map<string, number>()
    const k = (key: string): number => {
      let i = index.get(key)
      if (i === undefined) {
        keys.push(key)
        i = keys.length
        index.set(key, i)
      }
      return i
    }
    const incr: Array<[number, string, string]> = []
    const add: Array<[number, string]> = []
    const expire: Array<[number, string]> = []
    const read: Array<[number, string, string]> = []
    const days = new Set<string>()
    for (const cell of this.cells.values()) {
      days.add(cell.day)
      const at = k(usageKey(cell.day))
      for (const field of FIELDS) {
        const n = cell.counts[field]
        if (n > 0) incr.push([at, `${cell.id.slice(0, -1)},${JSON.stringify(field)}]`, String(n)])
      }
    }
    for (const day of days) add.push([k(DAYS_KEY), day])
    for (const cell of this.tokens.values()) {
      const at = k(tokensKey(cell.period))
      if (cell.tokens > 0) incr.push([at, cell.user, String(cell.tokens)])
      expire.push([at, String(cell.ttlMs)])
      read.push([at, cell.user, cell.period])
    }
    return { keys, batch: JSON.stringify({ incr, add, expire, read }) }
  }
}

/** `[user, model, backend, field]` from a usage hash's field name. */
function parseField (text: string): [string, string, string, Field] | undefined {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  if (!Array.isArray(value) || value.length !== 4) return undefined
  const [user, model, backend, field] = value
  if (typeof user !== 'string' || typeof model !== 'string' || typeof backend !== 'string' || typeof field !== 'string') return undefined
  const known = FIELDS.find((f) => f === field)
  return known === undefined ? undefined : [user, model, backend, known]
}

const isCount = (text: string): boolean => /^\d+$/.test(text)

type PipelineReplies = Array<[Error | null, unknown]> | null

/** The replies of a pipeline, or throws the first command's error (a pipeline resolves even when its commands fail). */
function repliesOf (replies: PipelineReplies): unknown[] {
  const out: unknown[] = []
  for (const [err, value] of replies ?? []) {
    if (err !== null) throw err
    out.push(value)
  }
  return out
}

export interface RedisUsageDeps {
  readonly now: () => number
  readonly log: FastifyBaseLogger
}

export class RedisUsageStore implements UsageStore {
  readonly #link: RedisLink
  readonly #log: FastifyBaseLogger
  readonly #now: () => number
  readonly #clock = new PeriodClock()
  readonly #view = new TokenView()
  /** Sealed batches, oldest first: the first may have been sent without an answer. */
  readonly #sealed: Batch[] = []
  #open = new Batch()
  #seq = 0
  /** Cancels the batch's scheduled departure, when one is scheduled. */
  #scheduled: (() => void) | undefined
  /** performance.now() when the last batch left. */
  #lastSent = -Infinity
  /** Departures run one after the other, never two batches on their way at once. */
  #queue: Promise<unknown> = Promise.resolve()

  constructor (link: RedisLink, deps: RedisUsageDeps) {
    this.#link = link
    this.#log = deps.log
    this.#now = deps.now
    link.onMessage('tokens', (message) => this.#remoteTotals(message))
    link.onResync(() => this.#resync())
  }

  record (record: UsageRecord): void {
    const day = this.#clock.day(record.time)
    const month = this.#clock.month(record.time)
    const tokens = tokensOf(record)
    this.#view.add(record.user, tokens, record.time)
    const batch = this.#open
    const id = JSON.stringify([record.user, record.model, record.backend])
    const key = `${day}\n${id}`
    let cell = batch.cells.get(key)
    if (cell === undefined) {
      cell = { day, id, counts: { requests: 0, errors: 0, prompt_tokens: 0, completion_tokens: 0 } }
      batch.cells.set(key, cell)
    }
    cell.counts.requests++
    if (record.status >= 400) cell.counts.errors++
    cell.counts.prompt_tokens += record.promptTokens
    cell.counts.completion_tokens += record.completionTokens
    batch.addTokens(day, record.user, tokens, DAY_TOKENS_TTL_MS)
    batch.addTokens(month, record.user, tokens, MONTH_TOKENS_TTL_MS)
    batch.requests++
    if (this.#scheduled === undefined) this.#schedule()
  }

  #schedule (): void {
    const go = (): void => {
      this.#scheduled = undefined
      this.#enqueue(false).catch(() => {})
    }
    const wait = this.#lastSent + FLUSH_INTERVAL_MS - performance.now()
    if (wait <= 0) {
      const soon = setImmediate(go)
      soon.unref()
      this.#scheduled = () => clearImmediate(soon)
    } else {
      const later = setTimeout(go, wait)
      later.unref()
      this.#scheduled = () => clearTimeout(later)
    }
  }

  tokensUsed (user: string, now: number): TokenUse {
    return this.#view.used(user, now)
  }

  /** Writes every batch recorded so far; false when Redis is away (they wait for its return). */
  flush (): Promise<boolean> {
    return this.#enqueue(true)
  }

  #enqueue (everything: boolean): Promise<boolean> {
    const run = this.#queue.then(() => this.#drain(everything))
    this.#queue = run.catch(() => {})
    return run
  }

  /**
   * Seals what gathered and sends the sealed batches in order; with
   * `everything`, also what gathers meanwhile. While Redis is away nothing
   * is sealed: one open batch holds the whole outage's usage.
   */
  async #drain (everything: boolean): Promise<boolean> {
    if (!this.#link.up) return false
    this.#seal()
    for (let batch = this.#sealed[0]; batch !== undefined; batch = this.#sealed[0]) {
      if (!this.#link.up || !await this.#send(batch)) return false
      this.#sealed.shift()
      if (everything && this.#sealed.length === 0) this.#seal()
    }
    return true
  }

  #seal (): void {
    if (this.#open.empty) return
    this.#open.seq = ++this.#seq
    this.#sealed.push(this.#open)
    this.#open = new Batch()
  }

  async #send (batch: Batch): Promise<boolean> {
    const { keys, batch: json } = batch.command(this.#link.id)
    let reply: unknown
    try {
      this.#lastSent = performance.now()
      reply = await this.#link.run(FLUSH_SCRIPT, keys, [String(batch.seq), String(APPLIED_TTL_MS), json, this.#link.channel, this.#link.id, String(MESSAGE_VERSION)])
    } catch (err) {
      this.#link.failed(err)
      return false
    }
    const totals: unknown[] = Array.isArray(reply) ? reply : []
    let i = 0
    for (const cell of batch.tokens.values()) {
      const text = totals[i++]
      const total = typeof text === 'string' && isCount(text) ? Number(text) : undefined
      // The view's unconfirmed tokens move into the confirmed total in one step.
      this.#view.acknowledge(cell.period, cell.user, cell.tokens)
      if (total === undefined) continue
      this.#view.confirm(cell.period, cell.user, total)
    }
    return true
  }

  #remoteTotals (message: ClusterMessage): void {
    const { totals } = message
    if (!Array.isArray(totals)) return
    for (const entry of totals) {
      if (!Array.isArray(entry)) continue
      const [period, user, total] = entry
      if (typeof period !== 'string' || typeof user !== 'string' || typeof total !== 'number' || !Number.isSafeInteger(total)) continue
      this.#view.confirm(period, user, total)
    }
    this.#log.debug({ users: totals.length }, 'berry: token totals from another instance')
  }

  /** Redis is reachable (again): today's and this month's totals, then what waited here. */
  async #resync (): Promise<void> {
    const now = this.#now()
    const periods = [this.#clock.day(now), this.#clock.month(now)]
    const replies = repliesOf(await this.#link.commands.pipeline(periods.map((period) => ['hgetall', tokensKey(period)])).exec())
    periods.forEach((period, i) => {
      const hash = replies[i]
      if (!isRecord(hash)) return
      for (const [user, text] of Object.entries(hash)) {
        if (typeof text === 'string' && isCount(text)) this.#view.confirm(period, user, Number(text))
      }
    })
    await this.flush()
  }

  async totals (query?: UsageQuery): Promise<UsageTotals[]> {
    // What this instance counted is in before reading: a caller sees its own requests.
    if (!await this.flush()) throw UsageUnavailable()
    let days: string[]
    let replies: unknown[]
    try {
      days = (await this.#link.commands.smembers(DAYS_KEY)).filter((day) => isDay(day) && inQuery({ from: query?.from, to: query?.to }, day, '')).sort()
      replies = repliesOf(await this.#link.commands.pipeline(days.map((day) => ['hgetall', usageKey(day)])).exec())
    } catch (err) {
      this.#link.failed(err)
      throw UsageUnavailable()
    }
    const rows = new Map<string, { -readonly [K in keyof UsageTotals]: UsageTotals[K] }>()
    days.forEach((day, i) => {
      const hash = replies[i]
      if (!isRecord(hash)) return
      for (const [name, text] of Object.entries(hash)) {
        const field = parseField(name)
        if (field === undefined || typeof text !== 'string' || !isCount(text)) continue
        const [user, model, backend, counted] = field
        if (query?.user !== undefined && query.user !== user) continue
        const key = `${day}\n${name.slice(0, name.lastIndexOf(','))}`
        let row = rows.get(key)
        if (row === undefined) {
          row = { user, model, backend, day, requests: 0, errors: 0, prompt_tokens: 0, completion_tokens: 0 }
          rows.set(key, row)
        }
        row[counted] = Number(text)
      }
    })
    return [...rows.values()].sort(compareTotals)
  }

  async close (): Promise<void> {
    this.#scheduled?.()
    this.#scheduled = undefined
    const written = await Promise.race([
      this.flush(),
      new Promise<false>((resolve) => setTimeout(resolve, CLOSE_FLUSH_MS, false).unref())
    ])
    if (written) return
    const lost = this.#sealed.reduce((sum, batch) => sum + batch.requests, this.#open.requests)
    if (lost > 0) this.#log.warn({ requests: lost }, 'berry: usage of some requests could not be written to Redis before closing')
  }
}
