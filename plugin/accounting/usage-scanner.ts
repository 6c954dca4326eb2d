import { isRecord } from '../json.js'

/**
 * Pulls the token `usage` out of an upstream body as it passes, without
 * buffering the body: a JSON completion (`{..., "usage": {...}}`) or an SSE
 * stream whose last chunk carries `usage` (the client asked for
 * `stream_options.include_usage`). Both are the same search: the last
 * `"usage": {` object in the bytes wins; `"usage": null` (OpenAI sends it on
 * every other chunk) is skipped.
 *
 * Works on bytes, never decoding a chunk: the search is Buffer#indexOf, and
 * only the usage object itself (bounded by MAX_OBJECT_BYTES) is copied.
 * Key, colon, brace and object may each be split across chunks anywhere.
 */

export interface Usage {
  readonly promptTokens: number
  readonly completionTokens: number
  readonly totalTokens: number
}

const KEY = Buffer.from('"usage"')
/** A usage object with every detail field is a few hundred bytes. */
export const MAX_OBJECT_BYTES = 4096
/** Small enough for Node's shared pool: no allocation of its own per request. */
const FIRST_OBJECT_BYTES = 512
const EMPTY = Buffer.alloc(0)

const SPACE = 0x20
const TAB = 0x09
const LF = 0x0a
const CR = 0x0d
const COLON = 0x3a
const OPEN = 0x7b
const CLOSE = 0x7d
const QUOTE = 0x22
const BACKSLASH = 0x5c

const enum Phase { Search, Colon, Brace, Object }

function isSpace (byte: number): boolean {
  return byte === SPACE || byte === TAB || byte === LF || byte === CR
}

/** `bytes` from `at` hold KEY's bytes from `keyFrom`, `length` of them. */
function keyAt (bytes: Buffer, at: number, keyFrom: number, length: number): boolean {
  for (let i = 0; i < length; i++) {
    if (bytes[at + i] !== KEY[keyFrom + i]) return false
  }
  return true
}

function count (value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined
}

/**
 * The counts a usage object gives, as far as it gives them: OpenAI's names,
 * else `input_tokens`/`output_tokens` (the Responses API, Anthropic, some
 * compatible servers). Anthropic counts prompt-cache reads and writes apart
 * from `input_tokens`: they are prompt tokens too.
 */
function usageParts (object: unknown): { prompt: number | undefined, completion: number | undefined, total: number | undefined } | undefined {
  if (!isRecord(object)) return undefined
  let prompt = count(object.prompt_tokens) ?? count(object.input_tokens)
  const cached = (count(object.cache_read_input_tokens) ?? 0) + (count(object.cache_creation_input_tokens) ?? 0)
  if (prompt !== undefined && object.prompt_tokens === undefined) prompt += cached
  return { prompt, completion: count(object.completion_tokens) ?? count(object.output_tokens), total: count(object.total_tokens) }
}

/** A whole usage object; undefined when it counts no prompt tokens. */
export function toUsage (object: unknown): Usage | undefined {
  return merged(undefined, usageParts(object))
}

/**
 * `later` over `earlier`: a stream may report its counts in pieces
 * (Anthropic's `message_start` has the input, its `message_delta` the
 * output), and the later figure of each count wins.
 */
function merged (earlier: Usage | undefined, later: ReturnType<typeof usageParts>): Usage | undefined {
  if (later === undefined) return earlier
  const prompt = later.prompt ?? earlier?.promptTokens
  if (prompt === undefined) return earlier
  const completion = later.completion ?? earlier?.completionTokens ?? 0
  const total = later.prompt !== undefined && later.completion !== undefined && later.total !== undefined ? later.total : prompt + completion
  return { promptTokens: prompt, completionTokens: completion, totalTokens: total }
}

export class UsageScanner {
  #phase = Phase.Search
  /** The last KEY.length - 1 bytes seen while searching, for a key split across chunks. */
  readonly #tail = Buffer.allocUnsafe(KEY.length - 1)
  #tailLength = 0
  /** Empty until a first object is collected: most scanners never see one. */
  #object: Buffer = EMPTY
  #objectLength = 0
  #depth = 0
  #inString = false
  #escaped = false
  #usage: Usage | undefined

  /** The last usage object found so far. */
  get usage (): Usage | undefined {
    return this.#usage
  }

  push (chunk: Buffer): void {
    let i = 0
    while (i < chunk.length) {
      switch (this.#phase) {
        case Phase.Search: i = this.#search(chunk, i); break
        case Phase.Colon: i = this.#expect(chunk, i, COLON, Phase.Brace); break
        case Phase.Brace: i = this.#brace(chunk, i); break
        case Phase.Object: i = this.#collect(chunk, i); break
      }
    }
  }

  /** Finds the next key; returns where to go on (chunk.length when none). */
  #search (chunk: Buffer, from: number): number {
    if (from === 0 && this.#tailLength > 0) {
      const after = this.#keyAcrossBoundary(chunk)
      if (after >= 0) {
        this.#tailLength = 0
        this.#phase = Phase.Colon
        return after
      }
    }
    const at = chunk.indexOf(KEY, from)
    if (at >= 0) {
      this.#tailLength = 0
      this.#phase = Phase.Colon
      return at + KEY.length
    }
    this.#keepTail(chunk, from)
    return chunk.length
  }

  /**
   * Where the key ends in `chunk` when it began in the previous one, else -1.
   * Runs on every chunk of a stream, so it compares bytes in JS and rejects
   * on the opening quote first: a native Buffer#compare per candidate split
   * cost more than the rest of the scan (profiled).
   */
  #keyAcrossBoundary (chunk: Buffer): number {
    const tail = this.#tail
    for (let k = Math.min(this.#tailLength, KEY.length - 1); k > 0; k--) {
      const rest = KEY.length - k
      const start = this.#tailLength - k
      if (tail[start] !== QUOTE || chunk.length < rest) continue
      if (keyAt(tail, start, 0, k) && keyAt(chunk, 0, k, rest)) return rest
    }
    return -1
  }

  #keepTail (chunk: Buffer, from: number): void {
    const size = this.#tail.length
    const available = chunk.length - from
    if (available >= size) {
      chunk.copy(this.#tail, 0, chunk.length - size)
      this.#tailLength = size
      return
    }
    // A very short chunk: keep what was there plus what came.
    const keep = Math.min(this.#tailLength, size - available)
    this.#tail.copy(this.#tail, 0, this.#tailLength - keep, this.#tailLength)
    chunk.copy(this.#tail, keep, from)
    this.#tailLength = keep + available
  }

  #expect (chunk: Buffer, from: number, wanted: number, next: Phase): number {
    let i = from
    while (i < chunk.length && isSpace(chunk[i]!)) i++
    if (i === chunk.length) return i
    if (chunk[i] === wanted) {
      this.#phase = next
      return i + 1
    }
    // `"usage"` was a value, not a key, or the key of something else.
    this.#phase = Phase.Search
    return i
  }

  #brace (chunk: Buffer, from: number): number {
    let i = from
    while (i < chunk.length && isSpace(chunk[i]!)) i++
    if (i === chunk.length) return i
    if (chunk[i] !== OPEN) {
      this.#phase = Phase.Search
      return i
    }
    if (this.#object.length === 0) this.#object = Buffer.allocUnsafe(FIRST_OBJECT_BYTES)
    this.#objectLength = 0
    this.#depth = 0
    this.#inString = false
    this.#escaped = false
    this.#phase = Phase.Object
    return i
  }

  #collect (chunk: Buffer, from: number): number {
    let object = this.#object
    let i = from
    for (; i < chunk.length; i++) {
      const byte = chunk[i]!
      if (this.#objectLength === object.length) {
        if (object.length === MAX_OBJECT_BYTES) {
          // Not a usage object after all (or an absurd one): give it up.
          this.#phase = Phase.Search
          return i
        }
        const larger = Buffer.allocUnsafe(Math.min(object.length * 2, MAX_OBJECT_BYTES))
        object.copy(larger, 0, 0, this.#objectLength)
        object = this.#object = larger
      }
      object[this.#objectLength++] = byte
      if (this.#inString) {
        if (this.#escaped) this.#escaped = false
        else if (byte === BACKSLASH) this.#escaped = true
        else if (byte === QUOTE) this.#inString = false
      } else if (byte === QUOTE) {
        this.#inString = true
      } else if (byte === OPEN) {
        this.#depth++
      } else if (byte === CLOSE && --this.#depth === 0) {
        this.#finish(object.toString('utf8', 0, this.#objectLength))
        this.#phase = Phase.Search
        return i + 1
      }
    }
    return i
  }

  #finish (text: string): void {
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      return
    }
    this.#usage = merged(this.#usage, usageParts(parsed))
  }
}

/** The usage in a whole body, for tests and small bodies. */
export function scanUsage (chunks: Iterable<Buffer>): Usage | undefined {
  const scanner = new UsageScanner()
  for (const chunk of chunks) scanner.push(chunk)
  return scanner.usage
}
