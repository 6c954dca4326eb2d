/**
 * Google's Gemini API (`backend_type = "gemini"`, base_url
 * `https://generativelanguage.googleapis.com/v1beta`) behind OpenAI's chat
 * completions and embeddings.
 */
import { InvalidBody } from '../../errors.js'
import { createdAt, defaultEnv } from '../env.js'
import { assertServes, withQuery } from '../paths.js'
import type { Protocol, ProtocolEnv } from '../types.js'
import { fromGeminiResponse } from './answer.js'
import { fromGeminiEmbeddings, geminiModelName, toGeminiEmbedRequest } from './embeddings.js'
import { geminiError } from './errors.js'
import { toGeminiRequest } from './request.js'
import { GeminiChatStream } from './stream.js'

/** `{base}/models/{model}:{method}`, the provider's query after Gemini's own. */
export function methodPath (basePath: string, model: string, method: string, query: string, sse = false): string {
  const name = geminiModelName(model).split('/').map(encodeURIComponent).join('/')
  const queries = [sse ? 'alt=sse' : '', query].filter((q) => q !== '').join('&')
  return withQuery(`${basePath}/${name}:${method}`, queries)
}

export function createGeminiProtocol (env: ProtocolEnv = defaultEnv): Protocol {
  const protocol: Protocol = {
    name: 'gemini',
    serves: (api) => api === 'chat' || api === 'embeddings',
    convertsAnswer: () => true,
    request (api, body, ctx) {
      assertServes(protocol, api, 'Gemini')
      if (api === 'embeddings') {
        return { path: methodPath(ctx.basePath, ctx.model, 'batchEmbedContents', ctx.query), body: toGeminiEmbedRequest(body, ctx.model), stream: false }
      }
      const stream = body.stream === true
      if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean') throw InvalidBody("'stream' must be a boolean")
      const request = toGeminiRequest(body)
      return { path: methodPath(ctx.basePath, ctx.model, stream ? 'streamGenerateContent' : 'generateContent', ctx.query, stream), body: request, stream }
    },
    // A header, never `?key=`: URLs end up in logs.
    credentials: (apiKey) => ({ 'x-goog-api-key': apiKey }),
    modelsPath: (basePath, query) => withQuery(`${basePath}/models`, query),
    answer (api, json, ctx) {
      if (api === 'embeddings') return fromGeminiEmbeddings(json, ctx.model, ctx.body)
      return fromGeminiResponse(json, ctx.model, createdAt(env), env.randomId())
    },
    stream: (_api, options) => new GeminiChatStream(options, env),
    error: geminiError
  }
  return protocol
}
