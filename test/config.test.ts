/** Config loading: defaults, sources, env references, and errors that name the TOML path. */
import t from 'tap'
import Fastify from 'fastify'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import berry, { loadConfig } from '../plugin/index.js'

const BASE = `
[providers.openai]
base_url = "https://api.openai.com/v1"
api_key = "sk-x"

[[models.gpt_4o.backends]]
provider = "openai"
model = "gpt-4o"

[users.a]
token = "tok-a"
`

function problems (source: string | Record<string, unknown>, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    loadConfig(source, { env })
  } catch (err) {
    const e = err as Error & { code: string }
    t.equal(e.code, 'BERRY_ERR_INVALID_CONFIG')
    return e.message.split('\n').slice(1)
  }
  return []
}

t.test('defaults of the original system', async (t) => {
  const config = loadConfig(BASE)
  const provider = config.providers.get('openai')!
  t.equal(provider.enabled, true)
  t.equal(provider.timeoutMs, 30_000)
  t.equal(provider.origin, 'https://api.openai.com')
  t.equal(provider.basePath, '/v1')
  const model = config.models.get('gpt-4o')!
  t.equal(model.key, 'gpt_4o', "no name: public under the name the key was made from (a backend's model)")
  t.same(model.backends.map((b) => [b.weight, b.priority, b.enabled]), [[1, 0, true]])
  t.same(config.users[0]!.allowedModels, [])
  t.equal(config.settings.maxAttempts, 3)
  t.equal(config.settings.breaker.failureThreshold, 5)
  t.equal(config.settings.breaker.cooldownMs, 60_000)
  t.equal(config.settings.bodyLimit, 10 * 1024 * 1024)
  t.ok(Object.isFrozen(config) && Object.isFrozen(provider) && Object.isFrozen(model.backends))
})

t.test('a model without name: the key, unless a backend or provider model maps to it', async (t) => {
  const config = loadConfig(BASE + `
[providers.anthropic]
base_url = "https://api.anthropic.com/v1"
models = ["claude-sonnet-4"]

[[models.claude_sonnet_4.backends]]
provider = "anthropic"
model = "claude-3-5-sonnet-20241022"

[[models.plain_key.backends]]
provider = "anthropic"
model = "something-else"
`)
  t.same([...config.models.keys()], ['gpt-4o', 'claude-sonnet-4', 'plain_key'])
})

t.test('sources: path, TOML text, object', async (t) => {
  const dir = t.testdir()
  const file = join(dir, 'berry.toml')
  writeFileSync(file, BASE)
  t.equal(loadConfig(file).providers.size, 1)
  t.equal(loadConfig(BASE).providers.size, 1)
  t.equal(loadConfig({
    providers: { p: { base_url: 'http://127.0.0.1:1/v1' } },
    models: { m: { backends: [{ provider: 'p', model: 'x' }] } }
  }).models.size, 1)
  t.match(problems(join(dir, 'missing.toml'))[0], /cannot read config file '.*missing\.toml': ENOENT/)
  t.match(problems('[providers\nx = ')[0], /^TOML syntax error in TOML text/)
})

t.test('env references', async (t) => {
  // eslint-disable-next-line no-template-curly-in-string -- the config's own syntax
  const text = BASE.replace('"sk-x"', '"${OPENAI_API_KEY}"')
  t.equal(loadConfig(text, { env: { OPENAI_API_KEY: 'sk-from-env' } }).providers.get('openai')!.apiKey, 'sk-from-env')
  t.same(problems(text), ["providers.openai.api_key: environment variable 'OPENAI_API_KEY' is not set"])
})

t.test('errors name the TOML path, one per line', async (t) => {
  const text = BASE + `
[[models.gpt_4o.backends]]
provider = "opnai"
model = "gpt-4o"
`
  t.same(problems(text), ["models.gpt_4o.backends[1].provider: unknown provider 'opnai'"])

  const many = `
[providers.a]
base_url = "not a url"
wat = 1

[providers.b]
base_url = "ftp://x/v1"

[[models.m.backends]]
provider = "a"
model = "x"
weight = -1

[users.u]
token = 5
`
  const found = problems(many)
  t.ok(found.includes('providers.a.wat: unknown key'), found.join('\n'))
  t.ok(found.some((p) => p.startsWith('models.m.backends[0].weight: ')), found.join('\n'))
  t.ok(found.some((p) => p.startsWith('users.u.token: ')), found.join('\n'))
})

t.test('semantic checks', async (t) => {
  t.same(problems(BASE.replace('https://api.openai.com/v1', 'not a url')), ['providers.openai.base_url: not a valid URL'])
  t.same(problems(BASE.replace('https://api.openai.com/v1', 'ftp://x/v1')), ['providers.openai.base_url: must be an http:// or https:// URL'])
  t.same(problems(BASE + '\n[users.b]\ntoken = "tok-a"\n'), ['users.b.token: the same token as users.a'])
  t.same(problems(BASE + '\n[models.other]\nname = "gpt-4o"\n[[models.other.backends]]\nprovider = "openai"\nmodel = "y"\n'),
    ["models.other.name: public model name 'gpt-4o' is already used by models.gpt_4o"])
  t.same(problems(BASE.replace('api_key = "sk-x"', 'api_key = "sk-x"\nheaders = { "Host" = "evil" }')), ['providers.openai.headers.Host: berry sets this header itself'])
  t.same(problems(BASE.replace('model = "gpt-4o"', 'model = "gpt-4o"\nstrategy = "x"')), ['models.gpt_4o.backends[0].strategy: unknown key'])
  t.same(problems(BASE + '\n[models.z]\nstrategy = "lottery"\nbackends = []\n'), ["models.z.strategy: unknown strategy 'lottery' (one of weighted_random, failover, round_robin, least_latency, random, weighted_failover, smart_weighted_failover, smart_ai)"])
  t.same(problems(BASE + '\n[extra]\nx = 1\n'), ['extra: unknown key'])
})

t.test('[users.<id>.quota]: tokens per UTC day and month, each optional, whole and positive', async (t) => {
  const config = loadConfig(BASE + 'quota = { tokens_per_day = 1000, tokens_per_month = 20000 }\n[users.b]\ntoken = "tok-b"\n[users.b.quota]\ntokens_per_month = 5\n', { env: {} })
  t.same(config.users.map((u) => u.quota), [{ tokensPerDay: 1000, tokensPerMonth: 20000 }, { tokensPerDay: undefined, tokensPerMonth: 5 }])
  t.equal(loadConfig(BASE, { env: {} }).users[0]?.quota, undefined)
  t.same(problems(BASE + 'quota = { tokens_per_day = 0 }\n'), ['users.a.quota.tokens_per_day: must be >= 1'])
  t.same(problems(BASE + 'quota = { tokens_per_day = 1.5 }\n'), ['users.a.quota.tokens_per_day: must be integer'])
  t.same(problems(BASE + 'quota = { tokens_per_week = 10 }\n'), ['users.a.quota.tokens_per_week: unknown key'])
})

t.test('original-system keys: every one loads and is honoured, none warns', async (t) => {
  const config = loadConfig(BASE + `
[settings]
max_retries = 2
request_timeout_seconds = 12
health_check_interval_seconds = 0
circuit_breaker_failure_threshold = 4
circuit_breaker_timeout_seconds = 9
recovery_check_interval_seconds = 3
max_internal_retries = 1
health_check_timeout_seconds = 5

[settings.smart_ai]
initial_confidence = 0.7
min_confidence = 0.1
enable_time_decay = false
lightweight_check_interval_seconds = 0
exploration_ratio = 0.25
non_premium_stability_bonus = 1.2

[settings.smart_ai.confidence_adjustments]
success_boost = 0.05
network_error_penalty = 0.31
auth_error_penalty = 0.81
rate_limit_penalty = 0.11
server_error_penalty = 0.21
model_error_penalty = 0.32
timeout_penalty = 0.22
`)
  t.equal(config.settings.maxAttempts, 2)
  t.equal(config.providers.get('openai')!.timeoutMs, 12_000)
  t.equal(config.settings.breaker.failureThreshold, 4)
  t.equal(config.settings.recoveryCheckIntervalMs, 3000)
  t.equal(config.settings.maxInternalRetries, 1)
  t.equal(config.settings.healthCheckTimeoutMs, 5000)
  t.same(config.settings.smartAi, {
    initialConfidence: 0.7,
    minConfidence: 0.1,
    enableTimeDecay: false,
    lightweightCheckIntervalMs: 0,
    explorationRatio: 0.25,
    nonPremiumStabilityBonus: 1.2,
    successBoost: 0.05,
    penalties: { network: 0.31, auth: 0.81, rate_limit: 0.11, server: 0.21, model: 0.32, timeout: 0.22 }
  })
  t.same(config.warnings, [])
})

t.test('defaults of the health and smart_ai keys are the original system\'s', async (t) => {
  const { settings } = loadConfig(BASE)
  t.equal(settings.recoveryCheckIntervalMs, 120_000)
  t.equal(settings.maxInternalRetries, 2)
  t.equal(settings.healthCheckTimeoutMs, 10_000)
  t.equal(settings.healthCheckIntervalMs, 0, 'probes stay off unless asked for')
  t.same(settings.smartAi, {
    initialConfidence: 0.8,
    minConfidence: 0.05,
    enableTimeDecay: true,
    lightweightCheckIntervalMs: 600_000,
    explorationRatio: 0.2,
    nonPremiumStabilityBonus: 1.1,
    successBoost: 0.1,
    penalties: { network: 0.3, auth: 0.8, rate_limit: 0.1, server: 0.2, model: 0.3, timeout: 0.2 }
  })
})

t.test('every strategy name the original has used', async (t) => {
  const names = ['weighted_random', 'failover', 'round_robin', 'least_latency', 'random', 'weighted_failover', 'smart_weighted_failover', 'smart_ai']
  for (const name of names) {
    const config = loadConfig(BASE.replace('[[models.gpt_4o.backends]]', `[models.gpt_4o]\nstrategy = "${name}"\n[[models.gpt_4o.backends]]`))
    t.equal(config.models.get('gpt-4o')!.strategy, name)
    t.same(config.warnings, [])
  }
})

t.test('smart_ai and health keys out of range are errors naming the key', async (t) => {
  const withSettings = (text: string) => BASE + '\n[settings]\n' + text
  t.same(problems(withSettings('max_internal_retries = -1')), ['settings.max_internal_retries: must be >= 0'])
  t.same(problems(withSettings('health_check_timeout_seconds = 0')), ['settings.health_check_timeout_seconds: must be > 0'])
  t.same(problems(withSettings('[settings.smart_ai]\nexploration_ratio = 1.5')), ['settings.smart_ai.exploration_ratio: must be <= 1'])
  t.same(problems(withSettings('[settings.smart_ai]\nexploraton_ratio = 0.1')), ['settings.smart_ai.exploraton_ratio: unknown key'])
  t.same(problems(withSettings('[settings.smart_ai.confidence_adjustments]\nquota_penalty = 0.1')), ['settings.smart_ai.confidence_adjustments.quota_penalty: unknown key'])
  t.same(problems(withSettings('[settings.smart_ai]\ninitial_confidence = 0.3\nmin_confidence = 0.5')), ['settings.smart_ai.min_confidence: 0.5 is above initial_confidence (0.3)'])
})

t.test('backend_type: openai by default, claude (alias anthropic) and gemini', async (t) => {
  t.equal(loadConfig(BASE).providers.get('openai')!.backendType, 'openai')
  const typed = (type: string) => BASE.replace('api_key = "sk-x"', `api_key = "sk-x"\nbackend_type = "${type}"`)
  t.equal(loadConfig(typed('claude')).providers.get('openai')!.backendType, 'claude')
  t.equal(loadConfig(typed('anthropic')).providers.get('openai')!.backendType, 'claude', 'anthropic is read as claude')
  t.equal(loadConfig(typed('gemini')).providers.get('openai')!.backendType, 'gemini')
  t.same(problems(BASE.replace('api_key = "sk-x"', 'api_key = "sk-x"\nbackend_type = "cohere"')),
    ["providers.openai.backend_type: unknown backend type 'cohere' (one of openai, claude, anthropic, gemini)"])
})

t.test('a bad config makes app.ready() reject with the path', async (t) => {
  const app = Fastify()
  app.register(berry, { config: BASE.replace('provider = "openai"', 'provider = "opnai"') })
  await t.rejects(async () => { await app.ready() }, { code: 'BERRY_ERR_INVALID_CONFIG', message: /models\.gpt_4o\.backends\[0\]\.provider: unknown provider 'opnai'/ })
})

t.test('bad options make app.ready() reject', async (t) => {
  for (const [opts, message] of [
    [{}, /'config' must be/],
    [{ config: BASE, prefix: 'llm' }, /'prefix' must be/],
    [{ config: BASE, authenticate: 5 }, /'authenticate' must be a function/]
  ] as const) {
    const app = Fastify()
    app.register(berry, opts as never)
    await t.rejects(async () => { await app.ready() }, { code: 'BERRY_ERR_INVALID_OPTS', message })
  }
})

t.test('never open by accident: no users and no hook', async (t) => {
  const app = Fastify()
  app.register(berry, { config: BASE.replace('[users.a]\ntoken = "tok-a"', '') })
  await t.rejects(async () => { await app.ready() }, { code: 'BERRY_ERR_INVALID_OPTS', message: /no \[users\] and no authenticate hook/ })
})
