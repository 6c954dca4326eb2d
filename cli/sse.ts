/**
 * Reads an OpenAI-style SSE answer to its end: when the first chunk came,
 * what it said, and whether the stream carried an error event (berry ends a
 * stream that broke off with one, and no [DONE]).
 */

export interface StreamSummary {
  /** Data events other than [DONE]. */
  readonly chunks: number
  /** Milliseconds from `startedAt` to the first data event. */
  readonly firstChunkMs: number | null
  /** The first data event as sent. */
  readonly firstData: string | undefined
  /** The first non-empty `delta.content` (or `text`). */
  readonly firstContent: string | undefined
  readonly error: string | undefined
  readonly done: boolean
}

function contentOf (event: unknown): string | undefined {
  const choice = (event as { choices?: Array<{ delta?: { content?: unknown }, text?: unknown }> }).choices?.[0]
  const content = choice?.delta?.content ?? choice?.text
  return typeof content === 'string' && content !== '' ? content : undefined
}

function errorOf (event: unknown): string | undefined {
  const error = (event as { error?: unknown }).error
  if (error === undefined || error === null) return undefined
  const message = (error as { message?: unknown }).message
  return typeof message === 'string' ? message : JSON.stringify(error)
}

export async function readEventStream (body: AsyncIterable<Uint8Array>, startedAt: number): Promise<StreamSummary> {
  const decoder = new TextDecoder()
  let buffer = ''
  let chunks = 0
  let firstChunkMs: number | null = null
  let firstData: string | undefined
  let firstContent: string | undefined
  let error: string | undefined
  let done = false

  const line = (raw: string): void => {
    if (!raw.startsWith('data:')) return
    const data = raw.slice(5).trim()
    if (data === '') return
    if (data === '[DONE]') {
      done = true
      return
    }
    let event: unknown
    try { event = JSON.parse(data) } catch { event = undefined }
    const problem = event === undefined ? undefined : errorOf(event)
    if (problem !== undefined) {
      error ??= problem
      return
    }
    chunks++
    if (firstChunkMs === null) {
      firstChunkMs = performance.now() - startedAt
      firstData = data
    }
    firstContent ??= event === undefined ? undefined : contentOf(event)
  }

  for await (const piece of body) {
    buffer += decoder.decode(piece, { stream: true })
    let newline = buffer.search(/\r?\n/)
    while (newline !== -1) {
      line(buffer.slice(0, newline))
      buffer = buffer.slice(buffer[newline] === '\r' ? newline + 2 : newline + 1)
      newline = buffer.search(/\r?\n/)
    }
  }
  buffer += decoder.decode()
  if (buffer !== '') line(buffer)
  return { chunks, firstChunkMs, firstData, firstContent, error, done }
}
