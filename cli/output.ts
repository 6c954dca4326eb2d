/**
 * Where berry-health writes, and how. Colour and the progress indicator only
 * on a terminal; plain text when piped or with NO_COLOR. Every line passes
 * through `redact`, so a token can never reach the screen or a log file,
 * whatever an error message happens to quote.
 */

/** process.stdout, process.stderr, or a test's collector. */
export interface Sink {
  write (text: string): unknown
  readonly isTTY?: boolean
}

export interface Output {
  /** Results: tables, summary lines, JSON. */
  out (text: string): void
  /** Notes, warnings, errors and the progress indicator. */
  err (text: string): void
  /** Rewrites the current stderr line (progress); a no-op unless interactive. */
  status (text: string): void
  readonly color: boolean
  readonly interactive: boolean
}

export type Env = Readonly<Record<string, string | undefined>>

/** NO_COLOR counts when set to anything but the empty string (no-color.org). */
export function wantsColor (sink: Sink, env: Env): boolean {
  if (sink.isTTY !== true) return false
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false
  return env.TERM !== 'dumb'
}

export function redactor (secrets: readonly (string | undefined)[]): (text: string) => string {
  const present = secrets.filter((s): s is string => s !== undefined && s !== '')
  if (present.length === 0) return (text) => text
  return (text) => present.reduce((acc, secret) => acc.split(secret).join('***'), text)
}

export function createOutput (stdout: Sink, stderr: Sink, env: Env, secrets: readonly (string | undefined)[]): Output {
  const redact = redactor(secrets)
  const interactive = stderr.isTTY === true && env.TERM !== 'dumb'
  let statusShown = false
  // A progress line left on screen would run into the next line of output.
  const clearStatus = (): void => {
    if (!statusShown) return
    stderr.write('\r\x1b[K')
    statusShown = false
  }
  const line = (text: string): string => redact(text.endsWith('\n') ? text : text + '\n')
  return {
    out (text) {
      clearStatus()
      stdout.write(line(text))
    },
    err (text) {
      clearStatus()
      stderr.write(line(text))
    },
    status (text) {
      if (!interactive) return
      stderr.write('\r\x1b[K' + redact(text))
      statusShown = text !== ''
    },
    color: wantsColor(stdout, env),
    interactive
  }
}
