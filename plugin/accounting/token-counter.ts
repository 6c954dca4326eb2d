/**
 * Where tokens are counted: the answer's body is watched as it passes to the
 * client, and the upstream's own `usage` is read from it by the scanner
 * (usage-scanner.ts), without buffering or delaying a chunk. An answer
 * converted from another protocol (Anthropic, Gemini) reports its usage at
 * the end instead: the converter read it from the provider's own fields,
 * whether or not the client asked for a usage chunk. One counter per
 * answered request; request-accounting.ts reads what it found when the
 * request ends.
 */
import type { BodyEnd, BodyWatcher } from '../proxy/handoff-events.js'
import { UsageScanner, type Usage } from './usage-scanner.js'

export class TokenCounter implements BodyWatcher {
  readonly #scanner = new UsageScanner()
  /** What a converted answer reported, which wins over the scan. */
  #reported: Usage | undefined
  /** Why the body broke off after it had begun, when it did. */
  bodyError: string | undefined

  onChunk (chunk: Buffer): void {
    this.#scanner.push(chunk)
  }

  onEnd (end: BodyEnd): void {
    this.bodyError = end.error
    this.#reported = end.usage
  }

  /** The tokens the upstream reported, if it did (an OpenAI stream without `include_usage` does not). */
  get usage (): Usage | undefined {
    return this.#reported ?? this.#scanner.usage
  }
}
