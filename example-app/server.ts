/**
 * The example gateway: berry on a plain Fastify server.
 *
 *   BERRY_CONFIG=path.toml   serve that config (else an embedded demo)
 *   PORT (3000), HOST (127.0.0.1), LOG_LEVEL (info)
 *   BERRY_WATCH=1            reload when the config file changes
 *   SIGHUP                   reload the config file
 *   SIGTERM, SIGINT          drain and exit 0 (docs/deployment.md)
 */
import Fastify from 'fastify'
import { watch } from 'node:fs'
import { basename, dirname, resolve } from 'node:path'
import berry from '../plugin/index.js'
import { DEMO_TOKEN, DEMO_ADMIN_TOKEN, demoConfig } from './demo-config.js'
import { startDemoUpstream } from './demo-upstreams.js'
import { loggerOptions, serverOptions } from './server-options.js'

const port = Number(process.env.PORT ?? 3000)
const host = process.env.HOST ?? '127.0.0.1'
const configPath = process.env.BERRY_CONFIG

// Timeouts against slow clients, header limits, and a request log that
// never holds a credential: see server-options.ts and docs/security.md.
const app = Fastify({
  ...serverOptions(),
  logger: loggerOptions(process.env.LOG_LEVEL ?? 'info')
})

let config: string
if (configPath === undefined) {
  const alpha = await startDemoUpstream('alpha')
  const beta = await startDemoUpstream('beta')
  app.addHook('onClose', async () => {
    alpha.server.close()
    beta.server.close()
  })
  config = demoConfig(alpha.origin, beta.origin)
} else {
  config = configPath
}

await app.register(berry, { config, status: true })

function reload (why: string): void {
  if (configPath === undefined) {
    app.log.warn(`${why}: the demo config has no file to reload`)
    return
  }
  try {
    const change = app.berry.reload(configPath)
    app.log.info({ change }, `config reloaded (${why}): models +${change.modelsAdded.length} -${change.modelsRemoved.length}, backends +${change.backendsAdded.length} -${change.backendsRemoved.length}`)
  } catch (err) {
    app.log.error(`config reload (${why}) rejected, the old config stays in force: ${(err as Error).message}`)
  }
}

process.on('SIGHUP', () => reload('SIGHUP'))
if (configPath !== undefined && process.env.BERRY_WATCH === '1') {
  let timer: NodeJS.Timeout | undefined
  // The folder, not the file: editors often save by writing a new file and
  // renaming it over the old one, which a watch on the file itself misses.
  // And they write in bursts: reload once the burst is over.
  const name = basename(configPath)
  const watcher = watch(dirname(resolve(configPath)), (_event, changed) => {
    if (changed !== null && changed !== name) return
    clearTimeout(timer)
    timer = setTimeout(() => reload('file changed'), 200)
  })
  app.addHook('onClose', async () => watcher.close())
}

// On SIGTERM berry drains (plugin/drain.ts): /health answers 503, new
// requests get 503 with Connection: close, requests in flight finish for up
// to `shutdown_grace_seconds`, the rest are ended. Should anything still
// hold the close up well past that, the process exits anyway, with 1.
const FORCED_EXIT_MARGIN_MS = 15_000
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    app.log.info(`${signal}: closing`)
    setTimeout(() => {
      app.log.error(`${signal}: the close did not finish in time, exiting`)
      process.exit(1)
    }, app.berry.config.settings.shutdownGraceMs + FORCED_EXIT_MARGIN_MS).unref()
    app.close().then(() => process.exit(0), () => process.exit(1))
  })
}

await app.listen({ port, host })
const address = app.server.address()
const base = `http://${host}:${typeof address === 'object' && address !== null ? address.port : port}`
if (configPath === undefined) {
  console.log(`
berry demo gateway on ${base} (two in-process demo upstreams, no key, no network)
  demo token:  ${DEMO_TOKEN}
  admin token: ${DEMO_ADMIN_TOKEN}

  curl ${base}/v1/chat/completions -H 'Authorization: Bearer ${DEMO_TOKEN}' -H 'Content-Type: application/json' -d '{"model": "demo-model", "messages": [{"role": "user", "content": "Hello"}]}'

  status page: ${base}/status (sign in with the admin token)
`)
}
