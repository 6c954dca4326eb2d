/**
 * The one small interface every provider protocol implements, so the proxy
 * can treat OpenAI, Anthropic and Gemini backends alike (docs/protocols.md
 * has the mapping tables).
 *
 * The client always speaks OpenAI's API to berry's `/v1/*` routes; a protocol
 * turns that request into its provider's, and the provider's answer, stream
 * and errors back into OpenAI's.
 */
import type { OpenAIErrorBody } from '../errors.js'
import type { Usage } from '../accounting/usage-scanner.js'

/**
 * The route a request came in on: OpenAI's (`chat`, `completions`,
 * `embeddings`, `responses`, `moderations`, `images`, `speech`) or
 * Anthropic's (`messages`, `count_tokens`), which clients like Claude Code
 * call at whatever base URL they are given.
 */
export type Api =
  | 'chat'
  | 'completions'
  | 'embeddings'
  | 'responses'
  | 'moderations'
  | 'images'
  | 'speech'
  | 'messages'
  | 'count_tokens'

export interface RequestContext {
  /** The model name sent upstream (the backend's `model`). */
  readonly model: string
  /** Path of the provider's base_url without a trailing slash (`''`, `/v1`, `/v1beta`). */
  readonly basePath: string
  /** Query of the provider's base_url without `?`, or `''`. */
  readonly query: string
  /** `max_tokens` for protocols that require one when the client sent none. */
  readonly defaultMaxTokens: number
}

export interface UpstreamRequest {
  /** Path and query for the upstream (`/v1/messages`, `/v1beta/models/m:generateContent`). */
  readonly path: string
  /** The JSON body to send. */
  readonly body: object
  /** The upstream will answer with an event stream. */
  readonly stream: boolean
}

export interface AnswerContext {
  /** The model name sent upstream, for answers that do not name it. */
  readonly model: string
  /** The client's request, for answers whose shape it chose (embeddings' `encoding_format`). */
  readonly body: Record<string, unknown>
}

export interface StreamOptions {
  /** The model name sent upstream, for streams that do not name it. */
  readonly model: string
  /** The client asked for `stream_options.include_usage`: end with a usage chunk. */
  readonly includeUsage: boolean
}

/** Why a stream failed, from the upstream's own error event or from berry. */
export interface StreamFailure {
  /** The HTTP status the error stands for (Anthropic's `overloaded_error` is 529). */
  readonly status: number
  /** The OpenAI error type (`rate_limit_error`, `api_error`, ...). */
  readonly type: string
  /** The provider's message (never a key: providers do not echo them, and bodies are not copied whole). */
  readonly message: string
}

/**
 * Converts an upstream's stream, fed with raw bytes in whatever pieces they
 * arrive, into the client's protocol, event by event.
 *
 * The contract with the proxy:
 * - Until `committed`, nothing the converter returned has reached the
 *   client: the proxy holds it back, and may drop it and fail over when
 *   `failure` appears.
 * - Once `failure` is set the converter returns nothing more; after commit
 *   the proxy ends the client's stream with its own error event and no
 *   `[DONE]`.
 * - `end()` is called when the upstream's body ended without a transport
 *   error. Check `failure` after it: a stream that stopped before its
 *   protocol's last event is a failure, not a complete answer. Otherwise
 *   what `end()` returns is the rest of the client's stream.
 */
export interface StreamConverter {
  push (chunk: Buffer): Buffer | undefined
  end (): Buffer | undefined
  readonly committed: boolean
  readonly failure: StreamFailure | undefined
  /** Tokens as the upstream reported them, once it did. */
  readonly usage: Usage | undefined
}

/** An upstream error answer in the client's protocol; the status may be corrected. */
export interface ConvertedError {
  readonly status: number
  readonly body: OpenAIErrorBody
}

export interface Protocol {
  /** `openai`, `claude`, `gemini`: the `backend_type` it serves. */
  readonly name: string
  /** Whether this protocol can carry requests of the route `api`. */
  serves (api: Api): boolean
  /**
   * The upstream request for the client's OpenAI body. Throws a BerryError
   * with status 400 (UnsupportedParameter, InvalidBody) for a request that
   * cannot be converted faithfully.
   */
  request (api: Api, body: Record<string, unknown>, ctx: RequestContext): UpstreamRequest
  /** Headers carrying the provider's key; the provider's configured headers apply after these. */
  credentials (apiKey: string): Record<string, string>
  /** The provider's model list (health probes: free, and it proves the key), with the provider's query. */
  modelsPath (basePath: string, query: string): string
  /**
   * Whether answers of `api` are converted (read whole, or stream by
   * stream), or pass through as the upstream sent them (an OpenAI backend's
   * chat, a Claude backend's `messages`).
   */
  convertsAnswer (api: Api): boolean
  /** A whole 2xx JSON answer in the client's shape (OpenAI's, or Anthropic's for `messages`). */
  answer (api: Api, json: unknown, ctx: AnswerContext): object
  /**
   * A converter for the upstream's event stream (for an answer that passes
   * through, one that only watches it: the first token, an error event).
   */
  stream (api: Api, options: StreamOptions): StreamConverter
  /** A non-2xx answer, from its body text, as an OpenAI error (a `messages` route turns it into Anthropic's). */
  error (status: number, bodyText: string): ConvertedError
}

/** Time and identifiers, injected so conversions are repeatable in tests. */
export interface ProtocolEnv {
  /** Milliseconds since the epoch (`created` is its seconds). */
  now (): number
  /** A fresh unique token for ids the upstream did not give. */
  randomId (): string
}

/**
 * A protocol a client speaks to berry instead of OpenAI's (Anthropic's
 * `POST /v1/messages`). Its requests become OpenAI chat requests, which any
 * backend's Protocol then carries; OpenAI answers, streams and errors go
 * back in the client's shape. A stream from a non-OpenAI backend goes
 * through both converters (chain.ts).
 */
export interface ClientProtocol {
  readonly name: string
  /** The client's body as an OpenAI chat completions body (a 400 BerryError when it cannot be). */
  request (body: Record<string, unknown>): Record<string, unknown>
  /** An OpenAI chat completion as the client's answer. */
  answer (json: unknown): object
  /** A converter of an OpenAI chat stream into the client's stream. */
  stream (): StreamConverter
  /** An OpenAI error body (an upstream's, or berry's own) in the client's shape. */
  error (status: number, body: OpenAIErrorBody): object
  /** The event that ends the client's stream after a failure. */
  streamError (failure: Pick<StreamFailure, 'type' | 'message'>): Buffer
}
