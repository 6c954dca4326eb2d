// The status page under load, for docs/status.png: berry (from dist, so run
// `npm run build` first) in front of five fake upstreams of different speeds,
// a steady mix of JSON and streamed requests from three users, one backend
// that fails for a while and comes back, and one that starts failing for good
// two thirds of the way through. At the end, a screenshot of /status.
//
//   node benchmarks/status-demo.mjs [--minutes=5] [--rate=30] [--out=docs/status.png] [--dark] [--keep]
//
// --keep leaves the gateway running under load afterwards (its URL and admin
// token are printed) to look at the page by hand; Ctrl-C stops it.
import Fastify from 'fastify'
import { createServer } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import berry from '../dist/plugin/index.js'
import { parseArgs } from './lib/args.mjs'
import { screenshot } from './status-screenshot.mjs'

const args = parseArgs(process.argv.slice(2))
const minutes = Number(args.minutes ?? 5)
const rate = Number(args.rate ?? 30)
const durationMs = minutes * 60_000
const ADMIN = 'demo-admin-token-0001'
const USERS = { web: 'demo-web-token-000001', batch: 'demo-batch-token-0002', mobile: 'demo-mobile-token-003' }

/** An OpenAI-like upstream: `latency()` ms per answer, a first byte after `ttfb()`, failing while `failing()`. */
async function upstream (name, { latency, ttfb = () => latency() / 4, failing = () => false }) {
  const server = createServer((req, res) => {
    let text = ''
    req.on('data', (c) => { text += c })
    req.on('end', () => {
      const body = JSON.parse(text || '{}')
      if (failing()) {
        setTimeout(() => {
          res.writeHead(503, { 'content-type': 'application/json' })
          res.end(JSON.stringify({ error: { message: `${name} is overloaded`, type: 'server_error' } }))
        }, 20)
        return
      }
      const prompt = 20 + Math.floor(Math.random() * 400)
      const completion = 10 + Math.floor(Math.random() * 300)
      const usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion }
      const first = ttfb()
      const total = Math.max(first, latency())
      if (body.stream === true) {
        setTimeout(() => {
          res.writeHead(200, { 'content-type': 'text/event-stream' })
          const chunks = 5
          let sent = 0
          const tick = () => {
            if (sent < chunks) {
              res.write(`data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', model: body.model, choices: [{ index: 0, delta: { content: `w${sent} ` }, finish_reason: null }] })}\n\n`)
              sent++
              setTimeout(tick, (total - first) / chunks)
              return
            }
            res.write(`data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', model: body.model, choices: [], usage })}\n\n`)
            res.end('data: [DONE]\n\n')
          }
          tick()
        }, first)
        return
      }
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ id: 'c', object: 'chat.completion', model: body.model, choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }], usage }))
      }, total)
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { origin: `http://127.0.0.1:${server.address().port}`, server }
}

const started = Date.now()
const progress = () => (Date.now() - started) / durationMs
const jitter = (lo, hi) => () => lo + Math.random() * (hi - lo)

const ups = {
  openai: await upstream('openai', { latency: jitter(300, 900), ttfb: jitter(80, 200) }),
  azure: await upstream('azure', { latency: jitter(400, 1400), ttfb: jitter(150, 400), failing: () => progress() > 0.3 && progress() < 0.42 }),
  anthropic: await upstream('anthropic', { latency: jitter(600, 2500), ttfb: jitter(200, 600) }),
  local: await upstream('local', { latency: jitter(80, 250), ttfb: jitter(20, 60), failing: () => progress() > 0.66 }),
  groq: await upstream('groq', { latency: jitter(60, 200), ttfb: jitter(15, 40) })
}

const config = `
[providers.openai]
name = "OpenAI"
base_url = "${ups.openai.origin}/v1"
api_key = "sk-demo-openai-00000001"
[providers.azure]
name = "Azure OpenAI (EU)"
base_url = "${ups.azure.origin}/v1"
api_key = "sk-demo-azure-000000002"
[providers.anthropic]
name = "Anthropic"
base_url = "${ups.anthropic.origin}/v1"
api_key = "sk-demo-anthropic-00003"
[providers.local_vllm]
name = "vLLM on the GPU box"
base_url = "${ups.local.origin}/v1"
[providers.groq]
name = "Groq"
base_url = "${ups.groq.origin}/v1"
api_key = "sk-demo-groq-0000000004"

[[models.gpt_4o.backends]]
provider = "openai"
model = "gpt-4o"
weight = 3
[[models.gpt_4o.backends]]
provider = "azure"
model = "gpt-4o-2024-08-06"
weight = 2

[models.claude_sonnet_4]
name = "claude-sonnet-4"
[[models.claude_sonnet_4.backends]]
provider = "anthropic"
model = "claude-3-5-sonnet-20241022"

[models.llama]
name = "llama-3.1-70b"
[[models.llama.backends]]
provider = "local_vllm"
model = "meta-llama/Llama-3.1-70B-Instruct"
weight = 2
[[models.llama.backends]]
provider = "groq"
model = "llama-3.1-70b-versatile"
weight = 1

[users.web]
name = "Web app"
token = "${USERS.web}"
rate_limit = { requests_per_minute = 1200, requests_per_day = 500000 }
[users.batch]
name = "Nightly batch"
token = "${USERS.batch}"
rate_limit = { requests_per_minute = 600 }
[users.mobile]
name = "Mobile app"
token = "${USERS.mobile}"
[users.ops]
token = "${ADMIN}"
tags = ["admin"]

[settings]
circuit_breaker_failure_threshold = 3
circuit_breaker_timeout_seconds = 20
`

const app = Fastify({ logger: false })
await app.register(berry, { config, status: true })
await app.listen({ port: Number(args.port ?? 0), host: '127.0.0.1' })
const url = `http://127.0.0.1:${app.server.address().port}`
console.log(`berry on ${url}; status page ${url}/status (admin token ${ADMIN}); load for ${minutes} min at ~${rate} req/s`)

const models = ['gpt-4o', 'gpt-4o', 'gpt-4o', 'claude-sonnet-4', 'claude-sonnet-4', 'llama-3.1-70b', 'llama-3.1-70b']
const users = [USERS.web, USERS.web, USERS.web, USERS.batch, USERS.mobile]
let sent = 0
let failed = 0

async function one () {
  const model = models[Math.floor(Math.random() * models.length)]
  const stream = Math.random() < 0.4
  const body = { model, stream, messages: [{ role: 'user', content: 'hello' }] }
  if (stream) body.stream_options = { include_usage: true }
  // An operator checks one backend by hand now and then.
  if (Math.random() < 0.03) body.backend = model === 'gpt-4o' ? 'azure' : model === 'llama-3.1-70b' ? 'groq' : 'anthropic'
  try {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${users[Math.floor(Math.random() * users.length)]}`, 'content-type': 'application/json' },
      body: JSON.stringify(body)
    })
    await res.arrayBuffer()
    if (!res.ok) failed++
  } catch {
    failed++
  }
  sent++
}

// Traffic that swells and ebbs, so the charts have a shape; it goes on
// while the screenshot is taken, as it would on a live gateway.
const inFlight = new Set()
const load = { running: true }
const loading = (async () => {
  while (load.running) {
    const wave = 0.65 + 0.35 * Math.sin(progress() * Math.PI * 3)
    const p = one()
    inFlight.add(p)
    p.finally(() => inFlight.delete(p))
    await sleep(1000 / (rate * wave))
    if (sent > 0 && sent % 1000 === 0) console.log(`${Math.round(progress() * 100)}%: ${sent} requests, ${failed} failed`)
  }
  await Promise.all(inFlight)
})()
await sleep(durationMs)
const out = await screenshot({ url, token: ADMIN, out: args.out ?? 'docs/status.png', dark: args.dark === true, width: Number(args.width ?? 1600) })
console.log(`saved ${out} after ${sent} requests (${failed} failed)`)
if (args.keep === true) {
  console.log(`still serving ${url}/status under load; Ctrl-C stops`)
} else {
  load.running = false
  await loading
  await app.close()
  for (const u of Object.values(ups)) u.server.close()
}
