/**
 * The `berry-health` bin as a user runs it: a separate process, its exit
 * statuses (0 healthy, 1 not, 2 usage), and a clean stop on SIGINT. The
 * TypeScript entry runs through the test runner's own loader, so no build
 * is needed first.
 */
import t from 'tap'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { ADMIN_TOKEN, TIMEOUT, startFleet } from '../helpers/cli.js'

const BIN = fileURLToPath(new URL('../../cli/berry-health.ts', import.meta.url))
const ROOT = fileURLToPath(new URL('../..', import.meta.url))

interface Exit { code: number | null, signal: string | null, stdout: string, stderr: string }

function bin (args: string[], env: Record<string, string> = {}, onStdout?: (text: string, child: ReturnType<typeof spawn>) => void): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import=@tapjs/typescript/import', BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1', NO_COLOR: '', BERRY_URL: '', BERRY_TOKEN: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
      onStdout?.(stdout, child)
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
}

t.test('exit statuses of the real process', async (t) => {
  const { berry } = await startFleet(t)
  const env = { BERRY_URL: berry.url, BERRY_TOKEN: ADMIN_TOKEN }

  // Side by side: most of each run is the loader starting up.
  const [healthy, sick, usage] = await Promise.all([
    bin(['check', '--backends', 'fast', '--timeout', '2'], env),
    bin(['check', '--timeout', TIMEOUT], env),
    bin(['chekc'], env)
  ])
  t.equal(healthy.code, 0, healthy.stderr)
  t.match(healthy.stdout, /^2\/2 healthy$/m)
  t.equal(sick.code, 1, sick.stderr)
  t.match(sick.stdout, /^2\/4 healthy; unhealthy: slow \(gpt-4o\), dead \(gpt-4o\)$/m)
  t.notOk(sick.stdout.includes('\x1b['), 'piped: no colour')
  t.equal(usage.code, 2)
  t.match(usage.stderr, "berry-health: unknown command 'chekc'")

  for (const run of [healthy, sick, usage]) t.notOk((run.stdout + run.stderr).includes(ADMIN_TOKEN), 'the token never shows')
})

t.test('monitor stops cleanly on SIGINT', async (t) => {
  const { berry } = await startFleet(t)
  let sent = false
  const res = await bin(['monitor', '--backends', 'fast', '--interval', '60'], { BERRY_URL: berry.url, BERRY_TOKEN: ADMIN_TOKEN }, (out, child) => {
    if (!sent && out.includes('healthy')) {
      sent = true
      child.kill('SIGINT')
    }
  })
  t.equal(res.code, 0)
  t.equal(res.signal, null, 'exited by itself, not killed')
  t.match(res.stderr, 'stopped after 1 round')
})
