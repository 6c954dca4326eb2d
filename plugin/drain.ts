/**
 * Closing without losing a request (SIGTERM, `app.close()`).
 *
 * When the app closes, berry's preClose hook (index.ts) calls
 * `closeGracefully`. From then on:
 *
 * - `GET /health` answers 503 `{"status": "draining"}`, so a balancer that
 *   checks it stops sending traffic here;
 * - a new proxied request is answered 503 BERRY_ERR_SHUTTING_DOWN with
 *   `Retry-After: 1` and `Connection: close`: the client, or the balancer
 *   in front (nginx `proxy_next_upstream http_503`), retries it elsewhere,
 *   and a keep-alive connection does not come back here. (Fastify itself
 *   answers requests that arrive while it closes, with its own 503, unless
 *   the host sets `return503OnClosing: false`, as the example app does.)
 * - proxied requests in flight finish, for up to `shutdown_grace_seconds`;
 * - then the rest are ended: a stream with berry's mid-stream error event
 *   (no `[DONE]`, so it never looks complete), a request still waiting for
 *   its upstream with 503 BERRY_ERR_SHUTTING_DOWN. The backends are not
 *   blamed for either.
 *
 * Fastify then stops listening, closes idle connections, and waits for the
 * busy ones before its onClose hooks run.
 */
import type { FastifyBaseLogger } from 'fastify'
import { ShuttingDown } from './errors.js'
import type { HandoffEvents, ProxiedRequest } from './proxy/handoff-events.js'
import { kOpen, kRoute } from './symbols.js'

/** How long the requests ended after the grace get to send their last bytes. */
export const CUT_SETTLE_MS = 5_000

/** A proxied request in flight, in the drain's list (under `kOpen` on the request). */
export class OpenRequest {
  readonly request: ProxiedRequest
  prev: OpenRequest | undefined = undefined
  next: OpenRequest | undefined = undefined

  constructor (request: ProxiedRequest) {
    this.request = request
  }
}

/**
 * The proxied requests in flight, and whether the instance is draining.
 * They are kept in a list linked through `OpenRequest`s, not in a `Set`:
 * every request passes through here, and a long-lived `Set` holding each
 * request for its lifetime cost about 2 % of a JSON request's CPU
 * (measured), mostly in GC.
 */
export class Drain {
  #draining = false
  #head: OpenRequest | undefined = undefined
  #size = 0
  #onSettled: (() => void) | undefined = undefined

  /** The app is closing: no new proxied requests. */
  get draining (): boolean {
    return this.#draining
  }

  /** Proxied requests between their start and the end of their response. */
  get open (): number {
    return this.#size
  }

  /** What the drain hears from the proxy (handoff-events.ts). */
  readonly events: HandoffEvents = {
    requestStarted: (request) => {
      const node = new OpenRequest(request)
      request[kOpen] = node
      node.next = this.#head
      if (this.#head !== undefined) this.#head.prev = node
      this.#head = node
      this.#size++
    },
    requestEnded: (request) => {
      const node = request[kOpen]
      if (node === null) return
      request[kOpen] = null
      if (node.prev === undefined) this.#head = node.next
      else node.prev.next = node.next
      if (node.next !== undefined) node.next.prev = node.prev
      this.#size--
      if (this.#size === 0) this.#onSettled?.()
    }
  }

  begin (): void {
    this.#draining = true
  }

  /** Resolves true once no request is open, or false when `ms` passed first. */
  settle (ms: number): Promise<boolean> {
    if (this.#size === 0) return Promise.resolve(true)
    return new Promise((resolve) => {
      const done = (settled: boolean): void => {
        clearTimeout(timer)
        this.#onSettled = undefined
        resolve(settled)
      }
      const timer = setTimeout(() => { done(false) }, ms)
      this.#onSettled = () => { done(true) }
    })
  }

  /**
   * Ends every request still open: a stream as an upstream that broke off
   * (its error event), a request waiting for a connection or for its
   * upstream's headers with `reason()`. Returns how many were ended.
   */
  cut (reason: () => Error): number {
    let count = 0
    for (let node = this.#head; node !== undefined; node = node.next) {
      const cut = node.request[kRoute]?.control.cut
      if (cut === undefined) continue
      cut(reason())
      count++
    }
    return count
  }
}

/** The preClose side of closing: stop taking requests, let those in flight finish, end the rest. */
export async function closeGracefully (drain: Drain, graceMs: number, log: FastifyBaseLogger): Promise<void> {
  drain.begin()
  const open = drain.open
  if (open === 0) return
  log.info(`berry: closing, waiting up to ${graceMs / 1000}s for ${open} proxied requests in flight`)
  const startedAt = performance.now()
  if (await drain.settle(graceMs)) {
    log.info(`berry: every request in flight finished within ${Math.round(performance.now() - startedAt)} ms`)
    return
  }
  const cut = drain.cut(ShuttingDown)
  log.warn(`berry: shutdown grace of ${graceMs / 1000}s over, ending ${cut} of ${drain.open} requests still in flight (streams end with an error event)`)
  if (!await drain.settle(CUT_SETTLE_MS)) log.warn(`berry: ${drain.open} requests still in flight after being ended`)
}
