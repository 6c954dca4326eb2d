/**
 * What the proxy tells the rest of berry about a request as it happens:
 * accounting (the log line, metrics, usage) subscribes, and so can anything
 * else that watches traffic. A subscriber only listens: nothing here can
 * change where a request goes or whether it goes on, and routing never
 * waits for a subscriber. Every method is optional.
 */
import type { FastifyRequest, RawServerBase, RequestGenericInterface } from 'fastify'
import type { Backend } from '../config/types.js'
import type { RouteState } from './route-state.js'

/**
 * A request as the proxy sees it: reply-from's hooks type it for any
 * server (HTTP/1 or HTTP/2), so subscribers take that wider type too.
 */
export type ProxiedRequest = FastifyRequest<RequestGenericInterface, RawServerBase>

/** The answer the client is about to get, as the upstream's headers arrive. */
export interface AnswerStart {
  readonly status: number
  /** A `text/event-stream` body. */
  readonly sse: boolean
  /** From sending this attempt to its response headers, in ms. */
  readonly ttfbMs: number
}

/** How the answer's body ended. */
export interface BodyEnd {
  /** Why the upstream broke off mid-body (`the upstream went silent`), else undefined. */
  readonly error: string | undefined
}

/** Watches the body of the answer berry relays (never a failed attempt's). */
export interface BodyWatcher {
  /** Each chunk as it passes; must not keep or alter it. */
  onChunk (chunk: Buffer): void
  /** Once: the body ended, cleanly or broken off. */
  onEnd (end: BodyEnd): void
}

export interface HandoffEvents {
  /** A proxied route took the request (after authentication and rate limits). */
  requestStarted? (request: ProxiedRequest): void
  /** An attempt is going upstream (`route.backend`). */
  attemptStarted? (request: ProxiedRequest, route: RouteState): void
  /** The answer the client gets has begun; a returned watcher sees its body. */
  answerStarted? (request: ProxiedRequest, route: RouteState, answer: AnswerStart): BodyWatcher | undefined
  /** A failed attempt is being retried on another backend. */
  failover? (request: ProxiedRequest, route: RouteState, from: Backend, to: Backend): void
  /** The client closed the connection before its answer was complete. */
  clientGone? (request: ProxiedRequest): void
  /** The response is over, complete or not: the last event of a request. */
  requestEnded? (request: ProxiedRequest): void
}

function bothWatch (a: BodyWatcher | undefined, b: BodyWatcher | undefined): BodyWatcher | undefined {
  if (a === undefined) return b
  if (b === undefined) return a
  return {
    onChunk (chunk) { a.onChunk(chunk); b.onChunk(chunk) },
    onEnd (end) { a.onEnd(end); b.onEnd(end) }
  }
}

/**
 * One subscriber that tells each of `subscribers` in turn. With a single
 * subscriber (the common case) that subscriber itself, so the hot path
 * pays no fan-out.
 */
export function combineEvents (subscribers: readonly HandoffEvents[]): HandoffEvents {
  if (subscribers.length === 1) return subscribers[0] ?? {}
  return {
    requestStarted (request) {
      for (const s of subscribers) s.requestStarted?.(request)
    },
    attemptStarted (request, route) {
      for (const s of subscribers) s.attemptStarted?.(request, route)
    },
    answerStarted (request, route, answer) {
      let watcher: BodyWatcher | undefined
      for (const s of subscribers) watcher = bothWatch(watcher, s.answerStarted?.(request, route, answer))
      return watcher
    },
    failover (request, route, from, to) {
      for (const s of subscribers) s.failover?.(request, route, from, to)
    },
    clientGone (request) {
      for (const s of subscribers) s.clientGone?.(request)
    },
    requestEnded (request) {
      for (const s of subscribers) s.requestEnded?.(request)
    }
  }
}
