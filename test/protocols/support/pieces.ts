/** Ways to cut bytes into the pieces a socket might deliver. */
import { seeded } from '../../helpers/random.js'
import type { StreamConverter } from '../../../plugin/protocols/types.js'

export function bytewise (bytes: Buffer): Buffer[] {
  return Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1))
}

/** Cuts at random places (1 to 40 bytes apart), repeatably for a seed. */
export function randomPieces (bytes: Buffer, seed: number): Buffer[] {
  const random = seeded(seed)
  const pieces: Buffer[] = []
  let at = 0
  while (at < bytes.length) {
    const size = 1 + Math.floor(random() * 40)
    pieces.push(bytes.subarray(at, at + size))
    at += size
  }
  return pieces
}

export interface Run {
  /** Everything push and end returned, in order. */
  text: string
  /** What end() returned. */
  tail: string
  /** `committed` after each push. */
  commits: boolean[]
}

/** Feeds a converter the pieces, then ends it. */
export function run (converter: StreamConverter, pieces: Iterable<Buffer>): Run {
  let text = ''
  const commits: boolean[] = []
  for (const piece of pieces) {
    text += converter.push(piece)?.toString() ?? ''
    commits.push(converter.committed)
  }
  const tail = converter.end()?.toString() ?? ''
  return { text: text + tail, tail, commits }
}

/** The JSON of each `data:` event of an OpenAI stream, `[DONE]` as the string. */
export function dataEvents (text: string): unknown[] {
  return text.split('\n\n').filter((block) => block.startsWith('data: ')).map((block) => {
    const data = block.slice(6)
    return data === '[DONE]' ? data : JSON.parse(data)
  })
}

/** The `{event, data}` pairs of an Anthropic stream. */
export function namedEvents (text: string): Array<{ event: string, data: unknown }> {
  return text.split('\n\n').filter((block) => block !== '').map((block) => {
    const [eventLine = '', dataLine = ''] = block.split('\n')
    return { event: eventLine.replace(/^event: /, ''), data: JSON.parse(dataLine.replace(/^data: /, '')) }
  })
}

/** A fixed clock and a counter for ids, so output is the same on every run. */
export function testEnv (now = 1_750_000_000_000) {
  let n = 0
  return { now: () => now, randomId: () => `id${++n}` }
}
