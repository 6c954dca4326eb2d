/** What every command receives: the parsed options, the connection, what to check, where to write. */
import type { Options } from './args.js'
import type { Connection } from './client.js'
import type { Discovery } from './discover.js'
import type { Output } from './output.js'

export interface Context {
  readonly options: Options
  readonly conn: Connection
  readonly discovery: Discovery
  readonly output: Output
}

/** Exit statuses: cron and CI read these. */
export const EXIT_OK = 0
export const EXIT_UNHEALTHY = 1
export const EXIT_USAGE = 2
