/**
 * Relays an upstream body to the client chunk by chunk, never buffering.
 *
 * A stream that breaks after its first byte cannot be failed over. For SSE
 * the client is then told in the stream itself: an OpenAI-shaped error event
 * and no `[DONE]`, so a cut stream never looks complete. Other bodies are
 * aborted (the client sees a broken connection, not a short JSON document).
 */
import { PassThrough, type Readable } from 'node:stream'
import { classifyError } from './outcome.js'

export interface RelayObserver {
  /** Each chunk as it passes; must not keep or alter it. */
  onChunk?: (chunk: Buffer) => void
  /** Once, when the relay ends: cleanly, on an upstream error, or by the client leaving. */
  onEnd?: (result: { error: string | undefined, clientGone: boolean }) => void
}

export function isEventStream (contentType: unknown): boolean {
  return typeof contentType === 'string' && contentType.toLowerCase().startsWith('text/event-stream')
}

export function streamErrorEvent (provider: string, reason: string): string {
  const error = {
    error: {
      message: `The stream from backend '${provider}' broke off: ${reason}`,
      type: 'upstream_error',
      code: 'BERRY_ERR_STREAM_INTERRUPTED'
    }
  }
  return `\n\ndata: ${JSON.stringify(error)}\n\n`
}

export function relay (source: Readable, options: { sse: boolean, provider: string, observer?: RelayObserver }): Readable {
  const out = new PassThrough()
  const { observer } = options
  let ended = false
  const finish = (error: string | undefined, clientGone: boolean): void => {
    if (ended) return
    ended = true
    observer?.onEnd?.({ error, clientGone })
  }

  source.on('data', (chunk: Buffer) => {
    observer?.onChunk?.(chunk)
    if (!out.write(chunk)) source.pause()
  })
  out.on('drain', () => source.resume())
  source.once('end', () => {
    finish(undefined, false)
    out.end()
  })
  source.once('error', (err) => {
    const { reason, timeout } = classifyError(err)
    const detail = timeout || (err as { code?: string }).code === 'UND_ERR_BODY_TIMEOUT' ? 'the upstream went silent' : reason
    finish(detail, false)
    if (options.sse) out.end(streamErrorEvent(options.provider, detail))
    else out.destroy(new Error(`upstream body broke off: ${detail}`))
  })
  // The client left (or the reply failed): stop reading, which aborts the
  // upstream request and frees its connection slot.
  out.once('close', () => {
    if (!ended) finish(undefined, true)
    if (!source.destroyed) source.destroy()
  })
  return out
}
