/**
 * For the berry-health tests: a real berry over fake upstreams (one fast,
 * one slow, one dead, one disabled; a second model on the fast one), output
 * collectors, a webhook receiver, and `runCli` calling the tool in-process.
 */
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { run } from '../../cli/run.js'
import type { Sink } from '../../cli/output.js'
import { ADMIN_TOKEN, startBerry, TOKEN, type RunningBerry } from './berry.js'
import { deadOrigin, json, startUpstream, type Behaviour, type FakeUpstream } from './fake-upstream.js'

export { ADMIN_TOKEN, TOKEN }

/** Answers with `inner` after `ms`, unless the client left first. */
export const delayed = (ms: number, inner: Behaviour = json()): Behaviour => (req, res, received) => {
  const timer = setTimeout(() => inner(req, res, received), ms)
  res.on('close', () => clearTimeout(timer))
}

/** Each request takes the next behaviour of the list; the last one repeats. */
export const sequence = (...steps: Behaviour[]): Behaviour => {
  let n = 0
  return (req, res, received) => {
    const step = steps[Math.min(n++, steps.length - 1)] as Behaviour
    step(req, res, received)
  }
}

export interface Fleet {
  readonly berry: RunningBerry
  readonly fast: FakeUpstream
  readonly slow: FakeUpstream
  readonly dead: string
}

/**
 * The tests' --timeout: long enough for the fast backends on a loaded CI
 * machine, short enough that waiting for the slow one costs little.
 */
export const TIMEOUT = '1.5'
/** How long the slow upstream takes: far above TIMEOUT. */
export const SLOW_MS = 10_000

interface Teardown { teardown (fn: () => unknown): void }

export function fleetConfig (origins: { fast: string, slow: string, dead: string }): string {
  return `
[providers.fast]
base_url = "${origins.fast}/v1"
api_key = "sk-fast-secret-key-0001"

[providers.slow]
base_url = "${origins.slow}/v1"
api_key = "sk-slow-secret-key-0002"

[providers.dead]
base_url = "${origins.dead}/v1"
api_key = "sk-dead-secret-key-0003"

[providers.off]
base_url = "${origins.fast}/v1"
api_key = "sk-off-secret-key-0004"
enabled = false

# One model with a public name, one (as in the spec) known by its key.
[models.gpt_4o]
name = "gpt-4o"

[[models.gpt_4o.backends]]
provider = "fast"
model = "gpt-4o"

[[models.gpt_4o.backends]]
provider = "slow"
model = "gpt-4o-slow"

[[models.gpt_4o.backends]]
provider = "dead"
model = "gpt-4o"

[[models.gpt_4o.backends]]
provider = "off"
model = "gpt-4o"

[[models.claude_sonnet_4.backends]]
provider = "fast"
model = "claude-3-5-sonnet-20241022"

[users.alice]
token = "${TOKEN}"

[users.ops]
token = "${ADMIN_TOKEN}"
tags = ["admin"]
`
}

export async function startFleet (t: Teardown, fast: Behaviour = json('pong')): Promise<Fleet> {
  const fastUp = await startUpstream(fast)
  const slowUp = await startUpstream(delayed(SLOW_MS))
  t.teardown(() => fastUp.close())
  t.teardown(() => slowUp.close())
  const dead = await deadOrigin()
  const berry = await startBerry(t, { config: fleetConfig({ fast: fastUp.origin, slow: slowUp.origin, dead }) }, 'warn')
  return { berry, fast: fastUp, slow: slowUp, dead }
}

export interface Collector extends Sink {
  readonly text: string
}

export function collector (isTTY = false): Collector {
  let text = ''
  return {
    isTTY,
    write (chunk: string) { text += chunk; return true },
    get text () { return text }
  }
}

export interface CliRun {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

export async function runCli (argv: string[], options: { env?: Record<string, string>, tty?: boolean, signal?: AbortSignal, stdout?: Collector } = {}): Promise<CliRun> {
  const stdout = options.stdout ?? collector(options.tty)
  const stderr = collector(options.tty)
  const code = await run(argv, {
    stdout,
    stderr,
    env: options.env ?? {},
    ...(options.signal === undefined ? {} : { signal: options.signal })
  })
  return { code, stdout: stdout.text, stderr: stderr.text }
}

export interface WebhookReceiver {
  readonly url: string
  /** Parsed JSON bodies, in arrival order. */
  readonly posts: Array<{ text: string }>
  /** Statuses to answer with, one per post; 200 once they run out. */
  answers: number[]
}

export async function startWebhook (t: Teardown): Promise<WebhookReceiver> {
  const receiver: WebhookReceiver = { url: '', posts: [], answers: [] }
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const status = receiver.answers.shift() ?? 200
      if (status === 200) receiver.posts.push(JSON.parse(Buffer.concat(chunks).toString('utf8')))
      res.writeHead(status, { 'content-type': 'text/plain' })
      res.end(status === 200 ? 'ok' : 'no')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  }))
  const { port } = server.address() as AddressInfo
  return Object.assign(receiver, { url: `http://127.0.0.1:${port}/services/T000/B000/webhook-secret-path` })
}

/** No ANSI escape anywhere. */
export function plain (text: string): boolean {
  return !text.includes('\x1b[')
}
