/**
 * The preHandler of the proxied routes: checks the body, resolves the public
 * model and the backend (pinned, or a weighted choice among healthy ones),
 * enforces the caller's permissions, and leaves a `RouteState` on the
 * request for the handoff.
 */
import type { FastifyHttpProxyOptions } from '@fastify/http-proxy'
import type { FastifyRequest } from 'fastify'
import type { Model, PinningPolicy } from '../config/types.js'
import { InvalidBody, ModelNotAllowed, ModelNotFound, NoBackendAvailable, PinnedBackendUnavailable, PinningNotAllowed, ResponseElsewhere, ResponseNotFound, RouteNotServed, ShuttingDown, Unauthenticated } from '../errors.js'
import { isRecord } from '../json.js'
import type { ResponseStore } from '../responses/response-store.js'
import type { Runtime } from '../runtime.js'
import { findModel, findPinnedBackend, userMayUse } from '../select/lookup.js'
import { noBackendReason, selectBackend } from '../select/dispatch.js'
import { mayUseBackend } from '../select/tags.js'
import type { Api } from '../protocols/types.js'
import { activeBackends, routableBackends, type Snapshot } from '../snapshot.js'
import { kRoute, kUser } from '../symbols.js'
import { hasTag, type BerryUser } from '../user.js'
import { MAX_JSON_DEPTH, nestsDeeperThan } from './json-depth.js'
import { chooseAttempt, prepareAttempt, type Attempt } from './attempt.js'
import { AttemptControl } from './attempt-control.js'
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
  readonly sticky: boolean
  readonly lastResort: boolean
}

/** Paths under `/v1` that berry proxies with a JSON body naming the model, and the API each one is. */
export const PROXIED_APIS: Readonly<Record<string, Api>> = {
  '/chat/completions': 'chat',
  '/completions': 'completions',
  '/embeddings': 'embeddings',
  '/responses': 'responses',
  '/moderations': 'moderations',
  '/images/generations': 'images',
  '/audio/speech': 'speech',
  '/messages': 'messages',
  '/messages/count_tokens': 'count_tokens'
}

/** APIs whose answers carry no token spending to count (a binary audio body, a token count). */
const UNCOUNTED: ReadonlySet<Api> = new Set(['speech', 'count_tokens'])

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
    sticky: choice.sticky,
    countTokens: !UNCOUNTED.has(api),
    lastResort: choice.lastResort,
    requestedModel,
    body,
    api,
    tried,
    attempts: [],
    attemptStartedAt: 0,
    control: new AttemptControl(0, 0, '', 0),
    upstreamHeaderNames: [],
    clientGone: false
  }
}

/** The preHandler shape http-proxy's `preHandler` option takes. */
export type ProxyPreHandler = NonNullable<FastifyHttpProxyOptions['preHandler']>

export function createPreHandler (runtime: Runtime, routePrefix: string, responses: ResponseStore): ProxyPreHandler {
  /**
   * A Responses request continuing a stored one goes where that one lives:
   * only its backend knows it. The user must be the one who made it (else
   * the same 404 as for an unknown id: nothing is revealed).
   */
  async function routeToStored (request: FastifyRequest, user: BerryUser, snapshot: Snapshot, body: Record<string, unknown>, requestedModel: string, pinnedId: string | undefined, id: string, tried: Set<string>): Promise<void> {
    const entry = await responses.find(id)
    if (entry === undefined || entry.user !== user.id) throw ResponseNotFound(id)
    if (pinnedId !== undefined && pinnedId !== entry.provider) throw InvalidBody(`'backend' names '${pinnedId}', but previous_response_id '${id}' is stored on backend '${entry.provider}'`)
    const model = findModel(snapshot.config, requestedModel)
    if (model === undefined || !model.enabled) throw ModelNotFound(requestedModel)
    const backend = model.backends.find((b) => b.provider.id === entry.provider && b.enabled && b.provider.enabled && mayUseBackend(user, b))
    if (backend === undefined) throw ResponseElsewhere(id, entry.provider, requestedModel)
    delete body.backend
    request.log.info(`Continuing stored response '${id}' on its backend '${backend.provider.id}' for model '${requestedModel}'`)
    const choice = { model, attempt: prepareAttempt(snapshot, 'responses', body, backend), pinned: pinnedId !== undefined, sticky: true, lastResort: false }
    request[kRoute] = newState(snapshot, user, choice, requestedModel, body, 'responses', tried)
  }

  function route (request: FastifyRequest): Promise<void> | undefined {
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

    // The upstream route comes from the route as registered, never from the
    // client's URL: its case, encoding or query cannot steer the upstream.
    const path = (request.routeOptions.url ?? '').slice(routePrefix.length)
    const api = PROXIED_APIS[path]
    if (api === undefined) throw new Error(`berry: no API for the proxied route '${path}'`)
    const tried = new Set<string>()
    const previous = api === 'responses' ? body.previous_response_id : undefined
    if (typeof previous === 'string' && previous !== '') return routeToStored(request, user, snapshot, body, requestedModel, pinnedId, previous, tried)
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
      choice = { model: found.model, attempt: prepareAttempt(snapshot, api, body, found.backend), pinned: true, sticky: false, lastResort: false }
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
      choice = { model, attempt: chosen.attempt, pinned: false, sticky: false, lastResort: chosen.lastResort }
    }
    request[kRoute] = newState(snapshot, user, choice, requestedModel, body, api, tried)
    return undefined
  }

  // Callback-shaped: routing is synchronous (but for a stored response's
  // lookup), and an async hook would cost every request a promise and a
  // trip through the microtask queue.
  return function berryPreHandler (request, _reply, done): void {
    let pending: Promise<void> | undefined
    try {
      pending = route(request)
    } catch (err) {
      done(err instanceof Error ? err : new Error(String(err)))
      return
    }
    if (pending === undefined) done()
    else pending.then(() => { done() }, (err: unknown) => { done(err instanceof Error ? err : new Error(String(err))) })
  }
}
