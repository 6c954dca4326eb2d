/**
 * OpenAI's `/v1/embeddings` on Gemini's `:batchEmbedContents`: one request
 * per input string, the answer as OpenAI's embeddings list. Token arrays
 * have no Gemini equivalent. `encoding_format: "base64"` (what the official
 * openai SDK asks for by default) is the float32 little-endian bytes of each
 * vector, as OpenAI sends it.
 */
import type { CreateEmbeddingResponse, Embedding } from 'openai/resources/embeddings'
import { InvalidBody, UnsupportedParameter, UpstreamBadAnswer } from '../../errors.js'
import { isRecord, readArray, readInteger } from '../json.js'
import { isBatchEmbedResponse, type GeminiEmbedRequest } from './types.js'

const PROTOCOL = 'Gemini'
/** OpenAI's embeddings parameters; anything else is a 400. */
const KNOWN = new Set(['input', 'model', 'encoding_format', 'dimensions', 'user'])

export type EmbeddingsAnswer = Omit<CreateEmbeddingResponse, 'data'> & {
  data: Array<Omit<Embedding, 'embedding'> & { embedding: number[] | string }>
}

function inputs (value: unknown): string[] {
  if (typeof value === 'string') return [value]
  const items = readArray(value, 'input')
  if (items.length === 0) throw InvalidBody("'input' must hold at least one string")
  return items.map((item, i) => {
    if (typeof item !== 'string') throw UnsupportedParameter(`input[${i}]`, PROTOCOL, 'Gemini embeds text, not token arrays')
    return item
  })
}

/** Gemini names models `models/...` (or `tunedModels/...`) in paths and bodies. */
export function geminiModelName (model: string): string {
  return model.startsWith('models/') || model.startsWith('tunedModels/') ? model : `models/${model}`
}

export function toGeminiEmbedRequest (body: Record<string, unknown>, model: string): { requests: GeminiEmbedRequest[] } {
  for (const key of Object.keys(body)) {
    if (!KNOWN.has(key) && body[key] !== undefined && body[key] !== null) throw UnsupportedParameter(key, PROTOCOL, 'it is not an OpenAI embeddings parameter berry knows how to convert')
  }
  const format = body.encoding_format
  if (format !== undefined && format !== null && format !== 'float' && format !== 'base64') throw InvalidBody("'encoding_format' must be 'float' or 'base64'")
  const dimensions = body.dimensions === undefined || body.dimensions === null ? undefined : readInteger(body.dimensions, 'dimensions', 1)
  const name = geminiModelName(model)
  return {
    requests: inputs(body.input).map((text) => ({
      model: name,
      content: { parts: [{ text }] },
      ...(dimensions === undefined ? {} : { outputDimensionality: dimensions })
    }))
  }
}

function base64 (values: number[]): string {
  const floats = Float32Array.from(values)
  return Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength).toString('base64')
}

/** Gemini reports no token counts for embeddings: usage is zero. */
export function fromGeminiEmbeddings (json: unknown, model: string, body: Record<string, unknown>): EmbeddingsAnswer {
  if (!isRecord(json) || !isBatchEmbedResponse(json)) throw UpstreamBadAnswer('not a Gemini batchEmbedContents answer')
  const answer = json
  const asBase64 = body.encoding_format === 'base64'
  return {
    object: 'list',
    data: (answer.embeddings ?? []).map((embedding, index) => {
      const values = embedding.values ?? []
      return { object: 'embedding', index, embedding: asBase64 ? base64(values) : values }
    }),
    model,
    usage: { prompt_tokens: 0, total_tokens: 0 }
  }
}
