/**
 * Where tokens are counted: the answer's body is watched as it passes to the
 * client, and the upstream's own `usage` is read from it by the scanner
 * (usage-scanner.ts), without buffering or delaying a chunk. One counter per
 * answered request; request-accounting.ts reads what it found when the
 * request ends.
 */
import type { BodyEnd, BodyWatcher } from '../proxy/handoff-events.js'
import { UsageScanner, type Usage } from './usage-scanner.js'

export class TokenCounter implements BodyWatcher {
  readonly #scanner = new UsageScanner()
  /** Why the body broke off after it had begun, when it did. */
  bodyError: string | undefined

  onChunk (chunk: Buffer): void {
    this.#scanner.push(chunk)
  }

  onEnd (end: BodyEnd): void {
    this.bodyError = end.error
  }

  /** The tokens the upstream reported, if it did (a stream without `include_usage` does not). */
  get usage (): Usage | undefined {
    return this.#scanner.usage
  }
}
