// Profiles berry's hot path: berry (from dist/) runs with `--cpu-prof` under
// autocannon load, then the profile's self time is summed by function and by
// package (berry, fastify, reply-from, http-proxy, undici, Node core, GC).
//
//   npm run build && node benchmarks/profile.mjs [--duration=20] [--kind=json|sse|pinned|claude|passthrough] [--server=berry|bare] [--dist=DIR]
//
// Prints the shares and the top functions; writes the summary to
// benchmarks/results/profile-<server>[-<dist>]-<kind>.json and keeps the raw
// .cpuprofile under benchmarks/results/profiles/ (git-ignored; open it in
// Chrome DevTools > Performance, or speedscope).
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from './lib/args.mjs'
import { BENCH_TOKEN, MODEL } from './lib/constants.mjs'
import { cpuMs } from './lib/cpu-usage.mjs'
import { load } from './lib/load.mjs'
import { canPin, pinSelf, startNode, stopAll } from './lib/processes.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const args = parseArgs(process.argv.slice(2))
const durationS = Number(args.duration ?? 20)
const kind = args.kind ?? 'json'
const serverName = args.server ?? 'berry'
const pin = args['no-pin'] !== true && canPin(availableParallelism())

/** Which package a profile node's code belongs to. */
export function categoryOf (url, functionName) {
  if (functionName === '(garbage collector)') return 'GC'
  if (functionName === '(idle)') return 'idle'
  if (functionName === '(program)') return 'program (native, unattributed)'
  if (/\/dist[^/]*\/plugin\//.test(url)) return 'berry'
  if (url.includes('@fastify/reply-from')) return '@fastify/reply-from'
  if (url.includes('@fastify/http-proxy')) return '@fastify/http-proxy'
  if (url.includes('/undici/') || url.includes('internal/deps/undici')) return 'undici'
  if (/node_modules\/(fastify|find-my-way|avvio|light-my-request|@fastify\/|fast-json-stringify|secure-json-parse|fast-querystring|toad-cache|abstract-logging|pino)/.test(url)) return 'fastify (+ its deps)'
  if (url.includes('node_modules/')) return 'other packages'
  if (url.startsWith('node:') || url === '') return 'Node core (JS + native)'
  return 'other'
}

/** Self time per function and package, leaving out the first `skipUs` (start-up, warm-up). */
export function summarise (profile, skipUs = 0) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const selfUs = new Map()
  let clock = 0
  for (let i = 0; i < profile.samples.length; i++) {
    clock += profile.timeDeltas[i] ?? 0
    if (clock < skipUs) continue
    const id = profile.samples[i]
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
  }
  const functions = new Map()
  const categories = new Map()
  let busy = 0
  for (const [id, us] of selfUs) {
    const { callFrame } = byId.get(id)
    const category = categoryOf(callFrame.url, callFrame.functionName)
    categories.set(category, (categories.get(category) ?? 0) + us)
    if (category === 'idle') continue
    busy += us
    const file = callFrame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(dist[^/]*)\//, '$1/')
    const key = `${callFrame.functionName || '(anonymous)'} ${file}:${callFrame.lineNumber + 1}`
    const entry = functions.get(key) ?? { fn: key, category, us: 0 }
    entry.us += us
    functions.set(key, entry)
  }
  const share = (us) => Number((100 * us / busy).toFixed(2))
  return {
    busyMs: Math.round(busy / 1000),
    categories: [...categories].filter(([c]) => c !== 'idle').sort((a, b) => b[1] - a[1]).map(([category, us]) => ({ category, percent: share(us) })),
    top: [...functions.values()].sort((a, b) => b.us - a.us).slice(0, 30).map((f) => ({ fn: f.fn, category: f.category, percent: share(f.us) })),
    berry: [...functions.values()].filter((f) => f.category === 'berry').sort((a, b) => b.us - a.us).map((f) => ({ fn: f.fn, percent: share(f.us) }))
  }
}

async function main () {
  if (pin) pinSelf(0)
  const label = `${serverName}${typeof args.dist === 'string' ? `-${basename(args.dist)}` : ''}-${kind}`
  const profileDir = join(here, 'results', 'profiles', label)
  rmSync(profileDir, { recursive: true, force: true })
  mkdirSync(profileDir, { recursive: true })
  const origin = await startNode('origin', join(here, 'origin.mjs'), { cpu: pin ? 0 : undefined })
  const script = serverName === 'bare' ? 'bare-proxy.mjs' : 'berry-server.mjs'
  const protocols = kind === 'claude' || kind === 'passthrough'
  const spawnedAt = performance.now()
  const server = await startNode(serverName, join(here, script), {
    nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`],
    args: [`--upstream=${origin.url}`, ...(typeof args.dist === 'string' ? [`--dist=${args.dist}`] : []), ...(protocols ? ['--protocols'] : [])],
    cpu: pin ? 1 : undefined
  })
  // claude and passthrough: the convert scenario's two single-backend streams (run.mjs).
  const model = kind === 'claude' ? 'bench-claude' : kind === 'passthrough' ? 'bench-passthrough' : MODEL
  const body = { model, messages: [{ role: 'user', content: 'Say hello to the benchmark, please.' }], max_tokens: 16 }
  if (kind === 'sse' || protocols) body.stream = true
  if (kind === 'pinned') body.backend = 'bench_beta'
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${BENCH_TOKEN}` }
  const target = { url: `${server.url}/v1/chat/completions`, headers, body: JSON.stringify(body), connections: 50 }
  // Module loading and JIT warm-up are left out of the summary.
  await load({ ...target, duration: 3 })
  const skipUs = (performance.now() - spawnedAt) * 1000
  const cpuBefore = cpuMs(server.pid)
  const run = await load({ ...target, duration: durationS })
  // CPU from /proc counts only time on a core; the profiler's sampled
  // "busy" time also counts time a neighbour held the core.
  const cpuUsPerRequest = ((cpuMs(server.pid) - cpuBefore) * 1000) / run.ok
  await server.stop()
  await stopAll()

  const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'))
  if (file === undefined) throw new Error(`no profile written to ${profileDir}`)
  const summary = { server: serverName, kind, durationS, rps: Math.round(run.rps), requests: run.ok, p99Ms: run.latencyMs.p99, cpuUsPerRequest: Math.round(cpuUsPerRequest), ...summarise(JSON.parse(readFileSync(join(profileDir, file), 'utf8')), skipUs) }
  // Absolute cost per request lets two profiles (berry, bare) be compared
  // even when a noisy machine gave them different throughputs.
  const perRequest = (percent) => Number(((cpuUsPerRequest * percent) / 100).toFixed(1))
  for (const c of summary.categories) c.usPerRequest = perRequest(c.percent)
  for (const f of [...summary.top, ...summary.berry]) f.usPerRequest = perRequest(f.percent)
  writeFileSync(join(here, 'results', `profile-${label}.json`), JSON.stringify(summary, null, 1) + '\n')

  console.log(`${serverName} ${kind}: ${summary.rps} req/s under the profiler, p99 ${summary.p99Ms} ms; ${summary.cpuUsPerRequest} µs CPU per request (/proc)`)
  console.log('\nself time by package (% of busy time, µs per request)')
  for (const c of summary.categories) console.log(`  ${String(c.percent).padStart(6)}  ${String(c.usPerRequest).padStart(6)}  ${c.category}`)
  console.log('\ntop functions by self time')
  for (const f of summary.top.slice(0, 25)) console.log(`  ${String(f.percent).padStart(6)}  ${String(f.usPerRequest).padStart(6)}  ${f.fn}  [${f.category}]`)
  console.log('\nberry functions')
  for (const f of summary.berry.slice(0, 20)) console.log(`  ${String(f.percent).padStart(6)}  ${String(f.usPerRequest).padStart(6)}  ${f.fn}`)
}

main().catch(async (err) => {
  console.error(err)
  await stopAll()
  process.exit(1)
})
