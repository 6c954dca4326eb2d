/** Pure selection: weights honoured, health respected, last resort, failover tiers. No HTTP. */
import t from 'tap'
import { activeOf } from '../../plugin/snapshot.js'
import { loadConfig } from '../../plugin/config/load.js'
import { HealthTracker } from '../../plugin/health/tracker.js'
import { findModel, findPinnedBackend, modelKeyOf, userMayUse } from '../../plugin/select/lookup.js'
import { selectBackend, type SelectContext } from '../../plugin/select/dispatch.js'
import { SelectionState } from '../../plugin/select/selection-state.js'
import { pickWeighted } from '../../plugin/select/weighted.js'
import { seeded } from '../helpers/random.js'

const config = loadConfig(`
[providers.a]
base_url = "http://127.0.0.1:1/v1"
[providers.b]
base_url = "http://127.0.0.1:2/v1"
[providers.c]
base_url = "http://127.0.0.1:3/v1"
enabled = false

[models.gpt_4o]
[[models.gpt_4o.backends]]
provider = "a"
model = "gpt-4o"
weight = 3
[[models.gpt_4o.backends]]
provider = "b"
model = "gpt-4o-b"
weight = 1
[[models.gpt_4o.backends]]
provider = "c"
model = "gpt-4o"

[models.tiered]
name = "tiered-model"
strategy = "failover"
[[models.tiered.backends]]
provider = "a"
model = "t"
priority = 0
[[models.tiered.backends]]
provider = "b"
model = "t"
priority = 1
`)
const gpt = config.modelsByKey.get('gpt_4o')!
const breaker = { failureThreshold: 2, cooldownMs: 1000 }
const anyone = { tags: [] }

/** A selection context with this file's config settings and a user without tags. */
function ctx (health: HealthTracker, random: () => number, now: number, extra: Partial<SelectContext> = {}): SelectContext {
  return { health, random, now, state: new SelectionState(), settings: config.settings, user: anyone, ...extra }
}

t.test('lookup by name, key, and normalised key', async (t) => {
  t.equal(modelKeyOf('gpt-3.5-turbo'), 'gpt_3_5_turbo')
  t.equal(findModel(config, 'gpt-4o'), gpt)
  t.equal(findModel(config, 'gpt_4o'), gpt)
  t.equal(findModel(config, 'tiered-model')?.key, 'tiered')
  t.equal(findModel(config, 'tiered')?.key, 'tiered')
  t.equal(findModel(config, 'nope'), undefined)
  t.ok(userMayUse({ allowedModels: ['gpt-4o'] }, gpt, config))
  t.ok(userMayUse({ allowedModels: [] }, gpt, config))
  t.notOk(userMayUse({ allowedModels: ['tiered-model'] }, gpt, config))
})

t.test('pinned lookup follows select_specific_backend', async (t) => {
  const ok = findPinnedBackend(config, 'gpt-4o', 'b', anyone)
  t.ok(ok.ok && ok.backend.model === 'gpt-4o-b')
  t.same(findPinnedBackend(config, 'gpt-4o', 'c', anyone), { ok: false, reason: "Backend 'c' not found or disabled for model 'gpt-4o'" })
  t.same(findPinnedBackend(config, 'gpt-4o', 'zzz', anyone), { ok: false, reason: "Backend 'zzz' not found or disabled for model 'gpt-4o'" })
  t.same(findPinnedBackend(config, 'missing', 'a', anyone), { ok: false, reason: "Model 'missing' not found" })
})

t.test('a 3:1 weighting holds over 20,000 draws', async (t) => {
  const random = seeded(42)
  const health = new HealthTracker()
  const counts: Record<string, number> = { a: 0, b: 0, c: 0 }
  const n = 20_000
  for (let i = 0; i < n; i++) {
    const s = selectBackend(gpt, activeOf(gpt), ctx(health, random, 0))!
    counts[s.backend.provider.id]!++
  }
  t.equal(counts.c, 0, 'disabled provider never chosen')
  const share = counts.a! / n
  // Binomial sd at p=0.75, n=20000 is 0.003: 0.735..0.765 is five sd either side.
  t.ok(share > 0.735 && share < 0.765, `share of a = ${share}`)
})

t.test('pickWeighted edge cases', async (t) => {
  t.equal(pickWeighted([], Math.random), undefined)
  t.equal(pickWeighted([{ weight: 0 }], Math.random), undefined)
  const only = { weight: 0.5 }
  t.equal(pickWeighted([{ weight: 0 }, only], () => 0.999999999), only)
  t.equal(pickWeighted([only, { weight: 0 }], () => 0.9999999999999999), only)
})

t.test('unhealthy backends are left out; last resort is the soonest to cool', async (t) => {
  const health = new HealthTracker()
  const [a, b] = gpt.backends
  health.recordFailure(a!.key, { error: 'HTTP 500' }, 0, breaker)
  health.recordFailure(a!.key, { error: 'HTTP 500' }, 0, breaker)
  for (let i = 0; i < 50; i++) {
    t.equal(selectBackend(gpt, activeOf(gpt), ctx(health, seeded(i), 10))!.backend.provider.id, 'b')
  }
  health.recordFailure(b!.key, { status: 401, error: 'HTTP 401' }, 500, breaker)
  const last = selectBackend(gpt, activeOf(gpt), ctx(health, seeded(1), 600))!
  t.same([last.backend.provider.id, last.lastResort], ['a', true], 'a cools at 1000, b at 1500')
  t.equal(selectBackend(gpt, activeOf(gpt), ctx(health, seeded(1), 1000))!.lastResort, false, 'a admits its trial')
})

t.test('exclude skips tried backends', async (t) => {
  const health = new HealthTracker()
  const s = selectBackend(gpt, activeOf(gpt), ctx(health, seeded(3), 0, { exclude: new Set([gpt.backends[0]!.key]) }))
  t.equal(s?.backend.provider.id, 'b')
  t.equal(selectBackend(gpt, activeOf(gpt), ctx(health, seeded(3), 0, { exclude: new Set(gpt.backends.map((b) => b.key)) })), undefined)
})

t.test('failover strategy: best priority first, next tier when it is down', async (t) => {
  const tiered = config.models.get('tiered-model')!
  const health = new HealthTracker()
  for (let i = 0; i < 20; i++) t.equal(selectBackend(tiered, activeOf(tiered), ctx(health, seeded(i), 0))!.backend.provider.id, 'a')
  health.recordFailure(tiered.backends[0]!.key, { status: 403, error: 'HTTP 403' }, 0, breaker)
  t.equal(selectBackend(tiered, activeOf(tiered), ctx(health, seeded(1), 1))!.backend.provider.id, 'b')
})
