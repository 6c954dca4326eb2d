// berry as the example app runs it, built from dist/ (run `npm run build`
// first; `npm run bench` does), with Fastify's logger off.
//
//   node benchmarks/berry-server.mjs --upstream=http://127.0.0.1:PORT [--dist=DIR] [--status]
//        [--connections=N] [--http2] [--ca=FILE] [--protocols]
//
// `--dist` loads another build of berry (default: the repository's dist/),
// which is how benchmarks/ab.mjs compares a change against the current code.
// `--status` turns the status page on (its traffic store counts every request).
// `--connections` sets `connections_per_origin`, `--http2` `upstream_http2`,
// and `--ca` the providers' `ca_file` (an https origin with a self-signed
// certificate).
//
// One public model, `bench-model`, with two weighted backends (3:1) on two
// providers that both point at the same origin, so load balancing runs its
// full path while the origin stays one process. `--protocols` adds two
// models of one backend each for the conversion scenario: `bench-passthrough`
// (OpenAI protocol, relayed as it comes) and `bench-claude` (a Claude
// provider on the origin's `/v1/messages`, converted both ways); builds from
// before provider protocols reject that config, so it is off by default
// (benchmarks/ab.mjs compares against old builds). Prints `{"port": N}`.
import Fastify from 'fastify'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { BENCH_TOKEN } from './lib/constants.mjs'
import { parseArgs } from './lib/args.mjs'

const args = parseArgs(process.argv.slice(2))
const dist = typeof args.dist === 'string' ? resolve(args.dist) : new URL('../dist', import.meta.url).pathname
const { default: berry } = await import(pathToFileURL(`${dist}/plugin/index.js`).href)
if (typeof args.upstream !== 'string') throw new Error('--upstream=http://127.0.0.1:PORT is required')

const settings = [
  ...(args.connections === undefined ? [] : [`connections_per_origin = ${Number(args.connections)}`]),
  ...(args.http2 === true ? ['upstream_http2 = true'] : [])
]
const ca = typeof args.ca === 'string' ? `ca_file = ${JSON.stringify(resolve(args.ca))}\n` : ''
const config = `
${settings.length === 0 ? '' : `[settings]\n${settings.join('\n')}\n`}
[providers.bench_alpha]
name = "Bench alpha"
base_url = "${args.upstream}/v1"
api_key = "sk-bench-alpha"
models = ["bench-model"]
${ca}
[providers.bench_beta]
name = "Bench beta"
base_url = "${args.upstream}/v1"
api_key = "sk-bench-beta"
models = ["bench-model"]
${ca}
[models.bench_model]
name = "bench-model"

[[models.bench_model.backends]]
provider = "bench_alpha"
model = "bench-model"
weight = 3.0

[[models.bench_model.backends]]
provider = "bench_beta"
model = "bench-model"
weight = 1.0

${args.protocols === true
  ? `[providers.bench_claude]
name = "Bench Claude"
base_url = "${args.upstream}"
api_key = "sk-bench-claude"
backend_type = "claude"
models = ["claude-bench"]

[models.bench_passthrough]
name = "bench-passthrough"

[[models.bench_passthrough.backends]]
provider = "bench_alpha"
model = "bench-model"

[models.bench_claude]
name = "bench-claude"

[[models.bench_claude.backends]]
provider = "bench_claude"
model = "claude-bench"
`
  : ''}
[users.bench]
name = "Bench user"
token = "${BENCH_TOKEN}"
`

const app = Fastify({ logger: false, bodyLimit: 10 * 1024 * 1024 })
await app.register(berry, args.status === true ? { config, status: true } : { config })
await app.listen({ port: Number(args.port ?? 0), host: '127.0.0.1', backlog: 4096 })
process.stdout.write(JSON.stringify({ port: app.server.address().port }) + '\n')
// A clean exit on SIGTERM/SIGINT is what lets `--cpu-prof` write its profile.
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => { app.close().then(() => process.exit(0), () => process.exit(1)) })
