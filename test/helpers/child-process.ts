/**
 * For tests that start real processes (the example app, redis-server, nginx):
 * a free port to give one, and a child's output gathered as it comes, with a
 * bounded wait for a line to appear in it.
 */
import type { ChildProcess } from 'node:child_process'
import { createServer, type AddressInfo } from 'node:net'

/** A port free on 127.0.0.1 now (the OS's pick, closed again at once). */
export async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

export interface ChildOutput {
  /** Everything the child wrote so far, stdout and stderr together. */
  output (): string
  /** Resolves with the output once it matches `pattern`, at most `ms` later; else rejects naming `who`. */
  printed (pattern: RegExp, ms?: number): Promise<string>
}

/** Gathers `child`'s stdout and stderr (it must have been spawned with both piped). */
export function watchOutput (child: ChildProcess, who: string): ChildOutput {
  let out = ''
  const waiting = new Set<() => void>()
  const collect = (chunk: Buffer): void => {
    out += chunk.toString('utf8')
    for (const check of waiting) check()
  }
  child.stdout?.on('data', collect)
  child.stderr?.on('data', collect)
  const printed = (pattern: RegExp, ms = 30_000): Promise<string> => new Promise((resolve, reject) => {
    const timer = setTimeout(() => { waiting.delete(check); reject(new Error(`no ${pattern} in the output of ${who} within ${ms} ms:\n${out}`)) }, ms)
    function check (): void {
      if (!pattern.test(out)) return
      clearTimeout(timer)
      waiting.delete(check)
      resolve(out)
    }
    waiting.add(check)
    check()
  })
  return { output: () => out, printed }
}
