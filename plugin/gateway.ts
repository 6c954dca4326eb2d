/**
 * The live state of one berry instance: the config in force, the token
 * table, health, and the upstream dispatcher. `reload` swaps the config in
 * one assignment: a request reads `gateway.current` once, in its
 * preHandler, and finishes on what it read.
 */
import { TokenTable } from './auth.js'
import { loadConfig } from './config/load.js'
import type { ConfigSource } from './config/source.js'
import type { BerryConfig } from './config/types.js'
import { HealthTracker } from './health/tracker.js'
import { createDispatcher, type UpstreamDispatcher } from './proxy/dispatcher.js'
import { SelectionState } from './select/selection-state.js'
import type { Random } from './select/weighted.js'

export interface Snapshot {
  readonly config: BerryConfig
  readonly tokens: TokenTable
}

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

export class Gateway {
  #current: Snapshot
  readonly health = new HealthTracker(() => this.#current.config.settings.smartAi)
  readonly selection = new SelectionState()
  readonly upstream: UpstreamDispatcher
  readonly random: Random
  readonly now: () => number
  readonly #env: NodeJS.ProcessEnv | undefined

  constructor (config: BerryConfig, options: { random: Random, now: () => number, env?: NodeJS.ProcessEnv }) {
    this.#current = { config, tokens: new TokenTable(config) }
    this.upstream = createDispatcher(config)
    this.random = options.random
    this.now = options.now
    this.#env = options.env
  }

  get current (): Snapshot {
    return this.#current
  }

  /**
   * Validates `source` and puts it in force; throws the config error (and
   * keeps the old config) when it is invalid. Health of backends that are
   * still configured is kept.
   */
  reload (source: ConfigSource): ConfigChange {
    const config = loadConfig(source, this.#env === undefined ? {} : { env: this.#env })
    const change = diffConfigs(this.#current.config, config)
    const keys = new Set<string>()
    for (const model of config.models.values()) {
      for (const backend of model.backends) keys.add(backend.key)
    }
    this.upstream.update(config)
    this.#current = { config, tokens: new TokenTable(config) }
    this.health.retain(keys)
    return change
  }

  close (): Promise<void> {
    return this.upstream.close()
  }
}
