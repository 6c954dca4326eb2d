/**
 * The preHandler of the proxied routes: checks the body, resolves the public
 * model and the backend (pinned, or a weighted choice among healthy ones),
 * enforces the caller's permissions, and leaves a `RouteState` on the
 * request for the handoff.
 */
import type { FastifyHttpProxyOptions } from '@fastify/http-proxy'
import type { FastifyRequest } from 'fastify'
import type { Model, PinningPolicy } from '../config/types.js'
import { InvalidBody, ModelNotAllowed, ModelNotFound, NoBackendAvailable, PinnedBackendUnavailable, PinningNotAllowed, RouteNotServed, Unauthenticated } from '../errors.js'
import { isRecord } from '../json.js'
import type { Runtime } from '../runtime.js'
import { findModel, findPinnedBackend, userMayUse } from '../select/lookup.js'
import { noBackendReason, selectBackend } from '../select/dispatch.js'
import type { Api } from '../protocols/types.js'
import { activeBackends, routableBackends, type Snapshot } from '../snapshot.js'
import { kRoute, kUser } from '../symbols.js'
import { hasTag, type BerryUser } from '../user.js'
import { MAX_JSON_DEPTH, nestsDeeperThan } from './json-depth.js'
import { chooseAttempt, prepareAttempt, type Attempt } from './attempt.js'
import { AttemptControl } from './dispatcher.js'
import type { RouteState } from './route-state.js'

function mayPin (user: BerryUser, policy: PinningPolicy): boolean {
  if (policy === 'all') return true
  if (policy === 'off') return false
  return policy.some((tag) => hasTag(user, tag))
}

interface Choice {
  readonly model: Model
  readonly attempt: Attempt
  readonly pinned: boolean
  readonly lastResort: boolean
}

/** Paths under `/v1` that berry proxies, and the API each one is. */
export const PROXIED_APIS: Readonly<Record<string, Api>> = {
  '/chat/completions': 'chat',
  '/completions': 'completions',
  '/embeddings': 'embeddings'
}

function newState (snapshot: Snapshot, user: BerryUser, choice: Choice, requestedModel: string, body: Record<string, unknown>, api: Api, tried: Set<string>): RouteState {
  // Fields spelled out rather than spread from `choice`: a measurably
  // cheaper object literal on the hot path.
  return {
    snapshot,
    user,
    model: choice.model,
    backend: choice.attempt.backend,
    attempt: choice.attempt,
    pinned: choice.pinned,
    lastResort: choice.lastResort,
    requestedModel,
    body,
    api,
    tried,
    attempts: [],
    attemptStartedAt: 0,
    control: new AttemptControl(0, 0),
    upstreamHeaderNames: [],
    clientGone: false
  }
}

/** The preHandler shape http-proxy's `preHandler` option takes. */
export type ProxyPreHandler = NonNullable<FastifyHttpProxyOptions['preHandler']>

export function createPreHandler (runtime: Runtime, routePrefix: string): ProxyPreHandler {
  function route (request: FastifyRequest): void {
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

    // The upstream route comes from the route as registered, never from the
    // client's URL: its case, encoding or query cannot steer the upstream.
    const path = (request.routeOptions.url ?? '').slice(routePrefix.length)
    const api = PROXIED_APIS[path]
    if (api === undefined) throw new Error(`berry: no API for the proxied route '${path}'`)
    const tried = new Set<string>()
    let choice: Choice
    if (pinnedId !== undefined) {
      if (!mayPin(user, config.settings.backendPinning)) throw PinningNotAllowed()
      request.log.info(`Using specified backend '${pinnedId}' for model '${requestedModel}'`)
      const found = findPinnedBackend(config, requestedModel, pinnedId, user)
      if (!found.ok) throw PinnedBackendUnavailable(pinnedId, requestedModel, found.reason)
      const ms = Math.round(performance.now() - startedAt)
      request.log.info(`Selected specific backend for model '${requestedModel}': provider='${found.backend.provider.id}', model='${found.backend.model}', selection_time=${ms}ms`)
      delete body.backend
      // A pinned backend whose protocol cannot carry the request: its 400, at once.
      choice = { model: found.model, attempt: prepareAttempt(snapshot, api, body, found.backend), pinned: true, lastResort: false }
    } else {
      if (model === undefined || !model.enabled) throw ModelNotFound(requestedModel)
      const candidates = routableBackends(snapshot, model, api)
      if (candidates.length === 0 && activeBackends(snapshot, model).length > 0) throw RouteNotServed(`/v1${path}`, `the protocols of model '${requestedModel}'`)
      const ctx = { health: runtime.health, random: runtime.random, now: runtime.now(), state: runtime.selection, settings: config.settings, user, exclude: tried }
      const chosen = chooseAttempt(() => selectBackend(model, candidates, ctx), (backend) => prepareAttempt(snapshot, api, body, backend), tried)
      if (!('attempt' in chosen)) throw chosen.refusal ?? NoBackendAvailable(requestedModel, noBackendReason(candidates))
      const ms = Math.round(performance.now() - startedAt)
      const { backend } = chosen.attempt
      request.log.info(`Selected backend for model '${requestedModel}': provider='${backend.provider.id}', model='${backend.model}', selection_time=${ms}ms`)
      choice = { model, attempt: chosen.attempt, pinned: false, lastResort: chosen.lastResort }
    }
    request[kRoute] = newState(snapshot, user, choice, requestedModel, body, api, tried)
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
