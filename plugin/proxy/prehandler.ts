/**
 * The preHandler of the proxied routes: checks the body, resolves the public
 * model and the backend (pinned, or a weighted choice among healthy ones),
 * enforces the caller's permissions, and leaves a `RouteState` on the
 * request for the handoff.
 */
import type { FastifyHttpProxyOptions } from '@fastify/http-proxy'
import type { FastifyRequest } from 'fastify'
import type { Backend, Model, PinningPolicy } from '../config/types.js'
import { InvalidBody, ModelNotAllowed, ModelNotFound, NoBackendAvailable, PinnedBackendUnavailable, PinningNotAllowed, ShuttingDown, Unauthenticated } from '../errors.js'
import { isRecord } from '../json.js'
import type { Runtime } from '../runtime.js'
import { findModel, findPinnedBackend, userMayUse } from '../select/lookup.js'
import { noBackendReason, selectBackend } from '../select/dispatch.js'
import { activeBackends, type Snapshot } from '../snapshot.js'
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

function newState (snapshot: Snapshot, user: BerryUser, choice: Choice, requestedModel: string, body: Record<string, unknown>, path: string): RouteState {
  // Fields spelled out rather than spread from `choice`: a measurably
  // cheaper object literal on the hot path.
  return {
    snapshot,
    user,
    model: choice.model,
    backend: choice.backend,
    pinned: choice.pinned,
    lastResort: choice.lastResort,
    requestedModel,
    body,
    path,
    tried: new Set(),
    attempts: [],
    attemptStartedAt: 0,
    control: { headersTimeoutMs: 0, bodyTimeoutMs: 0, provider: '', queueTimeoutMs: 0, abort: undefined, cut: undefined, tap: undefined },
    upstreamHeaderNames: [],
    clientGone: false
  }
}

/** The preHandler shape http-proxy's `preHandler` option takes. */
export type ProxyPreHandler = NonNullable<FastifyHttpProxyOptions['preHandler']>

export function createPreHandler (runtime: Runtime, routePrefix: string): ProxyPreHandler {
  function route (request: FastifyRequest): void {
    // Closing (drain.ts): the balancer, or the client, takes it elsewhere.
    if (runtime.drain.draining) throw ShuttingDown()
    const startedAt = performance.now()
    const body = request.body
    if (!isRecord(body)) throw InvalidBody('The request body must be a JSON object')
    if (nestsDeeperThan(body, MAX_JSON_DEPTH)) {
      throw InvalidBody(`The request body nests deeper than ${MAX_JSON_DEPTH} levels`)
    }
    // The parsed body is berry's to change: `backend` is taken out in place
    // (an object rest copy is a slow path in V8) and `model` is set per attempt.
    const pinnedId = body.backend
    const requestedModel = body.model
    if (typeof requestedModel !== 'string' || requestedModel === '') {
      throw InvalidBody("'model' is required and must be a non-empty string")
    }
    if (pinnedId !== undefined && typeof pinnedId !== 'string') {
      throw InvalidBody("'backend' must be a string naming a provider")
    }
    const user = request[kUser]
    // The auth hook runs first on every proxied route; this guards the type.
    if (user === null) throw Unauthenticated('Invalid or missing credentials')
    const snapshot = runtime.snapshot
    const { config } = snapshot
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
      delete body.backend
    } else {
      if (model === undefined || !model.enabled) throw ModelNotFound(requestedModel)
      const active = activeBackends(snapshot, model)
      const selected = selectBackend(model, active, { health: runtime.health, random: runtime.random, now: runtime.now(), state: runtime.selection, settings: config.settings, user })
      if (selected === undefined) throw NoBackendAvailable(requestedModel, noBackendReason(active))
      const ms = Math.round(performance.now() - startedAt)
      request.log.info(`Selected backend for model '${requestedModel}': provider='${selected.backend.provider.id}', model='${selected.backend.model}', selection_time=${ms}ms`)
      choice = { model, backend: selected.backend, pinned: false, lastResort: selected.lastResort }
    }
    request[kRoute] = newState(snapshot, user, choice, requestedModel, body, path)
  }

  // Callback-shaped: routing is synchronous, and an async hook would cost
  // every request a promise and a trip through the microtask queue.
  return function berryPreHandler (request, _reply, done): void {
    try {
      route(request)
    } catch (err) {
      done(err instanceof Error ? err : new Error(String(err)))
      return
    }
    done()
  }
}
