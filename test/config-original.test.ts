/**
 * The original system's own example configurations, copied verbatim into
 * test/fixtures/original/, load with every key honoured: no warning about
 * anything ignored, unimplemented or unsupported.
 */
import t from 'tap'
import Fastify from 'fastify'
import { fileURLToPath } from 'node:url'
import { Writable } from 'node:stream'
import { Registry } from 'prom-client'
import berry, { loadConfig } from '../plugin/index.js'

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/original/${name}`, import.meta.url))
const EXAMPLE = fixture('config-example.toml')
const SMART_AI = fixture('smart_ai_example.toml')
const IGNORED = /ignored|not implemented|unsupported|not supported|compatib/i

t.test('smart_ai_example.toml loads with no warning at all', async (t) => {
  const config = loadConfig(SMART_AI)
  t.same(config.warnings, [])
  t.same([...config.models.values()].map((m) => [m.name, m.strategy]), [['gpt-4-smart', 'smart_ai'], ['claude-smart', 'smart_ai']])
  t.same(config.settings.smartAi, {
    initialConfidence: 0.8,
    minConfidence: 0.05,
    enableTimeDecay: true,
    lightweightCheckIntervalMs: 600_000,
    explorationRatio: 0.2,
    nonPremiumStabilityBonus: 1.1,
    successBoost: 0.1,
    penalties: { network: 0.3, auth: 0.8, rate_limit: 0.1, server: 0.2, model: 0.3, timeout: 0.2 }
  })
  t.equal(config.settings.maxInternalRetries, 2)
  t.equal(config.settings.healthCheckIntervalMs, 30_000)
  const premium = config.models.get('gpt-4-smart')!.backends[1]!
  t.same(premium.tags, ['premium'])
})

t.test('smart_ai_example.toml through the plugin: berry starts and logs no warning', async (t) => {
  const lines: Array<{ level: number, msg: string }> = []
  const stream = new Writable({
    write (chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line))
      cb()
    }
  })
  const app = Fastify({ logger: { level: 'info', stream } })
  t.teardown(() => app.close())
  await app.register(berry, { config: SMART_AI, metrics: { registry: new Registry() } })
  await app.ready()
  t.same(lines.filter((l) => l.level >= 40).map((l) => l.msg), [])
})

t.test('config-example.toml: every key honoured; only its dangling model names warn', async (t) => {
  const config = loadConfig(EXAMPLE)
  t.notMatch(config.warnings.join('\n'), IGNORED)
  t.same(config.warnings, [
    "users.user1.allowed_models: no model named 'claude-3-haiku'",
    "users.premium.allowed_models: no model named 'gpt-4-turbo'"
  ], 'the example lets users use models it never defines')
  t.equal(config.providers.get('anthropic')!.backendType, 'claude')
  t.same([...new Set([...config.models.values()].map((m) => m.strategy))], ['smart_ai'])
  t.equal(config.settings.maxInternalRetries, 2)
  t.equal(config.settings.healthCheckTimeoutMs, 10_000)
  t.equal(config.settings.recoveryCheckIntervalMs, 120_000)
  t.equal(config.settings.breaker.cooldownMs, 60_000)
  t.equal(config.models.get('claude-3-opus')!.backends[0]!.billingMode, 'per_request')
})
