/**
 * What one berry instance runs on: the snapshot of the config in force (the
 * config and every index built from it), the backends' health, the upstream
 * connection pool, and the clock and random source that selection and
 * health read. `reload` swaps the snapshot in one assignment; health lives
 * outside it, so a reload keeps the health of backends still configured.
 */
import { loadConfig } from './config/load.js'
import type { ConfigSource } from './config/source.js'
import type { BerryConfig } from './config/types.js'
import { Drain } from './drain.js'
import type { HealthTracker } from './health/tracker.js'
import type { SeriesSource } from './metrics.js'
import { createDispatcher, type UpstreamDispatcher } from './proxy/dispatcher.js'
import { SelectionState } from './select/selection-state.js'
import type { Random } from './select/weighted.js'
import { buildSnapshot, type Snapshot } from './snapshot.js'

export interface ConfigChange {
  readonly modelsAdded: string[]
  readonly modelsRemoved: string[]
  readonly backendsAdded: string[]
  readonly backendsRemoved: string[]
}

function backendIds (config: BerryConfig): Set<string> {
  const ids = new Set<string>()
  for (const model of config.models.values()) {
    for (const backend of model.backends) ids.add(`${model.name}:${backend.key}`)
  }
  return ids
}

export function diffConfigs (before: BerryConfig, after: BerryConfig): ConfigChange {
  const minus = (a: Iterable<string>, b: Set<string>): string[] => [...a].filter((x) => !b.has(x))
  const modelsBefore = new Set(before.models.keys())
  const modelsAfter = new Set(after.models.keys())
  const backendsBefore = backendIds(before)
  const backendsAfter = backendIds(after)
  return {
    modelsAdded: minus(modelsAfter, modelsBefore),
    modelsRemoved: minus(modelsBefore, modelsAfter),
    backendsAdded: minus(backendsAfter, backendsBefore),
    backendsRemoved: minus(backendsBefore, backendsAfter)
  }
}

export interface RuntimeOptions {
  readonly health: HealthTracker
  /** Where each backend's metric series come from (metrics.ts, or NO_METRICS). */
  readonly series: SeriesSource
  readonly random: Random
  readonly now: () => number
  readonly env: NodeJS.ProcessEnv | undefined
}

export class Runtime {
  #snapshot: Snapshot
  readonly health: HealthTracker
  /** Per-instance selection state (round_robin turns); kept across reloads. */
  readonly selection = new SelectionState()
  readonly upstream: UpstreamDispatcher
  /** The requests in flight, and whether the instance is closing (drain.ts). */
  readonly drain = new Drain()
  readonly random: Random
  /** The injected clock, in ms since the epoch: health timing, Retry-After, usage times. */
  readonly now: () => number
  readonly #series: SeriesSource
  readonly #env: NodeJS.ProcessEnv | undefined

  constructor (config: BerryConfig, options: RuntimeOptions) {
    this.health = options.health
    this.#series = options.series
    this.#snapshot = buildSnapshot(config, options.series)
    this.upstream = createDispatcher(config)
    this.random = options.random
    this.now = options.now
    this.#env = options.env
  }

  get snapshot (): Snapshot {
    return this.#snapshot
  }

  /**
   * Validates `source` and puts it in force; throws the config error (and
   * keeps the old config) when it is invalid. Health of backends that are
   * still configured is kept.
   */
  reload (source: ConfigSource): ConfigChange {
    const config = loadConfig(source, this.#env === undefined ? {} : { env: this.#env })
    const snapshot = buildSnapshot(config, this.#series)
    const change = diffConfigs(this.#snapshot.config, config)
    const keys = new Set<string>()
    for (const model of config.models.values()) {
      for (const backend of model.backends) keys.add(backend.key)
    }
    this.upstream.update(config)
    this.#snapshot = snapshot
    this.health.retain(keys)
    return change
  }

  close (): Promise<void> {
    return this.upstream.close()
  }
}
