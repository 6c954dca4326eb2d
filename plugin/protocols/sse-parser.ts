/**
 * The one server-sent-events parser every protocol shares: bytes in, events
 * out, as the WHATWG event-stream rules say.
 *
 * Bytes may be split anywhere (inside a CRLF, a multibyte character, the
 * `data:` prefix): a line is decoded only once all its bytes are there. Lines
 * end with `\n`, `\r\n` or `\r`; `:` comments, `id` and `retry` are ignored;
 * several `data:` lines join with `\n`. Only the event in progress is held,
 * and it is bounded: a larger one throws UpstreamEventTooLarge instead of
 * growing without end. Line ends are found with Buffer#indexOf, never a
 * regular expression over the buffer.
 */
import { UpstreamEventTooLarge } from '../errors.js'

export interface SseEvent {
  /** The `event:` field, when the event had one. */
  readonly event: string | undefined
  readonly data: string
}

/** Larger than any event a provider sends (a whole tool call's arguments fit). */
export const DEFAULT_MAX_EVENT_BYTES = 1024 * 1024

const LF = 0x0a
const CR = 0x0d

export class SseParser {
  readonly #onEvent: (event: SseEvent) => void
  readonly #maxBytes: number
  /** Bytes of the line in progress when it began in an earlier chunk. */
  #pieces: Buffer[] = []
  #pieceBytes = 0
  /** Bytes of the complete lines of the event in progress. */
  #eventBytes = 0
  #data: string[] = []
  #eventType: string | undefined
  /** The last chunk ended with CR: an LF first in the next one belongs to it. */
  #skipLF = false
  #firstLine = true

  constructor (onEvent: (event: SseEvent) => void, options: { maxEventBytes?: number } = {}) {
    this.#onEvent = onEvent
    this.#maxBytes = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES
  }

  push (chunk: Buffer): void {
    const length = chunk.length
    if (length === 0) return
    let start = 0
    if (this.#skipLF) {
      this.#skipLF = false
      if (chunk[0] === LF) start = 1
    }
    // -2: not searched yet; -1: none in the rest of this chunk.
    let cr = -2
    while (start < length) {
      const lf = chunk.indexOf(LF, start)
      if (cr !== -1 && cr < start) cr = chunk.indexOf(CR, start)
      if (lf === -1 && cr === -1) {
        this.#keep(chunk, start)
        return
      }
      if (cr === -1 || (lf !== -1 && lf < cr)) {
        this.#line(chunk, start, lf)
        start = lf + 1
      } else {
        this.#line(chunk, start, cr)
        if (cr + 1 === length) this.#skipLF = true
        start = chunk[cr + 1] === LF ? cr + 2 : cr + 1
      }
    }
  }

  /** The stream ended: an event without its closing blank line is dropped, as the rules say. */
  end (): void {
    this.#pieces = []
    this.#pieceBytes = 0
    this.#reset()
  }

  #keep (chunk: Buffer, from: number): void {
    this.#pieceBytes += chunk.length - from
    this.#check(this.#pieceBytes)
    // A copy: the caller's chunk is not ours to keep alive.
    this.#pieces.push(Buffer.from(chunk.subarray(from)))
  }

  #check (lineBytes: number): void {
    if (this.#eventBytes + lineBytes > this.#maxBytes) throw UpstreamEventTooLarge(this.#maxBytes)
  }

  #line (chunk: Buffer, start: number, end: number): void {
    let line: string
    if (this.#pieces.length === 0) {
      this.#check(end - start)
      this.#eventBytes += end - start
      line = chunk.toString('utf8', start, end)
    } else {
      const bytes = this.#pieceBytes + end - start
      this.#check(bytes)
      this.#eventBytes += bytes
      this.#pieces.push(chunk.subarray(start, end))
      line = Buffer.concat(this.#pieces, bytes).toString('utf8')
      this.#pieces = []
      this.#pieceBytes = 0
    }
    if (this.#firstLine) {
      this.#firstLine = false
      if (line.charCodeAt(0) === 0xfeff) line = line.slice(1)
    }
    this.#field(line)
  }

  #field (line: string): void {
    if (line === '') {
      this.#dispatch()
      return
    }
    if (line.charCodeAt(0) === 0x3a) return
    const colon = line.indexOf(':')
    const name = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value.charCodeAt(0) === 0x20) value = value.slice(1)
    if (name === 'data') this.#data.push(value)
    else if (name === 'event') this.#eventType = value === '' ? undefined : value
  }

  #dispatch (): void {
    const data = this.#data
    const event = this.#eventType
    this.#reset()
    if (data.length === 0) return
    this.#onEvent({ event, data: data.join('\n') })
  }

  #reset (): void {
    this.#data = []
    this.#eventType = undefined
    this.#eventBytes = 0
  }
}
