/** The original's health views, built from a config and a hand-driven health tracker. */
import t from 'tap'
import { loadConfig } from '../../plugin/config/load.js'
import { HealthTracker } from '../../plugin/health/tracker.js'
import { detailedHealth, healthSummary, simpleHealth } from '../../plugin/status/health-views.js'

const config = loadConfig(`
[providers.openai]
name = "OpenAI"
base_url = "https://api.example.com/v1"
api_key = "sk-openai-secret-000001"
models = ["gpt-4o", "gpt-4o-mini"]
[providers.claude]
base_url = "https://claude.example.com/v1"
api_key = "sk-claude-secret-000002"
[providers.off]
base_url = "https://off.example.com/v1"
enabled = false

[[models.gpt_4o.backends]]
provider = "openai"
model = "gpt-4o"
weight = 2
[[models.gpt_4o.backends]]
provider = "claude"
model = "claude-3-5-sonnet"
priority = 1
[[models.gpt_4o.backends]]
provider = "off"
model = "gpt-4o"

[models.fast]
name = "fast"
strategy = "failover"
[[models.fast.backends]]
provider = "claude"
model = "claude-3-haiku"

[models.retired]
enabled = false
[[models.retired.backends]]
provider = "openai"
model = "gpt-3.5-turbo"

[users.u]
token = "user-token-00000000001"
`)
const breaker = { failureThreshold: 5, cooldownMs: 60_000 }
const NOW = Date.UTC(2026, 0, 2, 3, 4, 5)
const key = (model: string, provider: string): string => config.modelsByKey.get(model)?.backends.find((b) => b.provider.id === provider)?.key ?? ''

t.test('all healthy: /health says so with the original summary', async (t) => {
  const s = healthSummary(config, new HealthTracker(), NOW)
  t.same(s, {
    status: 'healthy',
    service_running: true,
    summary: { provider_health: { total: 2, healthy: 2, ratio: 1 }, model_health: { total: 2, healthy: 2, ratio: 1 } },
    timestamp: '2026-01-02T03:04:05.000Z'
  })
})

t.test('a model without a healthy backend makes every view unhealthy', async (t) => {
  const health = new HealthTracker()
  health.recordFailure(key('fast', 'claude'), { status: 401, error: 'HTTP 401' }, NOW - 5_000, breaker)
  const s = healthSummary(config, health, NOW)
  t.equal(s.status, 'unhealthy')
  t.same(s.summary.model_health, { total: 2, healthy: 1, ratio: 0.5 })
  t.same(s.summary.provider_health, { total: 2, healthy: 1, ratio: 0.5 }, 'claude has a backend out of rotation')
  t.equal(simpleHealth(config, health, NOW, NOW - 90_000).status, 'unhealthy')
  t.equal(detailedHealth(config, health, NOW).status, 'unhealthy')
})

t.test('a sick backend beside a healthy one: the model is still served', async (t) => {
  const health = new HealthTracker()
  health.recordFailure(key('gpt_4o', 'openai'), { status: 403, error: 'HTTP 403' }, NOW, breaker)
  const s = healthSummary(config, health, NOW)
  t.equal(s.status, 'healthy')
  t.same(s.summary.provider_health, { total: 2, healthy: 1, ratio: 0.5 })
})

t.test('/v1/health: counts of providers, models and backends, and berry\'s own uptime', async (t) => {
  const health = new HealthTracker()
  health.recordFailure(key('gpt_4o', 'claude'), { status: 401, error: 'HTTP 401' }, NOW, breaker)
  t.same(simpleHealth(config, health, NOW, NOW - 90_500), {
    status: 'healthy',
    service_running: true,
    models_available: true,
    summary: {
      providers: { total: 3, enabled: 2, healthy: 1 },
      models: { total: 3, enabled: 2, healthy: 2 },
      backends: { total: 3, healthy: 2, health_ratio: 2 / 3 }
    },
    timestamp: '2026-01-02T03:04:05.000Z',
    uptime_seconds: 90
  })
})

t.test('/admin/health: the original detailed shape, keys as provider:model', async (t) => {
  const health = new HealthTracker()
  health.recordSuccess(key('gpt_4o', 'openai'), 123.4, NOW - 1000)
  const sick = key('gpt_4o', 'claude')
  for (let i = 0; i < 5; i++) health.recordFailure(sick, { status: 502, error: 'HTTP 502' }, NOW - 200_000 + i * 1000, breaker)
  health.attemptStarted(sick, NOW - 130_000)
  health.recordFailure(sick, { error: 'connection refused' }, NOW - 129_000, breaker)
  const d = detailedHealth(config, health, NOW)
  t.same(Object.keys(d).sort(), ['models', 'providers', 'service_running', 'status', 'summary', 'timestamp', 'unhealthy_backends'])
  t.same(Object.keys(d.providers), ['openai', 'claude'], 'enabled providers only')
  t.same(d.providers.openai, {
    name: 'OpenAI',
    healthy: true,
    enabled: true,
    models: {
      'gpt-4o': { healthy: true, latency_ms: 123, failure_count: 0, backend_key: 'openai:gpt-4o' },
      'gpt-4o-mini': { healthy: true, latency_ms: null, failure_count: 0, backend_key: 'openai:gpt-4o-mini' },
      'gpt-3.5-turbo': { healthy: true, latency_ms: null, failure_count: 0, backend_key: 'openai:gpt-3.5-turbo' }
    },
    total_models: 3,
    healthy_models: 3
  }, 'the models it lists, then those its backends serve')
  t.match(d.providers.claude, { name: 'claude', healthy: false, total_models: 2, healthy_models: 1 })
  t.same(Object.keys(d.models), ['gpt_4o', 'fast'], 'enabled models, by table key')
  t.same(d.models.gpt_4o, {
    name: 'gpt-4o',
    strategy: 'WeightedRandom',
    enabled: true,
    backends: [
      { provider: 'openai', model: 'gpt-4o', weight: 2, priority: 0, enabled: true, healthy: true, latency_ms: 123, failure_count: 0, backend_key: 'openai:gpt-4o' },
      { provider: 'claude', model: 'claude-3-5-sonnet', weight: 1, priority: 1, enabled: true, healthy: false, latency_ms: null, failure_count: 6, backend_key: 'claude:claude-3-5-sonnet' }
    ],
    total_backends: 2,
    healthy_backends: 1,
    health_ratio: 0.5
  }, "a disabled provider's backend is left out")
  t.equal(d.models.fast?.strategy, 'Failover')
  t.same(d.unhealthy_backends, [{
    backend_key: 'claude:claude-3-5-sonnet',
    failure_count: 6,
    first_failure: 200,
    last_failure: 129,
    recovery_attempts: 1,
    last_recovery_attempt: 130
  }])
})

t.test('no view names an upstream address or a key', async (t) => {
  const health = new HealthTracker()
  health.recordFailure(key('fast', 'claude'), { status: 401, error: 'HTTP 401' }, NOW, breaker)
  const text = JSON.stringify([healthSummary(config, health, NOW), simpleHealth(config, health, NOW, NOW), detailedHealth(config, health, NOW)])
  t.notMatch(text, /example\.com|sk-|secret|token/)
})
