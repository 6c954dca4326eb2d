/**
 * What berry does with the body of the answer it relays. The body goes from
 * undici to the client untouched and unbuffered (reply-from pipes undici's
 * body stream into the response); the tap only watches it pass, in the
 * dispatcher (dispatcher.ts), so relaying costs no stream of berry's own.
 *
 * A body that breaks after its first byte cannot be failed over. For SSE
 * the client is then told in the stream itself: an OpenAI-shaped error event
 * and no `[DONE]`, so a cut stream never looks complete. Other bodies break
 * (the client sees a broken connection, not a short JSON document).
 */
import { errorCode } from '../json.js'
import type { BodyTap } from './dispatcher.js'
import type { BodyWatcher } from './handoff-events.js'
import { classifyError } from './outcome.js'
import { streamFailureOf } from './stream-failure.js'

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

/** Why a body broke off, in the words the client and the log get. */
function breakReason (error: Error): string {
  const failure = streamFailureOf(error)
  if (failure !== undefined) return `the upstream sent an error (${failure.status}): ${failure.message}`
  const { reason, timeout } = classifyError(error)
  return timeout || errorCode(error) === 'UND_ERR_BODY_TIMEOUT' ? 'the upstream went silent' : reason
}

export function tapBody (options: { sse: boolean, provider: string, watcher: BodyWatcher | undefined }): BodyTap {
  const { sse, provider, watcher } = options
  let ended = false
  return {
    onChunk (chunk) {
      watcher?.onChunk(chunk)
    },
    onEnd (error, usage) {
      if (ended) return undefined
      ended = true
      const detail = error === undefined ? undefined : breakReason(error)
      watcher?.onEnd({ error: detail, usage })
      return sse && detail !== undefined ? Buffer.from(streamErrorEvent(provider, detail)) : undefined
    }
  }
}
