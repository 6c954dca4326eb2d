// Child processes for the benchmarks: each server runs alone in its own
// process, optionally pinned to a core with `taskset`, and every one of them
// is killed when the runner ends, on success, on error or on a signal.
import { spawn, execFileSync } from 'node:child_process'
import { createConnection } from 'node:net'
import { once } from 'node:events'

const children = new Set()

/** Whether `taskset` is usable and there are at least two cores to split. */
export function canPin (cores) {
  if (cores < 2) return false
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** Pins every thread of this process (the load generator) to `cpu`. */
export function pinSelf (cpu) {
  execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(process.pid)], { stdio: 'ignore' })
}

/**
 * Starts `node [nodeArgs] script [args]`, pinned to `cpu` when given. Resolves
 * once the child prints `{"port": N}` (our own servers) or, with `port`
 * given, once that port accepts connections (a third-party bin).
 */
export async function startNode (name, script, { args = [], nodeArgs = [], cpu, port, env, readyTimeoutMs = 20_000 } = {}) {
  const argv = [...nodeArgs, script, ...args]
  const [command, commandArgs] = cpu === undefined
    ? [process.execPath, argv]
    : ['taskset', ['-c', String(cpu), process.execPath, ...argv]]
  const child = spawn(command, commandArgs, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } })
  children.add(child)
  const tail = []
  const keep = (chunk) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue
      tail.push(line)
      if (tail.length > 50) tail.shift()
    }
  }
  child.stderr.on('data', keep)
  const exited = once(child, 'exit').then(([code, signal]) => {
    children.delete(child)
    return { code, signal }
  })

  const ready = port === undefined
    ? new Promise((resolve, reject) => {
      let buffer = ''
      child.stdout.on('data', (chunk) => {
        buffer += chunk.toString('utf8')
        const line = buffer.split('\n').find((l) => l.startsWith('{"port"'))
        if (line !== undefined) resolve(JSON.parse(line).port)
      })
      exited.then(({ code }) => reject(new Error(`${name} exited with code ${code} before listening: ${tail.slice(-5).join(' | ')}`)))
    })
    : waitForPort(port, readyTimeoutMs).then(() => port)
  if (port !== undefined) child.stdout.on('data', keep)

  let timer
  const timeout = new Promise((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${name} did not start within ${readyTimeoutMs} ms: ${tail.slice(-5).join(' | ')}`)), readyTimeoutMs)
  })
  try {
    const listening = await Promise.race([ready, timeout])
    return {
      name,
      pid: child.pid,
      port: listening,
      url: `http://127.0.0.1:${listening}`,
      /** The last lines the child wrote (to explain a failure). */
      tail: () => [...tail],
      exited,
      stop: () => stop(child, exited)
    }
  } catch (err) {
    await stop(child, exited)
    throw err
  } finally {
    clearTimeout(timer)
  }
}

async function waitForPort (port, timeoutMs) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const ok = await new Promise((resolve) => {
      const socket = createConnection({ port, host: '127.0.0.1' })
      socket.once('connect', () => { socket.destroy(); resolve(true) })
      socket.once('error', () => resolve(false))
    })
    if (ok) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`nothing listened on 127.0.0.1:${port} within ${timeoutMs} ms`)
}

/** SIGTERM (a clean exit writes `--cpu-prof` profiles), SIGKILL after 5 s. */
async function stop (child, exited) {
  if (child.exitCode !== null || child.signalCode !== null) return exited
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
  try {
    return await exited
  } finally {
    clearTimeout(timer)
  }
}

export async function stopAll () {
  await Promise.all([...children].map((child) => {
    const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : once(child, 'exit')
    return stop(child, exited)
  }))
}

// Whatever happens to the runner, no server outlives it.
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL')
})
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    stopAll().finally(() => process.exit(130))
  })
}

/** A free TCP port on 127.0.0.1, for a bin that needs one on its command line. */
export async function freePort () {
  const { createServer } = await import('node:net')
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address()
  server.close()
  await once(server, 'close')
  return port
}
