#!/usr/bin/env node
/**
 * The `berry-health` bin: process wiring only (argv, env, stdio, Ctrl-C,
 * exit status); the tool itself is `run`.
 */
import { run } from './run.js'

const controller = new AbortController()
const stop = (): void => {
  // A second Ctrl-C does not wait for the clean stop.
  if (controller.signal.aborted) process.exit(130)
  controller.abort()
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
// `berry-health check | head -1` closes the pipe early; that is no error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0)
  throw err
})

process.exitCode = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  signal: controller.signal
})
process.off('SIGINT', stop)
process.off('SIGTERM', stop)
