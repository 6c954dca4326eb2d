/**
 * Backend health shared through Redis.
 *
 * Breakers: each transition made here (open, a trial going out, closed) is
 * published at once and written to a hash, as a duration ("open for
 * another 42,000 ms"); the receivers put it in place with their own clock.
 * The hash holds each backend's last transition, stamped with Redis's own
 * clock, so an instance that starts (or reconnects) later ages the entries
 * by Redis's clock and again needs no agreement between machines' clocks.
 *
 * smart_ai confidence: every outcome of a smart_ai backend moves its
 * confidence; the outcomes are gathered for CONFIDENCE_FLUSH_MS and
 * published as events, which every instance applies to its own records, so
 * all converge on the confidence the whole cluster's traffic earned. The
 * records themselves (with ages for instants) go to a second hash for
 * instances that start later.
 *
 * News applied from elsewhere is never published again: the tracker does
 * not tell its observer about it. While Redis is away the tracker goes on
 * alone; the backends that changed meanwhile are remembered, and when Redis
 * returns the hash is read for the others and this instance's news for
 * those goes out (the latest news wins).
 *
 * Keys (after the client's key prefix): berry:health:breakers and
 * berry:health:confidence, hashes from backend key to `<redis ms> <json>`.
 */
import type { FastifyBaseLogger } from 'fastify'
import type { BerryConfig } from '../config/types.js'
import type { ConfidenceEvent } from '../health/confidence.js'
import {
  ageBreaker, ageConfidence, confidenceFromShare, parseBreakerShare, parseConfidenceEvent, parseConfidenceShare,
  shareBreaker, shareConfidence, type BreakerShare
} from '../health/shared-state.js'
import type { BackendHealth, HealthTracker } from '../health/tracker.js'
import { isRecord } from '../json.js'
import type { HealthSync } from './health-sync.js'
import { defineScript, type ClusterMessage, type RedisLink } from './redis-link.js'

export const BREAKERS_KEY = 'berry:health:breakers'
export const CONFIDENCE_KEY = 'berry:health:confidence'
/** How long confidence events gather before they are published. */
export const CONFIDENCE_FLUSH_MS = 100

/** KEYS[1]: a hash; ARGV: field, value, ... Each value is stored as `<Redis time in ms> <value>`. */
const STAMPED_WRITE = defineScript(`
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local stamp = string.format('%.0f', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
for i = 1, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], stamp .. ' ' .. ARGV[i + 1]) end
return stamp
`)

/** `<ms> <json>` -> the JSON value and how long ago (by Redis's clock, `redisNow`) it was written. */
export function readStamped (text: string, redisNow: number): { value: unknown, elapsedMs: number } | undefined {
  const space = text.indexOf(' ')
  const stamp = Number(text.slice(0, space))
  if (space < 1 || !Number.isFinite(stamp)) return undefined
  try {
    return { value: JSON.parse(text.slice(space + 1)), elapsedMs: Math.max(0, redisNow - stamp) }
  } catch {
    return undefined
  }
}

/** Redis's TIME reply, in ms. */
function timeOf (reply: unknown): number | undefined {
  if (!Array.isArray(reply)) return undefined
  const [seconds, micros] = reply
  const ms = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)
  return Number.isFinite(ms) ? ms : undefined
}

function backendKeys (config: BerryConfig, smartAiOnly: boolean): Set<string> {
  const keys = new Set<string>()
  for (const model of config.models.values()) {
    if (smartAiOnly && model.strategy !== 'smart_ai') continue
    for (const backend of model.backends) keys.add(backend.key)
  }
  return keys
}

interface PendingEvent {
  readonly key: string
  readonly event: ConfidenceEvent
  readonly at: number
}

export interface RedisHealthDeps {
  readonly health: HealthTracker
  readonly now: () => number
  /** The config in force: which backends exist, which serve smart_ai models. */
  readonly config: () => BerryConfig
  readonly log: FastifyBaseLogger
}

export class RedisHealthSync implements HealthSync {
  readonly #link: RedisLink
  readonly #deps: RedisHealthDeps
  /** Backend keys per config: every backend, and those of smart_ai models. */
  readonly #keys = new WeakMap<BerryConfig, { all: Set<string>, smartAi: Set<string> }>()
  /** Changed here while their news could not go out. */
  readonly #dirtyBreakers = new Set<string>()
  readonly #dirtyConfidence = new Set<string>()
  #pending: PendingEvent[] = []
  readonly #changed = new Set<string>()
  #timer: NodeJS.Timeout | undefined

  constructor (link: RedisLink, deps: RedisHealthDeps) {
    this.#link = link
    this.#deps = deps
    deps.health.observe((key, state, now) => this.#breakerChanged(key, state, now))
    deps.health.confidence.observe((key, event, now) => this.#confidenceChanged(key, event, now))
    link.onMessage('breaker', (message) => this.#remoteBreaker(message))
    link.onMessage('confidence', (message) => this.#remoteConfidence(message))
    link.onMessage('confidence-records', (message) => this.#remoteRecords(message))
    link.onResync(() => this.#resync())
  }

  #keysOf (): { all: Set<string>, smartAi: Set<string> } {
    const config = this.#deps.config()
    let keys = this.#keys.get(config)
    if (keys === undefined) {
      keys = { all: backendKeys(config, false), smartAi: backendKeys(config, true) }
      this.#keys.set(config, keys)
    }
    return keys
  }

  #breakerChanged (key: string, state: Readonly<BackendHealth>, now: number): void {
    if (!this.#link.up) {
      this.#dirtyBreakers.add(key)
      return
    }
    this.#sendBreakers([[key, shareBreaker(state, now)]])
  }

  #sendBreakers (shares: ReadonlyArray<readonly [string, BreakerShare]>): void {
    for (const [key, share] of shares) this.#link.publish('breaker', { key, share })
    this.#write(BREAKERS_KEY, shares, this.#dirtyBreakers)
  }

  /** Writes stamped entries to `hash`; the keys whose write failed go back to `dirty`. */
  #write (hash: string, entries: ReadonlyArray<readonly [string, unknown]>, dirty: Set<string>): void {
    if (entries.length === 0) return
    const args: string[] = []
    for (const [key, value] of entries) args.push(key, JSON.stringify(value))
    this.#link.run(STAMPED_WRITE, [hash], args).then(undefined, (err: unknown) => {
      for (const [key] of entries) dirty.add(key)
      this.#link.failed(err)
    })
  }

  #confidenceChanged (key: string, event: ConfidenceEvent, now: number): void {
    if (!this.#keysOf().smartAi.has(key)) return
    this.#pending.push({ key, event, at: now })
    this.#changed.add(key)
    if (this.#timer !== undefined) return
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      this.#flushConfidence()
    }, CONFIDENCE_FLUSH_MS)
    this.#timer.unref()
  }

  #flushConfidence (): void {
    const pending = this.#pending
    const changed = [...this.#changed]
    this.#pending = []
    this.#changed.clear()
    if (pending.length === 0) return
    if (!this.#link.up) {
      for (const key of changed) this.#dirtyConfidence.add(key)
      return
    }
    const now = this.#deps.now()
    this.#link.publish('confidence', { events: pending.map((p) => ({ key: p.key, event: p.event, agoMs: now - p.at })) })
    const book = this.#deps.health.confidence
    this.#write(CONFIDENCE_KEY, changed.map((key) => [key, shareConfidence(book.record(key), now)]), this.#dirtyConfidence)
  }

  #remoteBreaker (message: ClusterMessage): void {
    const share = parseBreakerShare(message.share)
    const { key } = message
    if (share === undefined || typeof key !== 'string' || !this.#keysOf().all.has(key)) return
    this.#deps.health.applyShared(key, share, this.#deps.now())
    this.#deps.log.debug({ backend: key, state: share.state }, 'berry: backend health from another instance')
  }

  #remoteConfidence (message: ClusterMessage): void {
    const { events } = message
    if (!Array.isArray(events)) return
    const { smartAi } = this.#keysOf()
    const now = this.#deps.now()
    const book = this.#deps.health.confidence
    let applied = 0
    for (const item of events) {
      if (!isRecord(item)) continue
      const event = parseConfidenceEvent(item.event)
      const { key, agoMs } = item
      if (event === undefined || typeof key !== 'string' || !smartAi.has(key) || typeof agoMs !== 'number' || !Number.isFinite(agoMs)) continue
      book.apply(key, event, now - Math.max(0, agoMs))
      applied++
    }
    this.#deps.log.debug({ events: applied }, 'berry: backend confidence from another instance')
  }

  /** Whole records, after another instance's resynchronisation: they replace these. */
  #remoteRecords (message: ClusterMessage): void {
    const { records } = message
    if (!Array.isArray(records)) return
    const { smartAi } = this.#keysOf()
    const now = this.#deps.now()
    for (const item of records) {
      if (!isRecord(item)) continue
      const share = parseConfidenceShare(item.share)
      const { key } = item
      if (share === undefined || typeof key !== 'string' || !smartAi.has(key)) continue
      this.#deps.health.confidence.load([[key, confidenceFromShare(share, now)]])
    }
    this.#deps.log.debug({ records: records.length }, 'berry: backend confidence records from another instance')
  }

  /** Redis is reachable (again): read what others know, then say what changed here meanwhile. */
  async #resync (): Promise<void> {
    const replies = await this.#link.commands.multi().time().hgetall(BREAKERS_KEY).hgetall(CONFIDENCE_KEY).exec()
    const [time, breakers, confidences] = (replies ?? []).map(([err, value]) => {
      if (err !== null) throw err
      return value
    })
    const redisNow = timeOf(time)
    if (redisNow === undefined) return
    const now = this.#deps.now()
    const { all, smartAi } = this.#keysOf()
    const { health } = this.#deps
    if (isRecord(breakers)) {
      for (const [key, text] of Object.entries(breakers)) {
        if (!all.has(key) || this.#dirtyBreakers.has(key) || typeof text !== 'string') continue
        const stamped = readStamped(text, redisNow)
        const share = parseBreakerShare(stamped?.value)
        if (stamped !== undefined && share !== undefined) health.applyShared(key, ageBreaker(share, stamped.elapsedMs), now)
      }
    }
    if (isRecord(confidences)) {
      for (const [key, text] of Object.entries(confidences)) {
        if (!smartAi.has(key) || this.#dirtyConfidence.has(key) || typeof text !== 'string') continue
        const stamped = readStamped(text, redisNow)
        const share = parseConfidenceShare(stamped?.value)
        if (stamped !== undefined && share !== undefined) health.confidence.load([[key, confidenceFromShare(ageConfidence(share, stamped.elapsedMs), now)]])
      }
    }
    const breakerNews = [...this.#dirtyBreakers].filter((key) => all.has(key))
    this.#dirtyBreakers.clear()
    this.#sendBreakers(breakerNews.map((key) => [key, shareBreaker(health.snapshot(key), now)]))
    const confidenceNews = [...this.#dirtyConfidence].filter((key) => smartAi.has(key))
    this.#dirtyConfidence.clear()
    if (confidenceNews.length > 0) {
      const records = confidenceNews.map((key) => ({ key, share: shareConfidence(health.confidence.record(key), now) }))
      this.#link.publish('confidence-records', { records })
      this.#write(CONFIDENCE_KEY, records.map((r) => [r.key, r.share]), this.#dirtyConfidence)
    }
  }

  async close (): Promise<void> {
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.#flushConfidence()
    this.#deps.health.observe(undefined)
    this.#deps.health.confidence.observe(undefined)
  }
}
