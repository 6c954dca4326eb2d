/**
 * What berry does with the body of the answer it relays. The body goes from
 * undici to the client untouched and unbuffered (reply-from pipes undici's
 * body stream into the response); the tap only watches it pass, in the
 * dispatcher (dispatcher.ts), so relaying costs no stream of berry's own.
 *
 * A body that breaks after its first byte cannot be failed over. For SSE
 * the client is then told in the stream itself, in its own API's words: an
 * OpenAI-shaped error event and no `[DONE]`, or Anthropic's `error` event
 * for a client of `/v1/messages`, so a cut stream never looks complete.
 * Other bodies break (the client sees a broken connection, not a short JSON
 * document).
 */
import { errorCode } from '../json.js'
import { anthropicClient } from '../protocols/claude/client.js'
import type { BodyTap } from './attempt-control.js'
import type { BodyWatcher } from './handoff-events.js'
import { classifyError } from './outcome.js'
import { streamFailureOf } from './stream-failure.js'

export function isEventStream (contentType: unknown): boolean {
  return typeof contentType === 'string' && contentType.toLowerCase().startsWith('text/event-stream')
}

/** The API the client speaks: how a broken stream is told to it. */
export type Dialect = 'openai' | 'anthropic'

const interrupted = (provider: string, reason: string): string => `The stream from backend '${provider}' broke off: ${reason}`

export function streamErrorEvent (provider: string, reason: string): string {
  const error = {
    error: {
      message: interrupted(provider, reason),
      type: 'upstream_error',
      code: 'BERRY_ERR_STREAM_INTERRUPTED'
    }
  }
  return `\n\ndata: ${JSON.stringify(error)}\n\n`
}

function lastEvent (dialect: Dialect, provider: string, reason: string): Buffer {
  if (dialect === 'anthropic') return anthropicClient.streamError({ type: 'upstream_error', message: interrupted(provider, reason) })
  return Buffer.from(streamErrorEvent(provider, reason))
}

/** Why a body broke off, in the words the client and the log get. */
function breakReason (error: Error): string {
  const failure = streamFailureOf(error)
  if (failure !== undefined) return `the upstream sent an error (${failure.status}): ${failure.message}`
  const { reason, timeout } = classifyError(error)
  return timeout || errorCode(error) === 'UND_ERR_BODY_TIMEOUT' ? 'the upstream went silent' : reason
}

export function tapBody (options: { sse: boolean, provider: string, watcher: BodyWatcher | undefined, dialect?: Dialect }): BodyTap {
  const { sse, provider, watcher, dialect = 'openai' } = options
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
      return sse && detail !== undefined ? lastEvent(dialect, provider, detail) : undefined
    }
  }
}
