/**
 * `berry-health check` against a real berry: one fast backend (on two
 * models), one slow, one dead, one disabled. The table, the exit statuses,
 * the --json shape, --streaming's first chunk, discovery with and without
 * an admin token, colour, and the token kept out of every output.
 */
import t from 'tap'
import { ADMIN_TOKEN, TIMEOUT, TOKEN, delayed, fleetConfig, plain, runCli, startFleet } from '../helpers/cli.js'
import { startBerry } from '../helpers/berry.js'
import { deadOrigin, sse, startUpstream, status } from '../helpers/fake-upstream.js'

const admin = (url: string, ...rest: string[]): string[] => ['check', '--url', url, '--token', ADMIN_TOKEN, '--timeout', TIMEOUT, ...rest]

function row (stdout: string, backend: string, model: string): string[] {
  const line = stdout.split('\n').find((l) => l.startsWith(backend + ' ') && l.includes(` ${model} `))
  return line === undefined ? [] : line.split(/\s{2,}/)
}

t.test('table of every enabled backend; exit 1 when one is not healthy', async (t) => {
  const { berry, fast } = await startFleet(t)
  const res = await runCli(admin(berry.url))
  t.equal(res.code, 1)
  t.same(row(res.stdout, 'fast', 'gpt-4o'), ['fast', 'gpt-4o', 'healthy', '200', row(res.stdout, 'fast', 'gpt-4o')[4], 'pong'])
  t.match(row(res.stdout, 'fast', 'gpt-4o')[4], /^\d+ ms$/)
  t.same(row(res.stdout, 'fast', 'claude_sonnet_4').slice(2, 4), ['healthy', '200'])
  t.same(row(res.stdout, 'slow', 'gpt-4o').slice(2, 4), ['timeout', '-'])
  t.match(row(res.stdout, 'slow', 'gpt-4o')[5], `no answer within ${TIMEOUT}s`)
  const dead = row(res.stdout, 'dead', 'gpt-4o')
  t.same(dead.slice(2, 4), ['unhealthy', '502'])
  t.match(dead[5], "Backend 'dead' could not be reached: connection refused")
  t.notOk(res.stdout.includes('off '), 'the disabled backend is not checked')
  t.match(res.stderr, 'note: skipped (disabled): off (gpt-4o)')
  t.match(res.stdout, /^BACKEND\s+MODEL\s+STATUS\s+HTTP\s+LATENCY\s+DETAIL$/m)
  t.match(res.stdout, /^2\/4 healthy; unhealthy: slow \(gpt-4o\), dead \(gpt-4o\)$/m)
  t.ok(plain(res.stdout + res.stderr), 'no colour when not on a terminal')

  // The spec's pinned health request, as the upstream saw it.
  const seen = fast.received.map((r) => r.json)
  t.equal(seen.length, 2)
  for (const body of seen) {
    t.same(body.messages, [{ role: 'user', content: 'ping' }])
    t.equal(body.max_tokens, 1)
    t.equal(body.backend, undefined)
  }
  t.same(seen.map((b) => b.model).sort(), ['claude-3-5-sonnet-20241022', 'gpt-4o'])
})

t.test('exit 0 when every checked backend is healthy; --model and --backends narrow it', async (t) => {
  const { berry, fast } = await startFleet(t)
  const res = await runCli(admin(berry.url, '--model', 'gpt-4o', '--backends', 'fast'))
  t.equal(res.code, 0)
  t.match(res.stdout, /^1\/1 healthy$/m)
  t.equal(fast.received.length, 1)
  const serial = await runCli(admin(berry.url, '--serial', '--backends', 'fast'))
  t.equal(serial.code, 0)
  t.match(serial.stdout, /^2\/2 healthy$/m)
})

t.test('--json: one object with every result', async (t) => {
  const { berry } = await startFleet(t)
  const res = await runCli(admin(berry.url, '--json'))
  t.equal(res.code, 1)
  const doc = JSON.parse(res.stdout)
  t.match(doc, { url: berry.url, streaming: false, healthy: 2, total: 4, notes: ['skipped (disabled): off (gpt-4o)'] })
  t.match(doc.time, /^\d{4}-\d\d-\d\dT/)
  t.same(Object.keys(doc.results[0]).sort(), ['backend', 'code', 'detail', 'first_chunk_ms', 'http_status', 'latency_ms', 'model', 'status'])
  const by = (backend: string, model = 'gpt-4o') => doc.results.find((r: { backend: string, model: string }) => r.backend === backend && r.model === model)
  t.match(by('fast'), { status: 'healthy', http_status: 200, detail: 'pong', first_chunk_ms: null, code: null })
  t.match(by('slow'), { status: 'timeout', http_status: null })
  t.match(by('dead'), { status: 'unhealthy', http_status: 502, code: 'BERRY_ERR_UPSTREAM_UNREACHABLE' })
  t.type(by('dead').latency_ms, 'number')
})

t.test('--streaming reports the first SSE chunk and its time', async (t) => {
  const { berry, fast } = await startFleet(t, sse({ chunks: 3 }))
  const res = await runCli(admin(berry.url, '--streaming', '--backends', 'fast', '--json'))
  t.equal(res.code, 0)
  const doc = JSON.parse(res.stdout)
  t.equal(doc.streaming, true)
  for (const r of doc.results) {
    t.equal(r.status, 'healthy')
    t.equal(r.detail, 'c0', 'the first chunk\'s content')
    t.type(r.first_chunk_ms, 'number')
    t.ok(r.first_chunk_ms <= r.latency_ms)
  }
  t.equal(fast.received[0]?.json.stream, true)

  const table = await runCli(admin(berry.url, '--streaming', '--backends', 'fast'))
  t.match(table.stdout, /^BACKEND\s+MODEL\s+STATUS\s+HTTP\s+LATENCY\s+FIRST CHUNK\s+DETAIL$/m)
  t.match(row(table.stdout, 'fast', 'gpt-4o'), ['fast', 'gpt-4o', 'healthy', '200', /ms$/, /ms$/, 'c0'])
})

t.test('a stream cut off mid-way is unhealthy', async (t) => {
  const { berry } = await startFleet(t, sse({ chunks: 3, cutAfter: 1, delayMs: 20 }))
  const res = await runCli(admin(berry.url, '--streaming', '--backends', 'fast', '--model', 'gpt-4o', '--json'))
  t.equal(res.code, 1)
  t.match(JSON.parse(res.stdout).results[0], { status: 'unhealthy', http_status: 200, detail: /broke off/ })
})

t.test('an upstream error passed through is unhealthy, with its message', async (t) => {
  const { berry } = await startFleet(t, status(503, { error: { message: 'overloaded', type: 'server_error' } }))
  const res = await runCli(admin(berry.url, '--backends', 'fast', '--model', 'gpt-4o', '--json'))
  t.equal(res.code, 1)
  t.match(JSON.parse(res.stdout).results[0], { status: 'unhealthy', http_status: 503, detail: 'overloaded' })
})

t.test('without an admin token: backends must be named, then unserved pairs are left out', async (t) => {
  const { berry } = await startFleet(t)
  const refused = await runCli(['check', '--url', berry.url, '--token', TOKEN])
  t.equal(refused.code, 2)
  t.match(refused.stderr, "GET /smart-ai/weights was refused (403: This endpoint needs a user with the 'admin' tag)")
  t.match(refused.stderr, 'name them with --backends')
  t.match(refused.stderr, 'Models open to this token: gpt-4o, claude_sonnet_4')
  t.equal(refused.stdout, '')

  const named = await runCli(['check', '--url', berry.url, '--token', TOKEN, '--backends', 'fast', 'dead', '--json'])
  t.equal(named.code, 1)
  const pairs = JSON.parse(named.stdout).results.map((r: { backend: string, model: string, status: string }) => `${r.backend}/${r.model}/${r.status}`)
  t.same(pairs, ['fast/gpt-4o/healthy', 'dead/gpt-4o/unhealthy', 'fast/claude_sonnet_4/healthy'])
  t.match(named.stderr, 'note: GET /smart-ai/weights was refused')

  const typo = await runCli(['check', '--url', berry.url, '--token', TOKEN, '--backends', 'nope', '--model', 'gpt-4o', '--json'])
  t.equal(typo.code, 1)
  t.match(JSON.parse(typo.stdout).results[0], {
    status: 'error',
    http_status: 500,
    detail: "Specified backend 'nope' is not available for model 'gpt-4o': Backend 'nope' not found or disabled for model 'gpt-4o'"
  })
})

t.test('usage and setup errors exit 2; an unreachable berry exits 1; the token never shows', async (t) => {
  const { berry } = await startFleet(t)
  const secret = 'wrong-token-zyx-987654'
  const bad = await runCli(['check', '--url', berry.url, '--token', secret])
  t.equal(bad.code, 2)
  t.match(bad.stderr, 'berry refused the token (401')
  t.notOk((bad.stdout + bad.stderr).includes(secret))

  const unknownModel = await runCli(admin(berry.url, '--model', 'gpt-5'))
  t.equal(unknownModel.code, 2)
  t.match(unknownModel.stderr, "model 'gpt-5' is not configured on berry (configured: gpt-4o, claude_sonnet_4)")
  const unknownBackend = await runCli(admin(berry.url, '--backends', 'fast', 'nope'))
  t.equal(unknownBackend.code, 2)
  t.match(unknownBackend.stderr, "backend 'nope' is not configured for any model")

  const usage = await runCli(['check', '--timeout', 'soon', '--token', secret])
  t.equal(usage.code, 2)
  t.match(usage.stderr, "--timeout must be a number of seconds above 0, got 'soon'")
  const withUrl = await runCli(['check', '--url', `http://x:${secret}@127.0.0.1:1`, '--token', secret])
  t.equal(withUrl.code, 2)
  t.notOk(withUrl.stderr.includes(secret))

  const down = await runCli(['check', '--url', 'http://127.0.0.1:9', '--token', secret, '--timeout', '2'], { env: { BERRY_TOKEN: secret } })
  t.equal(down.code, 1)
  t.match(down.stderr, 'berry at http://127.0.0.1:9 could not be reached')
})

t.test('BERRY_URL and BERRY_TOKEN stand in for --url and --token', async (t) => {
  const { berry } = await startFleet(t)
  const res = await runCli(['check', '--backends', 'fast', '--timeout', '2'], { env: { BERRY_URL: berry.url, BERRY_TOKEN: ADMIN_TOKEN } })
  t.equal(res.code, 0)
  t.notOk((res.stdout + res.stderr).includes(ADMIN_TOKEN))
})

t.test('colour and progress on a terminal, none with NO_COLOR', async (t) => {
  const { berry } = await startFleet(t)
  const tty = await runCli(admin(berry.url), { tty: true })
  t.match(tty.stdout, '\x1b[32mhealthy\x1b[0m')
  t.match(tty.stdout, '\x1b[31munhealthy\x1b[0m')
  t.match(tty.stderr, /⠋ checking \d\/4/, 'a progress line on stderr')
  t.match(tty.stderr, '\r\x1b[K', 'cleared before the results')
  const noColor = await runCli(admin(berry.url), { tty: true, env: { NO_COLOR: '1' } })
  t.ok(plain(noColor.stdout), 'plain text with NO_COLOR')
  t.match(noColor.stdout, /^fast\s+gpt-4o\s+healthy/m)
})

t.test('--help prints the usage and exits 0', async (t) => {
  const res = await runCli(['--help'])
  t.equal(res.code, 0)
  t.match(res.stdout, /^Usage: berry-health <command> \[options\]/)
  for (const word of ['check', 'monitor', 'benchmark', '--backends', '--webhook', '--rounds', 'Exit status']) t.match(res.stdout, word)
})

t.test("berry's own 504 (the provider's timeout_seconds) is a timeout", async (t) => {
  const slow = await startUpstream(delayed(5_000))
  t.teardown(() => slow.close())
  const config = fleetConfig({ fast: slow.origin, slow: slow.origin, dead: await deadOrigin() })
    .replace('api_key = "sk-slow-secret-key-0002"', 'api_key = "sk-slow-secret-key-0002"\ntimeout_seconds = 0.2')
  const berry = await startBerry(t, { config }, 'warn')
  const res = await runCli(['check', '--url', berry.url, '--token', ADMIN_TOKEN, '--timeout', '3', '--backends', 'slow', '--json'])
  t.equal(res.code, 1)
  t.match(JSON.parse(res.stdout).results[0], { status: 'timeout', http_status: 504, code: 'BERRY_ERR_UPSTREAM_TIMEOUT', detail: /^Backend 'slow' did not answer within 0\.2s/ })
})
