/**
 * Requests waiting for an upstream connection: counted, and bounded.
 *
 * undici queues a request when every connection of its origin's pool is
 * busy (`connections_per_origin`; over HTTP/1.1 a connection carries one
 * request, over HTTP/2 up to its stream limit), and a queued request has no
 * timeout of its own: its headers timeout starts once it is written. Left
 * alone, a request waits silently until its client gives up.
 *
 * undici writes a request when it calls the handler's `onConnect`, at once
 * inside `dispatch` when a connection is free; so an attempt that comes
 * back from `dispatch` without `onConnect` is waiting. Each such attempt is
 * counted by provider (`berry_upstream_queued_requests`) and given
 * `upstream_queue_timeout_seconds`. When that has passed and the pool holds
 * every connection it may open, all of them busy, the attempt ends with
 * BERRY_ERR_UPSTREAM_BUSY. A pool still opening a connection is not busy:
 * that wait is the connect timeout's, which blames the backend when it
 * fires.
 *
 * A request given up while queued stays in undici's queue until its turn;
 * its `onConnect` then throws, and undici drops it unwritten and keeps the
 * connection (client-h1.js and client-h2.js catch around `onConnect`).
 * test/scale/upstream-queue.test.ts fails if an upgrade changes that.
 */
import type { Duplex } from 'node:stream'
import { UpstreamBusy } from '../errors.js'
import type { AttemptControl, CallbackHandler } from './attempt-control.js'

type Abort = (reason?: Error) => void

/** How often waiting attempts are checked against their deadline. */
export const QUEUE_CHECK_INTERVAL_MS = 100

/**
 * Wraps an attempt's handler from its dispatch to its connection. Before
 * `onConnect` it owns the attempt's `abort` and `cut` (a client leaving, a
 * shutdown), which then end the attempt without undici.
 */
export class ConnectionWait implements CallbackHandler {
  readonly #handler: CallbackHandler
  readonly #control: AttemptControl
  /** performance.now() past which the wait may be given up. */
  readonly deadline: number
  /** undici called `onConnect`: the request is on the wire. */
  #connected = false
  /** Why the attempt ended before a connection, if it did. */
  #gaveUp: Error | undefined = undefined
  /** The list that counts this attempt while it waits, and its neighbours there. */
  #list: ConnectionWaits | undefined = undefined
  prev: ConnectionWait | undefined = undefined
  next: ConnectionWait | undefined = undefined
  /** The origin it waits for, once in the list. */
  origin = ''

  constructor (handler: CallbackHandler, control: AttemptControl) {
    this.#handler = handler
    this.#control = control
    this.deadline = performance.now() + control.queueTimeoutMs
    const giveUp = (reason: Error): void => { this.giveUp(reason) }
    control.abort = giveUp
    control.cut = giveUp
  }

  get provider (): string {
    return this.#control.provider
  }

  get queueTimeoutMs (): number {
    return this.#control.queueTimeoutMs
  }

  /** Neither connected nor ended. */
  get waiting (): boolean {
    return !this.#connected && this.#gaveUp === undefined
  }

  /** Ends the attempt with `reason` unless it already has a connection. */
  giveUp (reason: Error): void {
    if (!this.waiting) return
    this.#gaveUp = reason
    this.#leaveList()
    this.#control.abort = undefined
    this.#control.cut = undefined
    this.#handler.onError(reason)
  }

  enterList (list: ConnectionWaits): void {
    this.#list = list
  }

  #leaveList (): void {
    this.#list?.delete(this)
    this.#list = undefined
  }

  onConnect (abort: Abort, context?: unknown): void {
    // Thrown inside undici's try/catch: the request is dropped unwritten.
    if (this.#gaveUp !== undefined) throw this.#gaveUp
    this.#connected = true
    this.#leaveList()
    this.#handler.onConnect(abort, context)
  }

  onResponseStarted (): void {
    this.#handler.onResponseStarted?.()
  }

  onHeaders (statusCode: number, headers: Buffer[], resume: () => void, statusText: string): boolean {
    return this.#handler.onHeaders(statusCode, headers, resume, statusText)
  }

  onData (chunk: Buffer): boolean {
    return this.#handler.onData(chunk)
  }

  onComplete (trailers: string[] | null): void {
    this.#handler.onComplete(trailers)
  }

  onError (error: Error): void {
    // The handler heard its end already when the wait was given up.
    if (this.#gaveUp !== undefined) return
    this.#leaveList()
    this.#handler.onError(error)
  }

  onUpgrade (statusCode: number, headers: Buffer[] | string[] | null, socket: Duplex): void {
    this.#handler.onUpgrade?.(statusCode, headers, socket)
  }

  onBodySent (chunkSize: number, totalBytesSent: number): void {
    this.#handler.onBodySent?.(chunkSize, totalBytesSent)
  }
}

/**
 * The attempts of one dispatcher that are waiting for a connection, with a
 * count per provider and a check of their deadlines while any waits.
 *
 * They are kept in a list linked through the attempts themselves: undici
 * often connects a request a tick after `dispatch` even when a connection
 * is free, so nearly every attempt passes through here, and a `Map` keyed
 * by attempt cost about 20 µs of CPU per request (measured, mostly GC).
 */
export class ConnectionWaits {
  /** Oldest and newest waiting attempt. */
  #head: ConnectionWait | undefined = undefined
  #tail: ConnectionWait | undefined = undefined
  #size = 0
  readonly #busy = new Map<string, number>()
  /** Whether the origin's pool has every connection it may open (and so all are busy). */
  readonly #full: (origin: string) => boolean
  #timer: NodeJS.Timeout | undefined = undefined

  constructor (full: (origin: string) => boolean) {
    this.#full = full
  }

  /** Attempts waiting for a connection now, by provider id (counted when asked: scrapes are rare, requests are not). */
  queued (): ReadonlyMap<string, number> {
    const counts = new Map<string, number>()
    for (let wait = this.#head; wait !== undefined; wait = wait.next) counts.set(wait.provider, (counts.get(wait.provider) ?? 0) + 1)
    return counts
  }

  /** Attempts given up for want of a connection since start, by provider id. */
  busy (): ReadonlyMap<string, number> {
    return this.#busy
  }

  /** Counts `wait` from now on if `dispatch` left it waiting. */
  track (wait: ConnectionWait, origin: string): void {
    if (!wait.waiting) return
    wait.origin = origin
    wait.prev = this.#tail
    wait.next = undefined
    if (this.#tail === undefined) this.#head = wait
    else this.#tail.next = wait
    this.#tail = wait
    this.#size++
    wait.enterList(this)
    // Started once and kept, for the same reason as the list: checking an
    // empty list costs nothing.
    this.#timer ??= setInterval(() => { this.#check() }, QUEUE_CHECK_INTERVAL_MS).unref()
  }

  /** Called by the attempt as it connects, ends or is given up (once, as it leaves). */
  delete (wait: ConnectionWait): void {
    if (wait.prev === undefined) this.#head = wait.next
    else wait.prev.next = wait.next
    if (wait.next === undefined) this.#tail = wait.prev
    else wait.next.prev = wait.prev
    wait.prev = undefined
    wait.next = undefined
    this.#size--
  }

  #check (): void {
    if (this.#size === 0) return
    const now = performance.now()
    // Whether a pool is full is asked once per origin and check.
    const full = new Map<string, boolean>()
    const expired: ConnectionWait[] = []
    for (let wait = this.#head; wait !== undefined; wait = wait.next) {
      // Not `break`: a reload may have changed the wait allowed.
      if (wait.deadline > now) continue
      let isFull = full.get(wait.origin)
      if (isFull === undefined) {
        isFull = this.#full(wait.origin)
        full.set(wait.origin, isFull)
      }
      if (isFull) expired.push(wait)
    }
    for (const wait of expired) {
      this.#busy.set(wait.provider, (this.#busy.get(wait.provider) ?? 0) + 1)
      wait.giveUp(UpstreamBusy(wait.provider, wait.queueTimeoutMs / 1000))
    }
  }

  /** Stops the deadline checks (the dispatcher is closing). */
  close (): void {
    clearInterval(this.#timer)
    this.#timer = undefined
  }
}
