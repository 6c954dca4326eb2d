/** The weight view's builder, pure: the original's fields and formats, berry's effective weights. */
import t from 'tap'
import { loadConfig } from '../../plugin/config/load.js'
import type { Model } from '../../plugin/config/types.js'
import { HealthTracker } from '../../plugin/health/tracker.js'
import { smartAiWeight } from '../../plugin/select/smart-ai.js'
import { effectiveWeight, modelWeightsView, weightsView } from '../../plugin/select/weights-view.js'

const config = loadConfig(`
[providers.cheap]
base_url = "http://127.0.0.1:1/v1"
[providers.premium]
base_url = "http://127.0.0.1:2/v1"
[providers.off]
base_url = "http://127.0.0.1:3/v1"
enabled = false

[models.smart]
name = "gpt-4-smart"
strategy = "smart_ai"
[[models.smart.backends]]
provider = "cheap"
model = "gpt-3.5-turbo"
weight = 1.0
[[models.smart.backends]]
provider = "premium"
model = "gpt-4"
weight = 2.0
tags = ["premium"]
billing_mode = "per_request"
[[models.smart.backends]]
provider = "off"
model = "gpt-4"
[[models.smart.backends]]
provider = "cheap"
model = "gpt-4"
enabled = false

[models.plain]
name = "plain"
[[models.plain.backends]]
provider = "cheap"
model = "p"
weight = 3

[models.tiers]
strategy = "smart_weighted_failover"
[[models.tiers.backends]]
provider = "premium"
model = "t"
weight = 4

# Exact figures: the decay has its own tests (test/unit/confidence.test.ts).
[settings.smart_ai]
enable_time_decay = false
`)
const smart = config.models.get('gpt-4-smart') as Model
const NOW = 1_800_000_000_000
const breaker = { failureThreshold: 5, cooldownMs: 60_000 }

function health (): HealthTracker {
  const h = new HealthTracker(() => config.settings.smartAi)
  h.recordSuccess('cheap/gpt-3.5-turbo', 40, NOW - 5000)
  h.recordSuccess('cheap/gpt-3.5-turbo', 40, NOW - 5000)
  h.recordFailure('premium/gpt-4', { error: 'connection refused' }, NOW - 62_000, breaker)
  h.recordFailure('premium/gpt-4', { status: 500, error: 'HTTP 500' }, NOW - 2000, breaker)
  h.recordFailure('premium/gpt-4', { status: 429, error: 'HTTP 429' }, NOW - 2000, breaker)
  h.recordFailure('premium/gpt-4', { status: 401, error: 'HTTP 401' }, NOW - 2000, breaker)
  return h
}

t.test('the whole view: every model, the original\'s fields and names', async (t) => {
  const h = health()
  const view = weightsView(config, { health: h, now: NOW }, { detailed: false, enabledOnly: true })
  t.equal(view.timestamp, new Date(NOW).toISOString())
  t.equal(view.total_smart_ai_models, 1)
  t.same(view.settings, { detailed: false, enabled_only: true })
  t.same(view.available_models, [
    { key: 'smart', name: 'gpt-4-smart', enabled: true, strategy: 'SmartAi' },
    { key: 'plain', name: 'plain', enabled: true, strategy: 'WeightedRandom' },
    { key: 'tiers', name: 'tiers', enabled: true, strategy: 'SmartWeightedFailover' }
  ])
  const info = view.models[0]!
  t.same(Object.keys(info), ['name', 'strategy', 'enabled', 'backends', 'stats'])
  t.equal(info.name, 'gpt-4-smart')
  t.equal(info.strategy, 'SmartAi')
  t.same(info.backends.map((b) => `${b.provider}/${b.model}`), ['cheap/gpt-3.5-turbo', 'premium/gpt-4'], 'enabled_only leaves disabled backends (and providers) out')
  const [cheap, premium] = info.backends
  t.same(Object.keys(cheap!), ['provider', 'model', 'original_weight', 'effective_weight', 'confidence', 'is_premium', 'enabled', 'tags', 'billing_mode'])
  t.match(cheap, { original_weight: 1, confidence: 1, is_premium: false, enabled: true, tags: [], billing_mode: 'PerToken' })
  t.equal(cheap!.effective_weight, 1.1, 'confidence 1, not premium: 1 x 1 x 1.1')
  t.match(premium, { original_weight: 2, is_premium: true, billing_mode: 'PerRequest', tags: ['premium'] })
  // 0.8 - 0.3 (network) - 0.2 (server) - 0.1 (rate limit) - 0.8 (auth), floored
  // at 0.05: under 0.1, so c = 0.1 and the weight 2 x 0.1.
  t.equal(premium!.confidence, 0.05)
  t.equal(premium!.effective_weight, 2 * 0.1)
  t.same(info.stats, {
    total_backends: 2,
    enabled_backends: 2,
    healthy_backends: 1,
    premium_backends: 1,
    average_confidence: (1 + 0.05) / 2,
    weight_distribution: { cheap: 1.1, premium: 0.2 }
  })
  t.equal(view.models[1]!.backends[0]!.effective_weight, 3, 'other strategies: weight x recovery share')
})

t.test('enabled_only=false lists every backend; detailed adds health_details', async (t) => {
  const h = health()
  const { model } = modelWeightsView(smart, { health: h, now: NOW }, { detailed: true, enabledOnly: false })
  t.equal(model.backends.length, 4)
  t.match(model.stats, { total_backends: 4, enabled_backends: 2 })
  const off = model.backends[2]!
  t.match(off, { provider: 'off', enabled: false, effective_weight: 0 }, 'an unusable backend weighs 0')
  t.same(model.backends[0]!.health_details, {
    total_requests: 2,
    consecutive_successes: 2,
    consecutive_failures: 0,
    last_request_time: '5 seconds ago',
    last_success_time: '5 seconds ago',
    last_failure_time: null,
    error_counts: {},
    connectivity_ok: true,
    last_connectivity_check: null,
    circuit_state: 'healthy'
  })
  t.match(model.backends[1]!.health_details, {
    total_requests: 4,
    consecutive_failures: 4,
    last_success_time: null,
    last_failure_time: '2 seconds ago',
    last_request_time: '2 seconds ago',
    error_counts: { NetworkError: 1, ServerError: 1, RateLimitError: 1, AuthError: 1 },
    circuit_state: 'open'
  })
  t.same(off.health_details?.error_counts, {})
})

t.test('effective weights follow each strategy', async (t) => {
  const h = health()
  const [cheap, premium] = smart.backends
  t.equal(effectiveWeight(smart, cheap!, { health: h, now: NOW }), smartAiWeight(cheap!, h.confidence.confidence(cheap!.key, NOW), config.settings.smartAi))
  t.equal(effectiveWeight(smart, premium!, { health: h, now: NOW }), 0.2)
  const tiers = config.models.get('tiers') as Model
  const t0 = tiers.backends[0]!
  const h2 = new HealthTracker()
  h2.recordFailure(t0.key, { status: 401, error: 'HTTP 401' }, NOW, breaker)
  t.equal(effectiveWeight(tiers, t0, { health: h2, now: NOW }), 0.4, 'smart_weighted_failover: an open backend keeps 10%')
  const plain = config.models.get('plain') as Model
  const p0 = plain.backends[0]!
  h2.recordFailure(p0.key, { status: 401, error: 'HTTP 401' }, NOW, breaker)
  t.equal(effectiveWeight(plain, p0, { health: h2, now: NOW }), 0, 'weighted_random: an open backend gets nothing')
  t.equal(effectiveWeight(plain, p0, { health: h2, now: NOW + 60_000 }), 3, 'until its cooldown is over')
})
