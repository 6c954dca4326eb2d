/** The real clock and id source; tests inject their own (types.ts ProtocolEnv). */
import { randomUUID } from 'node:crypto'
import type { ProtocolEnv } from './types.js'

export const defaultEnv: ProtocolEnv = {
  now: () => Date.now(),
  randomId: () => randomUUID().replaceAll('-', '')
}

/** OpenAI's `created`: whole seconds. */
export function createdAt (env: ProtocolEnv): number {
  return Math.floor(env.now() / 1000)
}
