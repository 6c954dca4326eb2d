/**
 * The one place that owns berry's Redis connections, shared by everything
 * several instances keep in common (rate limits, health, usage, quotas):
 *
 * - a command connection that never makes anyone wait for a Redis that is
 *   away: no offline queue (a command fails at once while disconnected), a
 *   short command timeout, no retry of a command after a reconnect (the
 *   callers keep what they must resend);
 * - a subscriber connection for the one pub/sub channel instances talk on;
 * - reconnection with a capped backoff, a heartbeat that notices a Redis
 *   that hangs rather than refuses, the `up` flag berry_redis_up shows, one
 *   warning per outage, and a resynchronisation of every kind of shared
 *   state each time Redis is reachable again;
 * - a bounded `close()` that swallows the rejected QUIT of a dead connection.
 *
 * Given a URL, berry opens both connections. Given the host's ioredis
 * client, berry makes its two from it (`duplicate()`: the host's address,
 * credentials, TLS and key prefix, with berry's fail-fast settings) and
 * leaves the host's own client alone, open on close.
 */
import { createHash, randomUUID } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import type { Redis, RedisOptions } from 'ioredis'
import { errorMessage, isRecord } from '../json.js'

/** The longest any Redis command may take before it counts as failed (rate limits wait at most this). */
export const COMMAND_TIMEOUT_MS = 500
export const CONNECT_TIMEOUT_MS = 2000
/** How often a connected link checks that Redis still answers. */
export const HEARTBEAT_MS = 1000
/** The longest wait between two reconnection attempts. */
export const MAX_BACKOFF_MS = 1000
/** How long `close()` waits for a QUIT to be answered. */
export const CLOSE_TIMEOUT_MS = 1000
/** The pub/sub channel (after the client's key prefix, if any). */
export const CHANNEL = 'berry:cluster'

/** In every message; one of another version is ignored. */
export const MESSAGE_VERSION = 1

/** 50 ms, 100 ms, 200 ms, ... at most MAX_BACKOFF_MS: Redis back after a restart is found within a second. */
export function backoff (attempt: number): number {
  return Math.min(MAX_BACKOFF_MS, 50 * 2 ** Math.max(0, attempt - 1))
}

const COMMAND_OPTIONS: RedisOptions = {
  enableOfflineQueue: false,
  commandTimeout: COMMAND_TIMEOUT_MS,
  maxRetriesPerRequest: 0,
  connectTimeout: CONNECT_TIMEOUT_MS,
  // A Redis that stops answering (paused, overloaded) is dropped and dialled
  // again rather than waited for.
  socketTimeout: 2 * COMMAND_TIMEOUT_MS,
  retryStrategy: backoff,
  lazyConnect: false
}

const SUBSCRIBER_OPTIONS: RedisOptions = {
  // The SUBSCRIBE may wait for the first connection: nothing on the request
  // path goes through this connection.
  enableOfflineQueue: true,
  maxRetriesPerRequest: null,
  connectTimeout: CONNECT_TIMEOUT_MS,
  retryStrategy: backoff,
  autoResubscribe: true,
  lazyConnect: false
}

/** A Lua script, run by its SHA1 so its text crosses the wire once per connection. */
export interface Script {
  readonly source: string
  readonly sha: string
}

export function defineScript (source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') }
}

/** A message between instances, as received (already checked to be from another instance). */
export type ClusterMessage = Record<string, unknown>

function settleWithin (promise: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms)
    timer.unref()
    promise.then(undefined, () => {}).finally(() => {
      clearTimeout(timer)
      resolve()
    })
  })
}

export class RedisLink {
  /** This instance, in every message it sends: its own news is not applied twice. */
  readonly id = randomUUID()
  /** The fail-fast command connection. */
  readonly commands: Redis
  readonly #subscriber: Redis
  readonly #log: FastifyBaseLogger
  readonly #channel: string
  readonly #resyncs: Array<() => Promise<void>> = []
  readonly #handlers = new Map<string, (message: ClusterMessage) => void>()
  readonly #heartbeat: NodeJS.Timeout
  #up = false
  /** A command timed out: down until a heartbeat is answered. */
  #stalled = false
  #closing = false
  /** An outage was logged and its end is still to be logged. */
  #outage = false
  #reason = 'not connected yet'
  #resyncing: Promise<void> | undefined
  #resyncAgain = false
  #firstResync: (() => void) | undefined
  readonly #synced: Promise<void>
  #lastReplyWarning = -Infinity

  private constructor (commands: Redis, subscriber: Redis, log: FastifyBaseLogger) {
    this.commands = commands
    this.#subscriber = subscriber
    this.#log = log
    this.#channel = (commands.options.keyPrefix ?? '') + CHANNEL
    this.#synced = new Promise((resolve) => { this.#firstResync = resolve })
    for (const client of [commands, subscriber]) {
      // The error's message only: a URL may hold a password, messages do not.
      client.on('error', (err: unknown) => { this.#reason = errorMessage(err) })
      client.on('ready', () => this.#evaluate())
      client.on('close', () => this.#evaluate())
      client.on('end', () => this.#evaluate())
    }
    subscriber.on('message', (channel: string, text: string) => this.#receive(channel, text))
    subscriber.subscribe(this.#channel).catch((err: unknown) => { this.#reason = errorMessage(err) })
    this.#heartbeat = setInterval(() => this.#beat(), HEARTBEAT_MS)
    this.#heartbeat.unref()
  }

  /** Connections to `source` (a URL, or the host's client to copy). */
  static async open (source: string | Redis, log: FastifyBaseLogger): Promise<RedisLink> {
    if (typeof source !== 'string') {
      return new RedisLink(source.duplicate(COMMAND_OPTIONS), source.duplicate(SUBSCRIBER_OPTIONS), log)
    }
    const { Redis } = await import('ioredis')
    return new RedisLink(new Redis(source, COMMAND_OPTIONS), new Redis(source, SUBSCRIBER_OPTIONS), log)
  }

  /** The channel instances talk on (for a script that publishes itself). */
  get channel (): string {
    return this.#channel
  }

  /** Both connections ready and Redis answering: shared state is in use. */
  get up (): boolean {
    return this.#up
  }

  /** Runs each time Redis is reachable again (and at the first connection): reload and republish. */
  onResync (resync: () => Promise<void>): void {
    this.#resyncs.push(resync)
  }

  /** Handles messages of `type` from other instances. */
  onMessage (type: string, handler: (message: ClusterMessage) => void): void {
    this.#handlers.set(type, handler)
  }

  /** Tells the other instances, when connected; never waits. False when not sent. */
  publish (type: string, body: Record<string, unknown>): boolean {
    if (!this.#up) return false
    const text = JSON.stringify({ ...body, v: MESSAGE_VERSION, type, from: this.id })
    this.commands.publish(this.#channel, text).then(undefined, (err: unknown) => this.failed(err))
    return true
  }

  /** Runs `script` (EVALSHA, and EVAL once when Redis does not have it yet). */
  async run (script: Script, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    try {
      return await this.commands.evalsha(script.sha, keys.length, ...keys, ...args)
    } catch (err) {
      if (!errorMessage(err).startsWith('NOSCRIPT')) throw err
      return await this.commands.eval(script.source, keys.length, ...keys, ...args)
    }
  }

  /**
   * A command failed. A timeout means Redis hangs: shared state is set
   * aside until a heartbeat is answered. A connection error shows in the
   * connection's status already; Redis refusing a command is logged (at
   * most once a minute).
   */
  failed (err: unknown): void {
    const message = errorMessage(err)
    if (err instanceof Error && err.name === 'ReplyError') {
      const now = Date.now()
      if (now - this.#lastReplyWarning >= 60_000) {
        this.#lastReplyWarning = now
        this.#log.warn({ reason: message }, 'berry: Redis refused a command')
      }
      return
    }
    this.#reason = message
    if (/timed? ?out/i.test(message)) this.#stalled = true
    this.#evaluate()
  }

  /**
   * Waits at most `ms` for the first connection and resynchronisation.
   * When Redis is not there by then berry starts on local state, says so
   * once, and catches up when it comes.
   */
  async ready (ms: number): Promise<boolean> {
    await settleWithin(this.#synced, ms)
    if (this.#up) return true
    this.#warn()
    return false
  }

  #warn (): void {
    if (this.#outage || this.#closing) return
    this.#outage = true
    this.#log.warn({ reason: this.#reason }, 'berry: Redis is unavailable; health, usage, quotas and rate limits are per process until it returns')
  }

  #evaluate (): void {
    const ok = !this.#closing && !this.#stalled && this.commands.status === 'ready' && this.#subscriber.status === 'ready'
    if (ok === this.#up) return
    this.#up = ok
    if (!ok) {
      this.#warn()
      return
    }
    this.#resync()
  }

  #resync (): void {
    if (this.#resyncing !== undefined) {
      this.#resyncAgain = true
      return
    }
    this.#resyncing = (async () => {
      do {
        this.#resyncAgain = false
        const results = await Promise.allSettled(this.#resyncs.map((resync) => resync()))
        for (const result of results) {
          if (result.status === 'rejected') this.failed(result.reason)
        }
        // Lost again half-way: the next time Redis is back starts over.
      } while (this.#resyncAgain && this.#up)
      if (!this.#up) return
      this.#firstResync?.()
      if (this.#outage) {
        this.#outage = false
        this.#log.info('berry: Redis is available again; shared state resynchronised')
      }
    })().finally(() => { this.#resyncing = undefined })
  }

  #beat (): void {
    if (this.#closing || this.commands.status !== 'ready') return
    this.commands.ping().then(() => {
      if (!this.#stalled) return
      this.#stalled = false
      this.#evaluate()
    }, (err: unknown) => this.failed(err))
  }

  #receive (channel: string, text: string): void {
    if (channel !== this.#channel) return
    let message: unknown
    try {
      message = JSON.parse(text)
    } catch {
      return
    }
    if (!isRecord(message) || message.v !== MESSAGE_VERSION || message.from === this.id || typeof message.type !== 'string') return
    this.#handlers.get(message.type)?.(message)
  }

  /** Closes berry's connections, waiting at most CLOSE_TIMEOUT_MS for each QUIT. */
  async close (): Promise<void> {
    this.#closing = true
    this.#up = false
    clearInterval(this.#heartbeat)
    await Promise.all([this.commands, this.#subscriber].map(async (client) => {
      // A dead connection's QUIT rejects (or never answers): either way the
      // socket is then simply dropped.
      await settleWithin(client.quit(), CLOSE_TIMEOUT_MS)
      client.disconnect()
    }))
  }
}
