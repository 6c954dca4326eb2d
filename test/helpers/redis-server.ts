/**
 * A throw-away redis-server (Debian's package) on a free 127.0.0.1 port,
 * without persistence, killed on teardown. `null` when the binary is absent.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createServer, type AddressInfo } from 'node:net'

export interface RedisServer {
  readonly url: string
  readonly port: number
  stop (): Promise<void>
}

export function redisServerAvailable (): boolean {
  const probe = spawnSync('redis-server', ['--version'], { stdio: 'ignore' })
  return probe.error === undefined && probe.status === 0
}

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

function stopped (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    child.once('exit', () => resolve())
    child.kill('SIGTERM')
  })
}

export async function startRedis (t: { teardown (fn: () => unknown): void }, password?: string): Promise<RedisServer> {
  const port = await freePort()
  const auth = password === undefined ? [] : ['--requirepass', password]
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...auth], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => stopped(child))
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
  return { url: `redis://${password === undefined ? '' : `:${password}@`}127.0.0.1:${port}`, port, stop: () => stopped(child) }
}
