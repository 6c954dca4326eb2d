// The baseline: a bare @fastify/http-proxy in front of one fixed upstream,
// with Fastify's logger off, as a Fastify user would write it.
//
//   node benchmarks/bare-proxy.mjs --upstream=http://127.0.0.1:PORT [--connections=N]
//
// The one setting changed from http-proxy's defaults is undici's connection
// cap per origin (128 by default), raised to berry's default of 1024 so the
// 1,000-stream scenario compares the two proxies and not their pool sizes;
// it changes nothing at 50 connections. `--connections` sets it otherwise
// (the 10,000-stream scenario). Prints `{"port": N}` once listening.
import Fastify from 'fastify'
import httpProxy from '@fastify/http-proxy'
import { parseArgs } from './lib/args.mjs'

const args = parseArgs(process.argv.slice(2))
if (typeof args.upstream !== 'string') throw new Error('--upstream=http://127.0.0.1:PORT is required')

const app = Fastify({ logger: false })
await app.register(httpProxy, {
  upstream: args.upstream,
  prefix: '/v1',
  rewritePrefix: '/v1',
  undici: { connections: Number(args.connections ?? 1024) }
})
await app.listen({ port: Number(args.port ?? 0), host: '127.0.0.1', backlog: 4096 })
process.stdout.write(JSON.stringify({ port: app.server.address().port }) + '\n')
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => { app.close().then(() => process.exit(0), () => process.exit(1)) })
