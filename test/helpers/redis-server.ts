/**
 * A throw-away redis-server (Debian's package) on a free 127.0.0.1 port,
 * killed on teardown. Without `dir` nothing is persisted; with it every
 * write goes to an append-only file there first, so a server killed and
 * started again on the same port and dir comes back with its data.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { freePort } from './child-process.js'

export interface RedisServer {
  readonly url: string
  readonly port: number
  /** SIGTERM, and waits for the exit. */
  stop (): Promise<void>
  /** SIGKILL: gone at once, as in a crash. */
  kill (): Promise<void>
  /** SIGSTOP: connections stay open and nothing answers (a hung server). */
  pause (): void
  /** SIGCONT. */
  resume (): void
}

export interface RedisServerOptions {
  readonly password?: string
  /** Default: a free port. */
  readonly port?: number
  /** Persist to an append-only file in this directory, each write synced. */
  readonly dir?: string
}

export function redisServerAvailable (): boolean {
  const probe = spawnSync('redis-server', ['--version'], { stdio: 'ignore' })
  return probe.error === undefined && probe.status === 0
}

function stopped (child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    child.once('exit', () => resolve())
    // A paused server handles no SIGTERM until it runs again.
    child.kill('SIGCONT')
    child.kill(signal)
  })
}

export async function startRedis (t: { teardown (fn: () => unknown): void }, options: RedisServerOptions = {}): Promise<RedisServer> {
  const port = options.port ?? await freePort()
  const auth = options.password === undefined ? [] : ['--requirepass', options.password]
  const persistence = options.dir === undefined
    ? ['--save', '', '--appendonly', 'no']
    : ['--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', options.dir]
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', ...persistence, ...auth], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => stopped(child, 'SIGTERM'))
  await new Promise<void>((resolve, reject) => {
    let output = ''
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${output}`)), 10_000)
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8')
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer)
        resolve()
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`redis-server exited (${code}): ${output}`))
    })
  })
  return {
    url: `redis://${options.password === undefined ? '' : `:${options.password}@`}127.0.0.1:${port}`,
    port,
    stop: () => stopped(child, 'SIGTERM'),
    kill: () => stopped(child, 'SIGKILL'),
    pause: () => { child.kill('SIGSTOP') },
    resume: () => { child.kill('SIGCONT') }
  }
}
