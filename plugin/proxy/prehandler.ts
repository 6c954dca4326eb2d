/**
 * The preHandler of the proxied routes: checks the body, resolves the public
 * model and the backend (pinned, or a weighted choice among healthy ones),
 * enforces the caller's permissions, and leaves a `RouteState` on the
 * request for the handoff.
 */
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import type { Backend, Model, PinningPolicy } from '../config/types.js'
import { InvalidBody, ModelNotAllowed, ModelNotFound, NoBackendAvailable, PinnedBackendUnavailable, PinningNotAllowed } from '../errors.js'
import type { Gateway } from '../gateway.js'
import { findModel, findPinnedBackend, userMayUse } from '../select/lookup.js'
import { noBackendReason, selectBackend } from '../select/dispatch.js'
import { kRoute, kUser } from '../symbols.js'
import { hasTag, type BerryUser } from '../user.js'
import { MAX_JSON_DEPTH, nestsDeeperThan } from './json-depth.js'
import type { RouteState } from './route-state.js'

function mayPin (user: BerryUser, policy: PinningPolicy): boolean {
  if (policy === 'all') return true
  if (policy === 'off') return false
  return policy.some((tag) => hasTag(user, tag))
}

interface Choice {
  readonly model: Model
  readonly backend: Backend
  readonly pinned: boolean
  readonly lastResort: boolean
}

function newState (choice: Choice, requestedModel: string, body: Record<string, unknown>, path: string, startedAt: number): RouteState {
  // Fields spelled out rather than spread from `choice`: a measurably
  // cheaper object literal on the hot path.
  return {
    model: choice.model,
    backend: choice.backend,
    pinned: choice.pinned,
    lastResort: choice.lastResort,
    requestedModel,
    body,
    path,
    startedAt,
    tried: new Set(),
    attempts: [],
    attemptStartedAt: 0,
    control: { headersTimeoutMs: 0, bodyTimeoutMs: 0, abort: undefined, tap: undefined },
    upstreamHeaderNames: [],
    clientGone: false
  }
}

export function createPreHandler (gateway: Gateway, routePrefix: string) {
  function route (request: FastifyRequest): void {
    const startedAt = performance.now()
    const body = request.body
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw InvalidBody('The request body must be a JSON object')
    }
    if (nestsDeeperThan(body, MAX_JSON_DEPTH)) {
      throw InvalidBody(`The request body nests deeper than ${MAX_JSON_DEPTH} levels`)
    }
    // The parsed body is berry's to change: `backend` is taken out in place
    // (an object rest copy is a slow path in V8) and `model` is set per attempt.
    const rest = body as Record<string, unknown>
    const pinnedId = rest.backend
    const requestedModel = rest.model
    if (typeof requestedModel !== 'string' || requestedModel === '') {
      throw InvalidBody("'model' is required and must be a non-empty string")
    }
    if (pinnedId !== undefined && typeof pinnedId !== 'string') {
      throw InvalidBody("'backend' must be a string naming a provider")
    }
    const user = request[kUser] as BerryUser
    const { config } = gateway.current
    const model = findModel(config, requestedModel)
    // Permission comes first, so a caller learns nothing of models or
    // backends they may not use.
    if (model !== undefined && !userMayUse(user, model, config)) throw ModelNotAllowed(requestedModel)

    // The upstream path comes from the route as registered, never from the
    // client's URL: its case, encoding or query cannot steer the upstream.
    const path = (request.routeOptions.url ?? '').slice(routePrefix.length)
    let choice: Choice
    if (pinnedId !== undefined) {
      if (!mayPin(user, config.settings.backendPinning)) throw PinningNotAllowed()
      request.log.info(`Using specified backend '${pinnedId}' for model '${requestedModel}'`)
      const found = findPinnedBackend(config, requestedModel, pinnedId, user)
      if (!found.ok) throw PinnedBackendUnavailable(pinnedId, requestedModel, found.reason)
      const ms = Math.round(performance.now() - startedAt)
      request.log.info(`Selected specific backend for model '${requestedModel}': provider='${found.backend.provider.id}', model='${found.backend.model}', selection_time=${ms}ms`)
      choice = { model: found.model, backend: found.backend, pinned: true, lastResort: false }
    } else {
      if (model === undefined || !model.enabled) throw ModelNotFound(requestedModel)
      const selected = selectBackend(model, { health: gateway.health, random: gateway.random, now: gateway.now(), state: gateway.selection, settings: config.settings, user })
      if (selected === undefined) throw NoBackendAvailable(requestedModel, noBackendReason(model))
      const ms = Math.round(performance.now() - startedAt)
      request.log.info(`Selected backend for model '${requestedModel}': provider='${selected.backend.provider.id}', model='${selected.backend.model}', selection_time=${ms}ms`)
      choice = { model, backend: selected.backend, pinned: false, lastResort: selected.lastResort }
    }
    if (pinnedId !== undefined) delete rest.backend
    request[kRoute] = newState(choice, requestedModel, rest, path, startedAt)
  }

  // Callback-shaped: routing is synchronous, and an async hook would cost
  // every request a promise and a trip through the microtask queue.
  return function berryPreHandler (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
    try {
      route(request)
    } catch (err) {
      done(err as Error)
      return
    }
    done()
  }
}
