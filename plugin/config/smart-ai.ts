/**
 * `[settings.smart_ai]` with the original system's defaults. Every key does
 * what it says (docs/load-balancing.md), including the three the original
 * parsed and never applied: `exploration_ratio`,
 * `non_premium_stability_bonus` and `enable_time_decay`.
 */
import type { RawSmartAi } from './schema.js'
import type { SmartAiSettings } from './types.js'

export const DEFAULT_SMART_AI: SmartAiSettings = Object.freeze({
  initialConfidence: 0.8,
  minConfidence: 0.05,
  enableTimeDecay: true,
  lightweightCheckIntervalMs: 600_000,
  explorationRatio: 0.2,
  nonPremiumStabilityBonus: 1.1,
  successBoost: 0.1,
  penalties: Object.freeze({
    network: 0.3,
    auth: 0.8,
    rate_limit: 0.1,
    server: 0.2,
    model: 0.3,
    timeout: 0.2
  })
})

export function resolveSmartAi (raw: RawSmartAi | undefined, problems: string[]): SmartAiSettings {
  if (raw === undefined) return DEFAULT_SMART_AI
  const d = DEFAULT_SMART_AI
  const adjust = raw.confidence_adjustments ?? {}
  const settings: SmartAiSettings = Object.freeze({
    initialConfidence: raw.initial_confidence ?? d.initialConfidence,
    minConfidence: raw.min_confidence ?? d.minConfidence,
    enableTimeDecay: raw.enable_time_decay ?? d.enableTimeDecay,
    lightweightCheckIntervalMs: raw.lightweight_check_interval_seconds === undefined
      ? d.lightweightCheckIntervalMs
      : raw.lightweight_check_interval_seconds * 1000,
    explorationRatio: raw.exploration_ratio ?? d.explorationRatio,
    nonPremiumStabilityBonus: raw.non_premium_stability_bonus ?? d.nonPremiumStabilityBonus,
    successBoost: adjust.success_boost ?? d.successBoost,
    penalties: Object.freeze({
      network: adjust.network_error_penalty ?? d.penalties.network,
      auth: adjust.auth_error_penalty ?? d.penalties.auth,
      rate_limit: adjust.rate_limit_penalty ?? d.penalties.rate_limit,
      server: adjust.server_error_penalty ?? d.penalties.server,
      model: adjust.model_error_penalty ?? d.penalties.model,
      timeout: adjust.timeout_penalty ?? d.penalties.timeout
    })
  })
  // A floor above the starting point would make every new backend start
  // below its own floor.
  if (settings.minConfidence > settings.initialConfidence) {
    problems.push(`settings.smart_ai.min_confidence: ${settings.minConfidence} is above initial_confidence (${settings.initialConfidence})`)
  }
  return settings
}
