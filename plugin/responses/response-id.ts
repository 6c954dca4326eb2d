/**
 * The id of a Responses API answer, read as it passes: the first `"id"` of
 * the body is the response's, whether the answer is one JSON object
 * (`{"id": "resp_...", "object": "response", ...}`) or a stream (its first
 * event, `response.created`, carries `"response": {"id": ...}`). Only the
 * first few kilobytes are looked at; nothing is buffered beyond them.
 */
import type { BodyEnd, BodyWatcher } from '../proxy/handoff-events.js'

/** The first event or object holds the id well before this. */
const LOOK_BYTES = 8192
const ID = /"id"\s*:\s*"([A-Za-z0-9_.:-]{1,256})"/

export class ResponseIdWatcher implements BodyWatcher {
  #head = ''
  #id: string | undefined
  #done = false
  readonly #found: (id: string) => void

  /** `found` runs once the body ended, with the id if one was seen. */
  constructor (found: (id: string) => void) {
    this.#found = found
  }

  onChunk (chunk: Buffer): void {
    if (this.#done) return
    this.#head += chunk.toString('utf8', 0, Math.min(chunk.length, LOOK_BYTES - this.#head.length))
    const match = ID.exec(this.#head)
    if (match !== null) this.#id = match[1]
    if (match !== null || this.#head.length >= LOOK_BYTES) {
      this.#done = true
      this.#head = ''
    }
  }

  /** A stream that broke off still created the response upstream: it is remembered all the same. */
  onEnd (_end: BodyEnd): void {
    if (this.#id !== undefined) this.#found(this.#id)
  }
}
