/**
 * Choosing a backend for a load-balanced request: the candidates (enabled,
 * allowed by the user's tags, not yet tried by this request), the model's
 * strategy, berry's internal re-draws, and the last resort. Pure: health,
 * randomness and time come in as arguments.
 */
import type { Backend, Model, SmartAiSettings } from '../config/types.js'
import type { HealthTracker } from '../health/tracker.js'
import type { SelectionState } from './selection-state.js'
import { STRATEGY_IMPLEMENTATIONS } from './strategies.js'
import type { StrategyState } from './strategy.js'
import { mayUseBackend, seesEveryBackend, type TaggedUser } from './tags.js'
import type { Random } from './weighted.js'

export interface SelectSettings {
  /** Draws again when a pick's circuit is open, at most this many times (`max_internal_retries`). */
  readonly maxInternalRetries: number
  readonly smartAi: SmartAiSettings
}

export interface SelectContext {
  readonly health: HealthTracker
  readonly random: Random
  readonly now: number
  /** This instance's rotation state (round_robin). */
  readonly state: SelectionState
  /** `config.settings` fits. */
  readonly settings: SelectSettings
  /** The caller: the tag rule decides which backends they may use. */
  readonly user: TaggedUser
  /** Backend keys already tried by this request. */
  readonly exclude?: ReadonlySet<string>
}

export interface Selection {
  readonly backend: Backend
  /** True when every candidate's circuit was open: this one is a last resort. */
  readonly lastResort: boolean
}

/** Of a model's `active` backends (the snapshot's), those this request may go to. */
export function candidatesFor (active: readonly Backend[], user: TaggedUser, exclude?: ReadonlySet<string>): readonly Backend[] {
  const everyBackend = seesEveryBackend(user)
  if (everyBackend && (exclude === undefined || exclude.size === 0)) return active
  return active.filter((b) => (exclude === undefined || !exclude.has(b.key)) && (everyBackend || mayUseBackend(user, b)))
}

/** Why `selectBackend` found nothing for a fresh request (the 503's detail). */
export function noBackendReason (active: readonly Backend[]): string {
  if (active.length === 0) return 'no enabled backend is configured'
  return 'no enabled backend shares a tag with this user'
}

/** What strategies may know of the candidates, read at one instant. */
class HealthView implements StrategyState {
  readonly #ctx: SelectContext
  readonly #modelKey: string

  constructor (ctx: SelectContext, modelKey: string) {
    this.#ctx = ctx
    this.#modelKey = modelKey
  }

  get smartAi (): SmartAiSettings {
    return this.#ctx.settings.smartAi
  }

  available (backend: Backend): boolean {
    return this.#ctx.health.isAvailable(backend.key, this.#ctx.now, backend.provider.breaker)
  }

  recoveryFactor (backend: Backend): number {
    return this.#ctx.health.weightFactor(backend.key)
  }

  confidence (backend: Backend): number {
    return this.#ctx.health.confidence.confidence(backend.key, this.#ctx.now)
  }

  latencyMs (backend: Backend): number | undefined {
    return this.#ctx.health.latencyMs(backend.key)
  }

  nextTurn (): number {
    return this.#ctx.state.nextTurn(this.#modelKey)
  }
}

/**
 * The model's strategy picks among the candidates. smart_ai and
 * smart_weighted_failover may pick a backend whose circuit is open (its
 * trickle of traffic); then berry draws again, at most
 * `max_internal_retries` times, and the last pick stands: a backend such a
 * draw picks with probability p gets about p^(k+1) of the traffic.
 * The other strategies leave open backends out. When no candidate is
 * available at all, the one whose cooldown ends first is tried rather than
 * failing without trying.
 */
export function selectBackend (model: Model, active: readonly Backend[], ctx: SelectContext): Selection | undefined {
  const candidates = candidatesFor(active, ctx.user, ctx.exclude)
  if (candidates.length === 0) return undefined
  const strategy = STRATEGY_IMPLEMENTATIONS[model.strategy]
  const view = new HealthView(ctx, model.key)
  let pick = strategy(candidates, view, ctx)
  if (pick !== undefined) {
    for (let i = 0; i < ctx.settings.maxInternalRetries && !view.available(pick); i++) {
      const again = strategy(candidates, view, ctx)
      if (again === undefined) break
      pick = again
    }
    if (view.available(pick)) return { backend: pick, lastResort: false }
    return { backend: pick, lastResort: !candidates.some((b) => view.available(b)) }
  }

  let soonest: Backend | undefined
  let soonestAt = Infinity
  for (const backend of candidates) {
    const at = ctx.health.availableAt(backend.key, backend.provider.breaker)
    if (soonest === undefined || at < soonestAt) {
      soonest = backend
      soonestAt = at
    }
  }
  return soonest === undefined ? undefined : { backend: soonest, lastResort: true }
}
