/**
 * The preHandler of a stored response's routes (`GET` and `DELETE
 * /v1/responses/{id}`, `POST /v1/responses/{id}/cancel`, `GET
 * /v1/responses/{id}/input_items`): the request goes to the backend that
 * created the response, and only for the user who created it. An id berry
 * does not know (or another user's) is a 404, never a guess.
 */
import type { FastifyRequest } from 'fastify'
import { RouteNotFound, ResponseNotFound, ShuttingDown } from '../errors.js'
import { isRecord } from '../json.js'
import type { ResponseStore } from '../responses/response-store.js'
import type { Runtime } from '../runtime.js'
import { userMayUse } from '../select/lookup.js'
import { mayUseBackend } from '../select/tags.js'
import { kRoute, kUser } from '../symbols.js'
import { storedResponseAttempt, type Attempt } from './attempt.js'
import { AttemptControl } from './attempt-control.js'
import type { ProxyPreHandler } from './prehandler.js'

/** Each route (after `/v1`) and the methods it answers. */
export const STORED_RESPONSE_ROUTES: Readonly<Record<string, { readonly suffix: string, readonly methods: ReadonlyArray<Attempt['method']> }>> = {
  '/responses/:id': { suffix: '', methods: ['GET', 'DELETE'] },
  '/responses/:id/cancel': { suffix: '/cancel', methods: ['POST'] },
  '/responses/:id/input_items': { suffix: '/input_items', methods: ['GET'] }
}

function methodOf (value: string, allowed: ReadonlyArray<Attempt['method']>): Attempt['method'] | undefined {
  return allowed.find((method) => method === value)
}

export function createStoredResponsePreHandler (runtime: Runtime, routePrefix: string, responses: ResponseStore): ProxyPreHandler {
  async function route (request: FastifyRequest): Promise<void> {
    // Closing (drain.ts): the balancer, or the client, takes it elsewhere.
    if (runtime.drain.draining) throw ShuttingDown()
    const path = (request.routeOptions.url ?? '').slice(routePrefix.length)
    const shape = STORED_RESPONSE_ROUTES[path]
    const method = shape === undefined ? undefined : methodOf(request.method, shape.methods)
    if (shape === undefined || method === undefined) throw RouteNotFound(request.method, request.url.split('?', 1)[0] ?? '')
    const id: unknown = isRecord(request.params) ? request.params.id : undefined
    const user = request[kUser]
    if (typeof id !== 'string' || user === null) throw ResponseNotFound(String(id))
    const entry = await responses.find(id)
    if (entry === undefined || entry.user !== user.id) throw ResponseNotFound(id)
    const snapshot = runtime.snapshot
    const { config } = snapshot
    const model = config.models.get(entry.model)
    const backend = model?.backends.find((b) => b.provider.id === entry.provider && b.enabled && b.provider.enabled && mayUseBackend(user, b))
    // A backend since removed or disabled, or rights since taken away: the response is out of reach.
    if (model === undefined || backend === undefined || !userMayUse(user, model, config)) throw ResponseNotFound(id)
    request[kRoute] = {
      snapshot,
      user,
      model,
      pinned: false,
      sticky: true,
      // Reading a response back spends nothing: its usage was counted when it was made.
      countTokens: false,
      lastResort: false,
      requestedModel: model.name,
      body: {},
      api: 'responses',
      backend,
      attempt: storedResponseAttempt(snapshot, backend, id, shape.suffix, method),
      tried: new Set(),
      attempts: [],
      attemptStartedAt: 0,
      control: new AttemptControl(0, 0, '', 0),
      upstreamHeaderNames: [],
      clientGone: false
    }
    if (method === 'DELETE') request.log.info(`Deleting stored response '${id}' on its backend '${backend.provider.id}'`)
  }

  return function storedResponsePreHandler (request, _reply, done): void {
    route(request).then(() => { done() }, (err: unknown) => { done(err instanceof Error ? err : new Error(String(err))) })
  }
}
