/** Starts berry on a real socket for a test, and tears it down after. */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { Writable } from 'node:stream'
import { Registry } from 'prom-client'
import berry, { type BerryOptions } from '../../plugin/index.js'

export interface RunningBerry {
  readonly app: FastifyInstance
  readonly url: string
  /** Every log line, parsed. */
  readonly logs: Array<Record<string, any>>
  /** The first log line (already written or still to come) that `matches`. */
  log (matches: (line: Record<string, any>) => boolean): Promise<Record<string, any>>
  post (path: string, body: unknown, token?: string | null, headers?: Record<string, string>): Promise<Response>
  get (path: string, token?: string | null): Promise<Response>
}

export const TOKEN = 'test-user-token-123456'
export const ADMIN_TOKEN = 'test-admin-token-abcdef'

interface Teardown { teardown (fn: () => unknown): void }

/**
 * berry on a plain Fastify host, logging at `level` into `logs`. `host`
 * builds the host's server options around the log stream (default: just a
 * logger); the security helper passes the example app's hardened options.
 */
export async function startBerry (
  t: Teardown,
  options: BerryOptions,
  level = 'info',
  host: (stream: Writable) => FastifyServerOptions = (stream) => ({ logger: { level, stream } })
): Promise<RunningBerry> {
  const logs: Array<Record<string, any>> = []
  const waiting = new Set<{ matches: (line: Record<string, any>) => boolean, resolve: (line: Record<string, any>) => void }>()
  const stream = new Writable({
    write (chunk: Buffer, _enc, cb) {
      for (const text of chunk.toString('utf8').split('\n')) {
        if (!text) continue
        const line = JSON.parse(text)
        logs.push(line)
        for (const waiter of waiting) {
          if (!waiter.matches(line)) continue
          waiting.delete(waiter)
          waiter.resolve(line)
        }
      }
      cb()
    }
  })
  const log = (matches: (line: Record<string, any>) => boolean): Promise<Record<string, any>> => {
    const found = logs.find(matches)
    return found !== undefined ? Promise.resolve(found) : new Promise((resolve) => waiting.add({ matches, resolve }))
  }
  const app = Fastify(host(stream))
  // A registry per instance: several berry apps may live in one test.
  await app.register(berry, options.metrics === undefined ? { ...options, metrics: { registry: new Registry() } } : options)
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  const address = app.server.address()
  const url = typeof address === 'object' && address !== null ? `http://127.0.0.1:${address.port}` : String(address)
  const auth = (token: string | null | undefined): Record<string, string> => token === null ? {} : { authorization: `Bearer ${token ?? TOKEN}` }
  return {
    app,
    url,
    logs,
    log,
    post: (path, body, token, headers = {}) => fetch(url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth(token), ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body)
    }),
    get: (path, token) => fetch(url + path, { headers: auth(token) })
  }
}

/** A config with the spec's shape, pointing at the given origins. */
export function specConfig (origins: { openai: string, claude: string, disabled?: string }): string {
  return `
[providers.openai_official]
name = "OpenAI Official"
base_url = "${origins.openai}/v1"
api_key = "sk-openai-secret-key-0001"
models = ["gpt-4o", "gpt-4o-mini"]
enabled = true

[providers.anthropic_claude]
name = "Anthropic Claude"
base_url = "${origins.claude}/v1"
api_key = "sk-ant-secret-key-0002"
models = ["claude-sonnet-4"]
enabled = true

[providers.disabled_backend]
name = "Disabled"
base_url = "${origins.disabled ?? origins.openai}/v1"
api_key = "sk-disabled-secret-0003"
enabled = false

[[models.gpt_4o.backends]]
provider = "openai_official"
model = "gpt-4o"
weight = 1.0
enabled = true

[[models.gpt_4o.backends]]
provider = "disabled_backend"
model = "gpt-4o"
weight = 1.0
enabled = true

[[models.claude_sonnet_4.backends]]
provider = "anthropic_claude"
model = "claude-3-5-sonnet-20241022"
weight = 1.0
enabled = true

[users.alice]
token = "${TOKEN}"

[users.ops]
token = "${ADMIN_TOKEN}"
tags = ["admin"]
`
}
