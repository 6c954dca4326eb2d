// Compares two builds of berry side by side, with the bare proxy as a yard-
// stick: paired rounds, medians, and server CPU per request (from /proc),
// which a busy machine disturbs far less than throughput.
//
//   npx tsc -p tsconfig.json --outDir benchmarks/results/profiles/dist-b   # the change
//   node benchmarks/ab.mjs --b=benchmarks/results/profiles/dist-b [--a=dist] [--rounds=8] [--duration=3] [--kind=json|pinned|sse] [--together]
//     [--a-args=--status] [--b-args=--status]   (extra berry-server.mjs flags, comma-separated: one build, two settings)
//
// By default the three servers are loaded in turn, each alone on its core.
// `--together` loads all three at once on the same core (16 connections
// each): the VM's speed then moves all three alike, and the per-round ratios
// scatter far less (benchmarks/README.md, "Proving a change"). Absolute
// figures from `--together` are not comparable with a full run's.
//
// The B build must live inside the repository so its imports find node_modules.
import { availableParallelism } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from './lib/args.mjs'
import { BENCH_TOKEN, MODEL } from './lib/constants.mjs'
import { cpuMs } from './lib/cpu-usage.mjs'
import { load } from './lib/load.mjs'
import { canPin, pinSelf, startNode, stopAll } from './lib/processes.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const args = parseArgs(process.argv.slice(2))
if (typeof args.b !== 'string') throw new Error('--b=<dist dir of the changed build> is required')
const rounds = Number(args.rounds ?? 8)
const durationS = Number(args.duration ?? 3)
const kinds = String(args.kind ?? 'json').split(',')
const pin = args['no-pin'] !== true && canPin(availableParallelism())
const together = args.together === true
const connections = together ? 16 : 50

function extra (flags) {
  return typeof flags === 'string' ? flags.split(',').filter(Boolean) : []
}

function median (values) {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

async function main () {
  if (pin) pinSelf(0)
  const cpu = pin ? 1 : undefined
  const origin = await startNode('origin', join(here, 'origin.mjs'), { cpu: pin ? 0 : undefined })
  const upstream = `--upstream=${origin.url}`
  const servers = {
    bare: await startNode('bare', join(here, 'bare-proxy.mjs'), { args: [upstream], cpu }),
    A: await startNode('berry A', join(here, 'berry-server.mjs'), { args: [upstream, `--dist=${args.a ?? join(here, '..', 'dist')}`, ...extra(args['a-args'])], cpu }),
    B: await startNode('berry B', join(here, 'berry-server.mjs'), { args: [upstream, `--dist=${args.b}`, ...extra(args['b-args'])], cpu })
  }
  for (const kind of kinds) {
    const body = { model: MODEL, messages: [{ role: 'user', content: 'Say hello to the benchmark, please.' }], max_tokens: 16 }
    if (kind === 'sse') body.stream = true
    if (kind === 'pinned') body.backend = 'bench_beta'
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${BENCH_TOKEN}` }
    const runs = { bare: [], A: [], B: [] }
    // Warm-up: each server once, unmeasured.
    for (const server of Object.values(servers)) {
      await load({ url: `${server.url}/v1/chat/completions`, headers, body: JSON.stringify(body), connections: 50, duration: 2 })
    }
    const measure = async (name) => {
      const server = servers[name]
      const before = cpuMs(server.pid)
      const run = await load({ url: `${server.url}/v1/chat/completions`, headers, body: JSON.stringify(body), connections, duration: durationS })
      run.cpuUs = ((cpuMs(server.pid) - before) * 1000) / run.ok
      runs[name].push(run)
    }
    for (let round = 0; round < rounds; round++) {
      if (together) {
        await Promise.all(['bare', 'A', 'B'].map(measure))
        continue
      }
      for (const name of round % 2 === 0 ? ['bare', 'A', 'B'] : ['B', 'A', 'bare']) await measure(name)
    }
    const pairs = (x, y, f) => median(runs[x].map((r, i) => f(r, runs[y][i])))
    const line = (name) => `${name.padEnd(5)} ${String(Math.round(median(runs[name].map((r) => r.rps)))).padStart(6)} req/s  p99 ${String(median(runs[name].map((r) => r.latencyMs.p99))).padStart(5)} ms  ${Math.round(median(runs[name].map((r) => r.cpuUs)))} µs CPU/req  failures ${runs[name].reduce((a, r) => a + r.failures, 0)}`
    console.log(`\n${kind}: ${rounds} paired rounds of ${durationS} s${together ? ', the three servers loaded together' : ''}`)
    for (const name of ['bare', 'A', 'B']) console.log('  ' + line(name))
    console.log(`  B/A throughput ${pairs('B', 'A', (b, a) => b.rps / a.rps).toFixed(3)}, CPU per request A÷B ${pairs('A', 'B', (a, b) => a.cpuUs / b.cpuUs).toFixed(3)}`)
    console.log(`  A/bare throughput ${pairs('A', 'bare', (a, b) => a.rps / b.rps).toFixed(3)}, CPU bare÷A ${pairs('bare', 'A', (a, b) => a.cpuUs / b.cpuUs).toFixed(3)}`)
    console.log(`  B/bare throughput ${pairs('B', 'bare', (a, b) => a.rps / b.rps).toFixed(3)}, CPU bare÷B ${pairs('bare', 'B', (a, b) => a.cpuUs / b.cpuUs).toFixed(3)}`)
  }
  await stopAll()
}

main().catch(async (err) => {
  console.error(err)
  await stopAll()
  process.exit(1)
})
