/**
 * What happens when a client disconnects before its answer is complete:
 *
 * - the upstream request in flight is aborted at once (before its headers,
 *   or mid-stream: the provider stops generating tokens nobody will read);
 * - no failover follows, and the backend is not blamed for the abort;
 * - subscribers hear `clientGone` (accounting logs the request as 499).
 *
 * A client that leaves gets no 'finish' on its response, so Fastify's
 * onResponse never runs for it: the response's `close` is the only end such
 * a request has. Each proxied request gets exactly one `close` listener,
 * from the one onRequest hook of the proxied routes, which also announces
 * the request to subscribers (`requestStarted`), and its end (`requestEnded`).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { kRoute } from '../symbols.js'
import type { HandoffEvents } from './handoff-events.js'

/** No failover from here on, and the upstream request (if any) is aborted. */
export function clientLeft (request: FastifyRequest): void {
  const route = request[kRoute]
  if (route === null) return
  route.clientGone = true
  // Once the answer's body is flowing, Fastify also destroys undici's body
  // stream, which aborts the request as well; before that, this does.
  route.control.abort?.(new Error('client closed the connection'))
}

export function watchClientDisconnects (scope: FastifyInstance, events: HandoffEvents): void {
  scope.addHook('onRequest', function watchRequest (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) {
    if (!request.is404) {
      events.requestStarted?.(request)
      reply.raw.once('close', () => {
        // A finished response is onResponse's, however late its hooks run.
        if (!reply.raw.writableFinished) {
          clientLeft(request)
          events.clientGone?.(request)
        }
        events.requestEnded?.(request)
      })
    }
    done()
  })
}
