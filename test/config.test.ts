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
  const model = config.models.get('gpt_4o')!
  t.equal(model.name, 'gpt_4o', 'no name: the key is the public name')
  t.same(model.backends.map((b) => [b.weight, b.priority, b.enabled]), [[1, 0, true]])
  t.same(config.users[0]!.allowedModels, [])
  t.equal(config.settings.maxAttempts, 3)
  t.equal(config.settings.breaker.failureThreshold, 5)
  t.equal(config.settings.breaker.cooldownMs, 60_000)
  t.equal(config.settings.bodyLimit, 10 * 1024 * 1024)
  t.ok(Object.isFrozen(config) && Object.isFrozen(provider) && Object.isFrozen(model.backends))
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
  t.same(problems(BASE + '\n[models.other]\nname = "gpt_4o"\n[[models.other.backends]]\nprovider = "openai"\nmodel = "y"\n'),
    ["models.other.name: public model name 'gpt_4o' is already used by models.gpt_4o"])
  t.match(problems(BASE.replace('api_key = "sk-x"', 'api_key = "sk-x"\nbackend_type = "anthropic"'))[0],
    /^providers\.openai\.backend_type: 'anthropic' is not supported; .*point base_url at the provider's OpenAI-compatible endpoint/)
  t.same(problems(BASE.replace('api_key = "sk-x"', 'api_key = "sk-x"\nheaders = { "Host" = "evil" }')), ['providers.openai.headers.Host: berry sets this header itself'])
  t.same(problems(BASE.replace('model = "gpt-4o"', 'model = "gpt-4o"\nstrategy = "x"')), ['models.gpt_4o.backends[0].strategy: unknown key'])
  t.same(problems(BASE + '\n[models.z]\nstrategy = "lottery"\nbackends = []\n'), ["models.z.strategy: unknown strategy 'lottery' (one of weighted_random, failover)"])
  t.same(problems(BASE + '\n[extra]\nx = 1\n'), ['extra: unknown key'])
})

t.test('original-system keys: implemented ones load, the others warn once each', async (t) => {
  const config = loadConfig(BASE + `
[settings]
max_retries = 2
request_timeout_seconds = 12
health_check_interval_seconds = 0
circuit_breaker_failure_threshold = 4
circuit_breaker_timeout_seconds = 9
recovery_check_interval_seconds = 3
max_internal_retries = 2
health_check_timeout_seconds = 5

[settings.smart_ai]
initial_confidence = 0.8
`)
  t.equal(config.settings.maxAttempts, 2)
  t.equal(config.providers.get('openai')!.timeoutMs, 12_000)
  t.equal(config.settings.breaker.failureThreshold, 4)
  t.equal(config.warnings.length, 3)
  t.match(config.warnings.join('\n'), /settings\.smart_ai is accepted for compatibility and ignored/)
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
