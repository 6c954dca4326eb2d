// What the status page costs: the traffic store's record() per request, and
// GET /admin/status for a big gateway (goal: under 20 ms for 50 models of
// 10 backends), from berry's dist build (run `npm run build` first).
//
//   node --expose-gc benchmarks/status.mjs [--models=50] [--backends=10] [--users=200] [--requests=50]
//
// 1. record(): a million records over 500 backends and 200 users, after their
//    buckets exist; nanoseconds per record, and the heap it left behind.
// 2. statusView() and JSON.stringify alone, on a store whose 15 minutes of
//    buckets are all full, some backends failing.
// 3. The route over a real socket: berry (dist) serving that config, its
//    store filled by real pinned requests whose clock walks through the last
//    15 minutes, then `--requests` GETs of /admin/status, one at a time:
//    the time in berry (Fastify's elapsedTime) and the client's round trip.
import Fastify from 'fastify'
import { createServer } from 'node:http'
import { performance } from 'node:perf_hooks'
import { parseArgs } from './lib/args.mjs'
import berry, { loadConfig } from '../dist/plugin/index.js'
import { HealthTracker } from '../dist/plugin/health/tracker.js'
import { statusView } from '../dist/plugin/status/status-view.js'
import { TrafficStore } from '../dist/plugin/status/traffic-store.js'

const args = parseArgs(process.argv.slice(2))
const MODELS = Number(args.models ?? 50)
const PER_MODEL = Number(args.backends ?? 10)
const USERS = Number(args.users ?? 200)
const REQUESTS = Number(args.requests ?? 50)
const ADMIN = 'status-bench-admin-token'
const gc = globalThis.gc ?? (() => {})

function stats (ms) {
  const s = [...ms].sort((a, b) => a - b)
  const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))]
  return `min ${s[0].toFixed(2)} ms, median ${at(0.5).toFixed(2)} ms, p95 ${at(0.95).toFixed(2)} ms, max ${s[s.length - 1].toFixed(2)} ms`
}

function configText (origin) {
  const lines = []
  for (let p = 0; p < PER_MODEL; p++) lines.push(`[providers.p${p}]`, `base_url = "${origin}/v1"`, `api_key = "sk-bench-provider-${p}-0000"`, '')
  for (let m = 0; m < MODELS; m++) {
    lines.push(`[models.m${m}]`, `name = "model-${m}"`)
    for (let p = 0; p < PER_MODEL; p++) lines.push(`[[models.m${m}.backends]]`, `provider = "p${p}"`, `model = "up-${m}-${p}"`, `weight = ${1 + (p % 3)}`)
    lines.push('')
  }
  for (let u = 0; u < USERS; u++) lines.push(`[users.u${u}]`, `token = "status-bench-user-${u}-token"`, u % 4 === 0 ? 'rate_limit = { requests_per_minute = 600, requests_per_day = 100000 }' : '', '')
  lines.push('[users.ops]', `token = "${ADMIN}"`, 'tags = ["admin"]')
  return lines.join('\n')
}

// 1. record()
{
  const store = new TrafficStore({ startedAt: 0 })
  const sample = { model: '', backend: '', user: '', status: 200, latencyMs: 0, ttfbMs: 0, pinned: false, promptTokens: 10, completionTokens: 20, now: 0 }
  const models = Array.from({ length: MODELS }, (_, i) => `model-${i}`)
  const providers = Array.from({ length: PER_MODEL }, (_, i) => `p${i}`)
  const users = Array.from({ length: USERS }, (_, i) => `u${i}`)
  const run = (n, t0) => {
    for (let i = 0; i < n; i++) {
      sample.model = models[i % MODELS]
      sample.backend = providers[(i >> 3) % PER_MODEL]
      sample.user = users[i % USERS]
      sample.status = i % 50 === 0 ? 502 : 200
      sample.latencyMs = 40 + (i % 900)
      sample.ttfbMs = 10 + (i % 200)
      sample.pinned = i % 20 === 0
      sample.now = t0 + i
      store.record(sample)
    }
  }
  // Warm-up: every series and every bucket exists afterwards.
  run(2_000_000, 0)
  gc()
  const heapBefore = process.memoryUsage().heapUsed
  const n = 1_000_000
  const start = performance.now()
  run(n, 2_000_000)
  const ms = performance.now() - start
  const heapAfter = process.memoryUsage().heapUsed
  gc()
  const heapAfterGc = process.memoryUsage().heapUsed
  const kib = (bytes) => `${bytes >= 0 ? '+' : '-'}${Math.abs(bytes / 1024).toFixed(0)} KiB`
  console.log(`record(): ${(ms * 1e6 / n).toFixed(0)} ns per request over ${store.series} series; heap ${kib(heapAfter - heapBefore)} during ${n.toLocaleString('en-US')} records${globalThis.gc ? `, ${kib(heapAfterGc - heapBefore)} after gc` : ' (run with --expose-gc for the heap after gc)'}`)
}

// 2. statusView() alone
const NOW = Date.UTC(2026, 0, 1, 12, 0, 0)
{
  const config = loadConfig(configText('http://127.0.0.1:9'))
  const store = new TrafficStore({ startedAt: NOW - 3_600_000 })
  const health = new HealthTracker()
  const breaker = { failureThreshold: 5, cooldownMs: 60_000 }
  for (const model of config.models.values()) {
    for (const [i, backend] of model.backends.entries()) {
      for (let slot = 0; slot < 90; slot++) {
        const now = NOW - slot * 10_000
        store.record({ model: model.name, backend: backend.provider.id, user: `u${slot % USERS}`, status: 200, latencyMs: 100 + slot, ttfbMs: 30, pinned: false, promptTokens: 5, completionTokens: 5, now })
        store.record({ model: model.name, backend: backend.provider.id, user: `u${(slot + 1) % USERS}`, status: i === 0 ? 503 : 200, latencyMs: 2000, ttfbMs: undefined, pinned: true, promptTokens: 5, completionTokens: 5, now })
      }
      if (i === 0) health.recordFailure(backend.key, { status: 401, error: 'HTTP 401' }, NOW - 5_000, breaker)
    }
  }
  const build = []
  const stringify = []
  let bytes = 0
  for (let r = 0; r < 30; r++) {
    const t0 = performance.now()
    const view = statusView({ config, health, traffic: store, headroom: () => [], now: NOW })
    const t1 = performance.now()
    const text = JSON.stringify(view)
    const t2 = performance.now()
    build.push(t1 - t0)
    stringify.push(t2 - t1)
    bytes = text.length
  }
  console.log(`statusView(), ${MODELS} models x ${PER_MODEL} backends, ${USERS} users, full 15 minutes: ${stats(build.slice(5))}`)
  console.log(`JSON.stringify of it (${(bytes / 1024).toFixed(0)} KiB): ${stats(stringify.slice(5))}`)
}

// 3. The route over a real socket.
{
  const origin = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end('{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":5,"total_tokens":10}}')
    })
  })
  await new Promise((resolve) => origin.listen(0, '127.0.0.1', resolve))
  let clock = NOW - 899_000
  const app = Fastify({ logger: false })
  // The server's own time for the route, from the request's arrival to the last byte sent.
  const serverMs = []
  app.addHook('onResponse', (request, reply, done) => {
    if (request.url === '/admin/status') serverMs.push(reply.elapsedTime)
    done()
  })
  await app.register(berry, { config: configText(`http://127.0.0.1:${origin.address().port}`), status: true, now: () => clock })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const url = `http://127.0.0.1:${app.server.address().port}`
  // One pinned request per backend per bucket, the clock walking 15 minutes.
  const fillStart = performance.now()
  let sent = 0
  for (let slot = 0; slot < 90; slot++) {
    clock = NOW - (89 - slot) * 10_000
    const jobs = []
    for (let m = 0; m < MODELS; m++) {
      for (let p = 0; p < PER_MODEL; p++) {
        jobs.push(() => fetch(`${url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer status-bench-user-${(m * PER_MODEL + p) % USERS}-token`, 'content-type': 'application/json' },
          body: JSON.stringify({ model: `model-${m}`, backend: `p${p}`, messages: [{ role: 'user', content: 'hi' }] })
        }).then((res) => res.arrayBuffer()))
      }
    }
    for (let i = 0; i < jobs.length; i += 64) await Promise.all(jobs.slice(i, i + 64).map((job) => job()))
    sent += jobs.length
  }
  console.log(`filled berry's store with ${sent.toLocaleString('en-US')} pinned requests in ${((performance.now() - fillStart) / 1000).toFixed(1)} s`)
  clock = NOW
  const times = []
  let size = 0
  for (let r = 0; r < REQUESTS + 5; r++) {
    const t0 = performance.now()
    const res = await fetch(`${url}/admin/status`, { headers: { authorization: `Bearer ${ADMIN}` } })
    const text = await res.text()
    if (res.status !== 200) throw new Error(`GET /admin/status: HTTP ${res.status} ${text.slice(0, 200)}`)
    if (r >= 5) times.push(performance.now() - t0)
    size = text.length
  }
  console.log(`GET /admin/status (${(size / 1024).toFixed(0)} KiB, ${USERS / 4} users with rate limits read from the store), in berry: ${stats(serverMs.slice(5))}`)
  console.log(`the same, round trip for a client in the same process (which also reads the 480 KiB): ${stats(times)}`)
  await app.close()
  origin.close()
}
