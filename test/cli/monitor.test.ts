/**
 * `berry-health monitor`: dated summary lines each round, and exactly one
 * webhook post per state change (down, and back up), retried when the
 * webhook fails, and a clean stop on abort (Ctrl-C).
 */
import t from 'tap'
import { ADMIN_TOKEN, plain, runCli, sequence, startFleet, startWebhook } from '../helpers/cli.js'
import { json, status } from '../helpers/fake-upstream.js'

const monitor = (url: string, ...rest: string[]): string[] =>
  ['monitor', '--url', url, '--token', ADMIN_TOKEN, '--model', 'gpt-4o', '--interval', '0.05', '--timeout', '2', ...(rest.includes('--backends') ? [] : ['--backends', 'fast', 'dead']), ...rest]

const down = status(503, { error: { message: 'overloaded', type: 'server_error' } })

t.test('one post per state change: dead from the start, fast down in round 3 and back in round 5', async (t) => {
  // One request per round reaches `fast`: rounds 1-2 fine, 3-4 failing, 5-6 fine.
  const { berry } = await startFleet(t, sequence(json(), json(), down, down, json()))
  const hook = await startWebhook(t)
  const res = await runCli(monitor(berry.url, '--webhook', hook.url, '--count', '6'))
  t.equal(res.code, 1, 'the last round still has the dead backend')

  const texts = hook.posts.map((p) => p.text)
  t.equal(texts.length, 3)
  t.match(texts[0], /^🚨 Backend Alert: dead \(gpt-4o\) is unhealthy \(HTTP 502\): Backend 'dead' could not be reached: connection refused \[berry http:\/\/127\.0\.0\.1:\d+\]$/)
  t.match(texts[1], /^🚨 Backend Alert: fast \(gpt-4o\) is unhealthy \(HTTP 503\): overloaded/)
  t.match(texts[2], /^✅ Backend recovered: fast \(gpt-4o\) is healthy again \(HTTP 200, \d+ ms\)/)
  for (const post of hook.posts) t.same(Object.keys(post), ['text'], 'the Slack-compatible shape')

  const lines = res.stdout.split('\n').filter((l) => /^\d{4}-\d\d-\d\d /.test(l))
  t.equal(lines.length, 6, 'one dated summary line per round')
  t.match(lines[0], /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ {2}1\/2 healthy; unhealthy: dead$/)
  t.match(lines[2], / 0\/2 healthy; unhealthy: fast, dead$/)
  t.match(lines[5], / 1\/2 healthy; unhealthy: dead$/)
  t.equal(res.stdout.match(/alert sent to 127\.0\.0\.1:\d+$/gm)?.length, 3)
  t.notOk(res.stdout.includes('webhook-secret-path'), 'the webhook URL (a secret) is never printed')
  t.ok(plain(res.stdout))
})

t.test('without a webhook, changes are still reported on the summary lines', async (t) => {
  const { berry } = await startFleet(t, sequence(json(), down, json()))
  const res = await runCli(monitor(berry.url, '--backends', 'fast', '--count', '3'))
  t.equal(res.code, 0)
  const out = res.stdout.split('\n')
  t.match(out, [/ 1\/1 healthy$/, / 0\/1 healthy; unhealthy: fast$/, /^ {2}fast unhealthy: overloaded$/, / 1\/1 healthy$/, /^ {2}fast recovered$/])
})

t.test('a failed post is tried again next round, then not again', async (t) => {
  const { berry } = await startFleet(t)
  const hook = await startWebhook(t)
  hook.answers = [500]
  const res = await runCli(monitor(berry.url, '--webhook', hook.url, '--count', '3'))
  t.equal(hook.posts.length, 1, 'posted once, in round 2')
  t.match(hook.posts[0]?.text, /dead \(gpt-4o\) is unhealthy/)
  t.match(res.stderr, /^warning: alert to 127\.0\.0\.1:\d+ failed \(HTTP 500\); it is tried again next round$/m)
  t.notOk(res.stderr.includes('webhook-secret-path'))
})

t.test('--json: one JSON line per round', async (t) => {
  const { berry } = await startFleet(t)
  const res = await runCli(monitor(berry.url, '--count', '2', '--json'))
  const rounds = res.stdout.trim().split('\n').map((l) => JSON.parse(l))
  t.equal(rounds.length, 2)
  t.match(rounds[0], { round: 1, healthy: 1, total: 2, unhealthy: ['dead'], changes: [{ backend: 'dead', model: 'gpt-4o', to: 'unhealthy', alert: null }] })
  t.same(rounds[1].changes, [])
  t.equal(rounds[1].results.length, 2)
})

t.test('stops cleanly when aborted (Ctrl-C), even mid-wait', async (t) => {
  const { berry } = await startFleet(t)
  const controller = new AbortController()
  const started = Date.now()
  const stdout = { isTTY: false, text: '', write (chunk: string) { this.text += chunk; if (chunk.includes('healthy')) controller.abort(); return true } }
  const res = await runCli(monitor(berry.url, '--interval', '60'), { signal: controller.signal, stdout })
  t.equal(res.code, 0)
  t.match(res.stderr, 'stopped after 1 round\n')
  t.ok(Date.now() - started < 30_000, 'did not wait for the next round')
})
