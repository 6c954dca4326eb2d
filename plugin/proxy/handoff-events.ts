/**
 * What the proxy tells the rest of berry about a request as it happens:
 * accounting (the log line, metrics, usage) subscribes, and so can anything
 * else that watches traffic. A subscriber only listens: nothing here can
 * change where a request goes or whether it goes on, and routing never
 * waits for a subscriber. Every method is optional, and is called as a
 * plain function, never with `this` (combineEvents hands them on as they are).
 */
import type { FastifyRequest, RawServerBase, RequestGenericInterface } from 'fastify'
import type { Usage } from '../accounting/usage-scanner.js'
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
  /** Tokens a converted answer reported (the OpenAI protocol's are read from the body itself). */
  readonly usage?: Usage | undefined
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

/** One watcher that tells both (either may be absent). */
export function watchBoth (a: BodyWatcher | undefined, b: BodyWatcher | undefined): BodyWatcher | undefined {
  if (a === undefined) return b
  if (b === undefined) return a
  return {
    onChunk (chunk) { a.onChunk(chunk); b.onChunk(chunk) },
    onEnd (end) { a.onEnd(end); b.onEnd(end) }
  }
}

/** The subscribers' handlers of one event. */
function handlers<F> (subscribers: readonly HandoffEvents[], of: (s: HandoffEvents) => F | undefined): F[] {
  const found: F[] = []
  for (const s of subscribers) {
    const handler = of(s)
    if (handler !== undefined) found.push(handler)
  }
  return found
}

/**
 * One subscriber that tells each of `subscribers` in turn. An event only one
 * of them listens to goes straight to it, and one nobody listens to is left
 * out: the hot path pays for a fan-out only where there is one (measured:
 * a fan-out of every event to two subscribers cost about 2 % of a JSON
 * request's CPU).
 */
export function combineEvents (subscribers: readonly HandoffEvents[]): HandoffEvents {
  if (subscribers.length === 1) return subscribers[0] ?? {}
  const started = handlers(subscribers, (s) => s.requestStarted)
  const attempts = handlers(subscribers, (s) => s.attemptStarted)
  const answers = handlers(subscribers, (s) => s.answerStarted)
  const failovers = handlers(subscribers, (s) => s.failover)
  const gone = handlers(subscribers, (s) => s.clientGone)
  const ended = handlers(subscribers, (s) => s.requestEnded)
  return {
    requestStarted: started.length <= 1
      ? started[0]
      : (request) => { for (const f of started) f(request) },
    attemptStarted: attempts.length <= 1
      ? attempts[0]
      : (request, route) => { for (const f of attempts) f(request, route) },
    answerStarted: answers.length <= 1
      ? answers[0]
      : (request, route, answer) => {
          let watcher: BodyWatcher | undefined
          for (const f of answers) watcher = watchBoth(watcher, f(request, route, answer))
          return watcher
        },
    failover: failovers.length <= 1
      ? failovers[0]
      : (request, route, from, to) => { for (const f of failovers) f(request, route, from, to) },
    clientGone: gone.length <= 1
      ? gone[0]
      : (request) => { for (const f of gone) f(request) },
    requestEnded: ended.length <= 1
      ? ended[0]
      : (request) => { for (const f of ended) f(request) }
  }
}
