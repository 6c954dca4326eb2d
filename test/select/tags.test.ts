/**
 * The original's tag rule, in load balancing, failover and pinning: a user
 * without tags may use every backend, a backend without tags serves
 * everyone, otherwise they must share a tag; `admin` sees every backend.
 */
import t from 'tap'
import { activeOf } from '../../plugin/snapshot.js'
import { loadConfig } from '../../plugin/config/load.js'
import type { Backend, Model, Strategy } from '../../plugin/config/types.js'
import { HealthTracker } from '../../plugin/health/tracker.js'
import { candidatesFor, noBackendReason, selectBackend } from '../../plugin/select/dispatch.js'
import { findPinnedBackend } from '../../plugin/select/lookup.js'
import { SelectionState } from '../../plugin/select/selection-state.js'
import { mayUseBackend, seesEveryBackend } from '../../plugin/select/tags.js'
import { seeded } from '../helpers/random.js'

const config = loadConfig(`
[providers.gold]
base_url = "http://127.0.0.1:1/v1"
[providers.silver]
base_url = "http://127.0.0.1:2/v1"
[providers.open]
base_url = "http://127.0.0.1:3/v1"
[providers.team]
base_url = "http://127.0.0.1:4/v1"

[models.chat]
strategy = "smart_ai"
[[models.chat.backends]]
provider = "gold"
model = "m"
tags = ["premium", "stable"]
[[models.chat.backends]]
provider = "silver"
model = "m"
tags = ["basic"]
[[models.chat.backends]]
provider = "open"
model = "m"
[[models.chat.backends]]
provider = "team"
model = "m"
tags = ["dev", "basic"]

[models.tagged_only]
[[models.tagged_only.backends]]
provider = "gold"
model = "m"
tags = ["premium"]

[settings]
max_internal_retries = 0
`)
const chat = config.models.get('chat') as Model
const backendOf = (id: string): Backend => chat.backends.find((b) => b.provider.id === id) as Backend

const USERS = {
  untagged: { tags: [] },
  absent: {},
  premium: { tags: ['premium'] },
  basic: { tags: ['basic', 'user'] },
  dev: { tags: ['dev'] },
  stranger: { tags: ['nothing-matches'] },
  admin: { tags: ['admin'] }
} as const

/** Who may use what, by the rule, written out by hand. */
const ALLOWED: Record<keyof typeof USERS, string[]> = {
  untagged: ['gold', 'silver', 'open', 'team'],
  absent: ['gold', 'silver', 'open', 'team'],
  premium: ['gold', 'open'],
  basic: ['silver', 'open', 'team'],
  dev: ['open', 'team'],
  stranger: ['open'],
  admin: ['gold', 'silver', 'open', 'team']
}

t.test('the rule, backend by backend', async (t) => {
  for (const [name, user] of Object.entries(USERS) as Array<[keyof typeof USERS, (typeof USERS)[keyof typeof USERS]]>) {
    const allowed = chat.backends.filter((b) => mayUseBackend(user, b)).map((b) => b.provider.id)
    t.same(allowed, ALLOWED[name], name)
    t.same(candidatesFor(activeOf(chat), user).map((b) => b.provider.id), ALLOWED[name], `${name}: candidates`)
  }
  t.ok(seesEveryBackend(USERS.admin))
  t.notOk(seesEveryBackend(USERS.basic))
})

t.test('1,000 load-balanced requests per user and strategy never cross tags, failover included', async (t) => {
  for (const strategy of ['smart_ai', 'weighted_random', 'round_robin', 'random', 'least_latency', 'failover'] as Strategy[]) {
    const model: Model = { ...chat, strategy }
    for (const [name, user] of Object.entries(USERS) as Array<[keyof typeof USERS, (typeof USERS)[keyof typeof USERS]]>) {
      const health = new HealthTracker()
      const state = new SelectionState()
      const random = seeded(name.length * 31 + strategy.length)
      const seen = new Set<string>()
      let crossed = 0
      for (let i = 0; i < 1000; i++) {
        const tried = new Set<string>()
        // Each request tries every backend it may use, as failover would.
        for (let pick = selectBackend(model, activeOf(model), { health, random, now: i, state, settings: config.settings, user }); pick !== undefined;
          pick = selectBackend(model, activeOf(model), { health, random, now: i, state, settings: config.settings, user, exclude: tried })) {
          tried.add(pick.backend.key)
          seen.add(pick.backend.provider.id)
          if (!ALLOWED[name].includes(pick.backend.provider.id)) crossed++
        }
      }
      t.equal(crossed, 0, `${strategy}, ${name}: never outside its tags`)
      t.same([...seen].sort(), [...ALLOWED[name]].sort(), `${strategy}, ${name}: and every allowed backend is reached`)
    }
  }
})

t.test('no backend shares a tag: nothing to select, and the reason says so', async (t) => {
  const tagged = config.models.get('tagged_only') as Model
  const ctx = { health: new HealthTracker(), random: seeded(1), now: 0, state: new SelectionState(), settings: config.settings }
  t.equal(selectBackend(tagged, activeOf(tagged), { ...ctx, user: USERS.basic }), undefined)
  t.equal(noBackendReason(activeOf(tagged)), 'no enabled backend shares a tag with this user')
  t.equal(selectBackend(tagged, activeOf(tagged), { ...ctx, user: USERS.premium })?.backend.provider.id, 'gold')
  t.equal(selectBackend(tagged, activeOf(tagged), { ...ctx, user: USERS.admin })?.backend.provider.id, 'gold', 'admin sees every backend')
})

t.test('pinning obeys the same rule, with the spec\'s "not found or disabled" answer', async (t) => {
  t.same(findPinnedBackend(config, 'chat', 'gold', USERS.basic), { ok: false, reason: "Backend 'gold' not found or disabled for model 'chat'" })
  t.same(findPinnedBackend(config, 'chat', 'gold', USERS.stranger), { ok: false, reason: "Backend 'gold' not found or disabled for model 'chat'" })
  const premium = findPinnedBackend(config, 'chat', 'gold', USERS.premium)
  t.ok(premium.ok && premium.backend === backendOf('gold'))
  t.ok(findPinnedBackend(config, 'chat', 'gold', USERS.admin).ok, 'admin may pin any backend')
  t.ok(findPinnedBackend(config, 'chat', 'open', USERS.stranger).ok, 'an untagged backend serves everyone')
  t.ok(findPinnedBackend(config, 'chat', 'silver', USERS.untagged).ok, 'a user without tags may use every backend')
})
