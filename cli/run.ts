/**
 * berry-health in-process: arguments in, exit status out. The bin and the
 * tests both call `run`; nothing here touches `process`.
 */
import { parse, UsageError } from './args.js'
import { benchmarkCommand } from './benchmark.js'
import { checkCommand } from './check.js'
import { ownFetch, type Fetch } from './client.js'
import { EXIT_UNHEALTHY, EXIT_USAGE, type Context } from './context.js'
import { discover, DiscoveryError } from './discover.js'
import { monitorCommand } from './monitor.js'
import { createOutput, redactor, type Env, type Sink } from './output.js'
import { USAGE } from './usage.js'

export interface RunIO {
  readonly stdout: Sink
  readonly stderr: Sink
  /** BERRY_URL, BERRY_TOKEN, NO_COLOR, TERM. */
  readonly env?: Env
  readonly fetch?: Fetch
  /** Ctrl-C: requests stop, monitor ends cleanly. */
  readonly signal?: AbortSignal
}

const COMMAND = { check: checkCommand, monitor: monitorCommand, benchmark: benchmarkCommand } as const

export async function run (argv: readonly string[], io: RunIO): Promise<number> {
  const env = io.env ?? {}
  let parsed
  try {
    parsed = parse(argv, env)
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    // The token may sit in argv (or in a bad --url): keep it out of the message.
    const redact = redactor([env.BERRY_TOKEN, ...tokenArgs(argv)])
    io.stderr.write(redact(`berry-health: ${err.message}\nRun 'berry-health --help' for usage.\n`))
    return EXIT_USAGE
  }
  if (parsed.help) {
    io.stdout.write(USAGE)
    return 0
  }
  const { options } = parsed
  const output = createOutput(io.stdout, io.stderr, env, [options.token])
  const own = io.fetch === undefined ? ownFetch(options.timeoutMs) : undefined
  const fetch = io.fetch ?? (own as ReturnType<typeof ownFetch>).fetch
  const conn = { url: options.url, token: options.token, timeoutMs: options.timeoutMs, fetch, signal: io.signal }
  try {
    const discovery = await discover(conn, options)
    for (const note of discovery.notes) output.err(`note: ${note}`)
    const ctx: Context = { options, conn, discovery, output }
    return await COMMAND[options.command](ctx)
  } catch (err) {
    if (err instanceof DiscoveryError) {
      output.err(`berry-health: ${err.message}`)
      return err.exitCode
    }
    output.err(`berry-health: ${(err as Error).message}`)
    return EXIT_UNHEALTHY
  } finally {
    await own?.close()
  }
}

/** The values given to --token, however spelled. */
function tokenArgs (argv: readonly string[]): string[] {
  const out: string[] = []
  argv.forEach((arg, i) => {
    if (arg === '--token' && argv[i + 1] !== undefined) out.push(argv[i + 1] as string)
    else if (arg.startsWith('--token=')) out.push(arg.slice('--token='.length))
  })
  return out
}
