/**
 * An upstream answer read whole, for the answers a protocol converts at once
 * (a JSON completion or an error body from Anthropic or Gemini; streams are
 * converted as they pass, in converting-handler.ts). Bounded: a body larger
 * than the limit is refused rather than held in memory.
 */
import type { Readable } from 'node:stream'
import { UpstreamBadAnswer } from '../errors.js'

/** Largest answer read whole: a long completion with tool calls is well under this. */
export const MAX_WHOLE_BODY_BYTES = 32 * 1024 * 1024

export async function readWholeBody (stream: Readable, limit = MAX_WHOLE_BODY_BYTES): Promise<string> {
  const chunks: Buffer[] = []
  let length = 0
  for await (const chunk of stream) {
    const piece = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk))
    length += piece.length
    if (length > limit) {
      stream.destroy()
      throw UpstreamBadAnswer(`it is larger than ${limit} bytes`)
    }
    chunks.push(piece)
  }
  return Buffer.concat(chunks, length).toString('utf8')
}
