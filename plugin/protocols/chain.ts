/**
 * Two stream converters in a row (a Gemini stream to OpenAI chunks to
 * Anthropic events). The second one's `committed` speaks for the pair: it is
 * what the client would see. A failure of either is the pair's.
 */
import type { StreamConverter } from './types.js'

export function chain (first: StreamConverter, second: StreamConverter): StreamConverter {
  const join = (a: Buffer | undefined, b: Buffer | undefined): Buffer | undefined =>
    a === undefined ? b : b === undefined ? a : Buffer.concat([a, b])
  return {
    push (chunk) {
      const middle = first.push(chunk)
      return middle === undefined ? undefined : second.push(middle)
    },
    end () {
      const middle = first.end()
      if (first.failure !== undefined) return undefined
      return join(middle === undefined ? undefined : second.push(middle), second.end())
    },
    get committed () { return second.committed },
    get failure () { return first.failure ?? second.failure },
    get usage () { return first.usage ?? second.usage }
  }
}
