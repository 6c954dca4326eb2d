/**
 * An OpenAI chat completions request as a Gemini generateContent request.
 * Every OpenAI parameter has its row in PARAMETERS; docs/protocols.md is the
 * same table in words.
 */
import type { Content, FunctionDeclaration, Part } from '@google/genai'
import type {
  ChatCompletionContentPart,
  ChatCompletionContentPartText,
  ChatCompletionTool,
  ChatCompletionToolChoiceOption
} from 'openai/resources/chat/completions'
import { InvalidBody, UnsupportedParameter } from '../../errors.js'
import { isHttpUrl, parseDataUrl } from '../data-url.js'
import { isRecord, parseJson, readBoolean, readInteger, readNumber, readRecord, readStrings } from '../json.js'
import { readMessages, readToolChoice, readTools, unknownPart, type AssistantMessage, type ChatMessage, type ToolCall } from '../openai-request.js'
import { applyParameters, drop, isEmptyObject, isFalse, isOne, isTextOnly, isZero, reject, type ParameterTable } from '../parameters.js'
import type { GeminiGenerationConfig, GeminiRequest, GeminiToolConfig } from './types.js'

const PROTOCOL = 'Gemini'

/**
 * Gemini 3 wants the first function call of each model turn signed with the
 * thought signature it gave. Most OpenAI clients drop the signature (it
 * rides in `extra_content`), and histories from other models never had one:
 * Google documents this value for such calls.
 */
export const SKIP_SIGNATURE = 'skip_thought_signature_validator'

/** Image types by file extension, for http(s) image URLs Gemini must be told the type of. */
const IMAGE_EXTENSIONS: Readonly<Record<string, string>> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  heic: 'image/heic',
  heif: 'image/heif'
}

function imageTypeOf (url: string): string | undefined {
  const path = new URL(url).pathname
  const dot = path.lastIndexOf('.')
  return dot === -1 ? undefined : IMAGE_EXTENSIONS[path.slice(dot + 1).toLowerCase()]
}

function textParts (content: string | ChatCompletionContentPartText[]): Part[] {
  const texts = typeof content === 'string' ? [content] : content.map((part) => part.text)
  return texts.filter((text) => text !== '').map((text) => ({ text }))
}

function imagePart (url: string, path: string): Part {
  const data = parseDataUrl(url)
  if (data !== undefined) return { inlineData: { mimeType: data.mediaType, data: data.data } }
  if (!isHttpUrl(url)) throw InvalidBody(`'${path}.image_url.url' must be an http(s) URL or a base64 data: URL`)
  const mimeType = imageTypeOf(url)
  if (mimeType === undefined) throw UnsupportedParameter(path, PROTOCOL, 'Gemini must be told an image URL\'s type, and this URL does not end in .png, .jpg, .jpeg, .webp, .gif, .heic or .heif: send the image as a data: URL')
  return { fileData: { fileUri: url, mimeType } }
}

function userParts (content: string | ChatCompletionContentPart[], path: string): Part[] {
  if (typeof content === 'string') return textParts(content)
  return content.flatMap((part, j): Part[] => {
    const partPath = `${path}.content[${j}]`
    switch (part.type) {
      case 'text': return textParts([part])
      case 'image_url': return [imagePart(part.image_url.url, partPath)]
      case 'input_audio': return [{ inlineData: { mimeType: part.input_audio.format === 'wav' ? 'audio/wav' : 'audio/mp3', data: part.input_audio.data } }]
      case 'file': {
        if (part.file.file_data === undefined) throw UnsupportedParameter(partPath, PROTOCOL, 'an OpenAI file id means nothing to Gemini; send the file as file_data')
        const data = parseDataUrl(part.file.file_data)
        if (data === undefined) throw InvalidBody(`'${partPath}.file.file_data' must be a base64 data: URL`)
        return [{ inlineData: { mimeType: data.mediaType, data: data.data } }]
      }
      default: return unknownPart(part, partPath)
    }
  })
}

function callArguments (call: ToolCall, path: string): Record<string, unknown> {
  if (call.type !== 'function') throw UnsupportedParameter(path, PROTOCOL, 'custom tool calls have no equivalent')
  if (call.function.arguments.trim() === '') return {}
  const args = parseJson(call.function.arguments)
  if (!isRecord(args)) throw InvalidBody(`'${path}.function.arguments' must be a JSON object`)
  return args
}

function modelParts (message: AssistantMessage, path: string, names: Map<string, string>): Part[] {
  const parts: Part[] = []
  const content = message.content
  if (typeof content === 'string') parts.push(...textParts(content))
  else if (Array.isArray(content)) for (const part of content) parts.push(...textParts(part.type === 'text' ? part.text : part.refusal))
  for (const [j, call] of (message.tool_calls ?? []).entries()) {
    const args = callArguments(call, `${path}.tool_calls[${j}]`)
    if (call.type !== 'function') continue
    names.set(call.id, call.function.name)
    const signature = call.extra_content?.google?.thought_signature ?? (j === 0 ? SKIP_SIGNATURE : undefined)
    parts.push({ functionCall: { name: call.function.name, args }, ...(signature === undefined ? {} : { thoughtSignature: signature }) })
  }
  return parts
}

/**
 * Gemini takes one system instruction before the conversation: system and
 * developer messages anywhere are gathered there, in order.
 */
export function toGeminiContents (messages: ChatMessage[]): { system: Part[], contents: Content[] } {
  const system: Part[] = []
  const contents: Content[] = []
  // Tool results name their function; Gemini's calls have no ids, so the
  // name comes from the earlier call the result answers.
  const names = new Map<string, string>()
  const add = (role: 'user' | 'model', parts: Part[]): void => {
    const last = contents.at(-1)
    if (last !== undefined && last.role === role) last.parts?.push(...parts)
    else contents.push({ role, parts })
  }
  for (const [i, message] of messages.entries()) {
    const path = `messages[${i}]`
    switch (message.role) {
      case 'system':
      case 'developer':
        system.push(...textParts(message.content))
        break
      case 'user':
        add('user', userParts(message.content, path))
        break
      case 'assistant':
        add('model', modelParts(message, path, names))
        break
      case 'tool': {
        const name = names.get(message.tool_call_id)
        if (name === undefined) throw InvalidBody(`'${path}.tool_call_id' names no tool call of an earlier assistant message`)
        const output = typeof message.content === 'string' ? message.content : message.content.map((part) => part.text).join('')
        add('user', [{ functionResponse: { name, response: { output } } }])
        break
      }
      case 'function':
        throw InvalidBody(`'${path}' has role 'function', the retired functions API: send 'tool' messages`)
    }
  }
  return { system, contents }
}

function toDeclaration (tool: ChatCompletionTool, i: number): FunctionDeclaration {
  if (tool.type !== 'function') throw UnsupportedParameter(`tools[${i}]`, PROTOCOL, 'custom tools have no equivalent')
  const { name, description, parameters } = tool.function
  return {
    name,
    ...(description === undefined ? {} : { description }),
    ...(parameters === undefined ? {} : { parametersJsonSchema: parameters })
  }
}

function allowedNames (tools: Array<{ [key: string]: unknown }>): string[] {
  return tools.map((tool, i) => {
    const fn = isRecord(tool.function) ? tool.function.name : undefined
    if (tool.type !== 'function' || typeof fn !== 'string') throw UnsupportedParameter(`tool_choice.allowed_tools.tools[${i}]`, PROTOCOL, 'only function tools can be allowed')
    return fn
  })
}

export function toGeminiToolConfig (choice: ChatCompletionToolChoiceOption): GeminiToolConfig {
  if (choice === 'none') return { functionCallingConfig: { mode: 'NONE' } }
  if (choice === 'auto') return { functionCallingConfig: { mode: 'AUTO' } }
  if (choice === 'required') return { functionCallingConfig: { mode: 'ANY' } }
  switch (choice.type) {
    case 'function':
      return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [choice.function.name] } }
    case 'allowed_tools':
      return { functionCallingConfig: { mode: choice.allowed_tools.mode === 'required' ? 'ANY' : 'AUTO', allowedFunctionNames: allowedNames(choice.allowed_tools.tools) } }
    case 'custom':
      throw UnsupportedParameter('tool_choice', PROTOCOL, 'custom tools have no equivalent')
  }
}

function config (target: GeminiRequest): GeminiGenerationConfig {
  target.generationConfig ??= {}
  return target.generationConfig
}

const LEVELS = { minimal: 'MINIMAL', low: 'LOW', medium: 'MEDIUM', high: 'HIGH' } as const

export const PARAMETERS: ParameterTable<GeminiRequest> = {
  messages: {
    kind: 'map',
    apply: (value, target) => {
      const { system, contents } = toGeminiContents(readMessages(value))
      if (system.length > 0) target.systemInstruction = { parts: system }
      target.contents = contents
    }
  },
  // The backend's model is in the path.
  model: { kind: 'map', apply: () => {} },
  // Chooses the path (streamGenerateContent), nothing in the body.
  stream: { kind: 'map', apply: (value) => { readBoolean(value, 'stream') } },
  max_completion_tokens: { kind: 'map', apply: (value, target) => { config(target).maxOutputTokens = readInteger(value, 'max_completion_tokens', 1) } },
  max_tokens: {
    kind: 'map',
    apply: (value, target, body) => {
      const tokens = readInteger(value, 'max_tokens', 1)
      if (body.max_completion_tokens === undefined || body.max_completion_tokens === null) config(target).maxOutputTokens = tokens
    }
  },
  temperature: { kind: 'map', apply: (value, target) => { config(target).temperature = readNumber(value, 'temperature') } },
  top_p: { kind: 'map', apply: (value, target) => { config(target).topP = readNumber(value, 'top_p') } },
  presence_penalty: { kind: 'map', apply: (value, target) => { config(target).presencePenalty = readNumber(value, 'presence_penalty') } },
  frequency_penalty: { kind: 'map', apply: (value, target) => { config(target).frequencyPenalty = readNumber(value, 'frequency_penalty') } },
  seed: { kind: 'map', apply: (value, target) => { config(target).seed = readInteger(value, 'seed', Number.MIN_SAFE_INTEGER) } },
  stop: { kind: 'map', apply: (value, target) => { config(target).stopSequences = readStrings(value, 'stop') } },
  response_format: {
    kind: 'map',
    apply: (value, target) => {
      const format = readRecord(value, 'response_format')
      if (format.type === 'text') return
      if (format.type === 'json_object') {
        config(target).responseMimeType = 'application/json'
        return
      }
      if (format.type !== 'json_schema') throw UnsupportedParameter('response_format', PROTOCOL, `'${String(format.type)}' has no equivalent`)
      const spec = readRecord(format.json_schema, 'response_format.json_schema')
      config(target).responseMimeType = 'application/json'
      if (spec.schema !== undefined) config(target).responseJsonSchema = readRecord(spec.schema, 'response_format.json_schema.schema')
    }
  },
  reasoning_effort: {
    kind: 'map',
    apply: (value, target) => {
      if (value === 'none') {
        config(target).thinkingConfig = { thinkingBudget: 0 }
        return
      }
      if (value !== 'minimal' && value !== 'low' && value !== 'medium' && value !== 'high') {
        throw UnsupportedParameter('reasoning_effort', PROTOCOL, `effort ${JSON.stringify(value)} has no equivalent; Gemini takes none, minimal, low, medium and high`)
      }
      config(target).thinkingConfig = { thinkingLevel: LEVELS[value] }
    }
  },
  tools: {
    kind: 'map',
    apply: (value, target) => {
      const tools = readTools(value)
      if (tools.length > 0) target.tools = [{ functionDeclarations: tools.map(toDeclaration) }]
    }
  },
  tool_choice: { kind: 'map', apply: (value, target) => { target.toolConfig = toGeminiToolConfig(readToolChoice(value)) } },
  parallel_tool_calls: reject('Gemini cannot be held to one tool call per turn', (value) => value === true),
  n: reject('one answer per request (candidateCount 1)', isOne),
  logprobs: reject('log probabilities are not converted back from Gemini', isFalse),
  top_logprobs: reject('log probabilities are not converted back from Gemini', isZero),
  logit_bias: reject('Gemini has no token biases', isEmptyObject),
  audio: reject('audio output is not converted from Gemini'),
  modalities: reject('only text output is converted from Gemini', isTextOnly),
  verbosity: reject('Gemini has no verbosity setting'),
  web_search_options: reject('web search is not mapped to Gemini\'s grounding tools'),
  moderation: reject('Gemini returns no moderation results'),
  functions: reject('the retired functions API; send tools'),
  function_call: reject('the retired functions API; send tool_choice'),
  // Read by berry for the stream's usage chunk.
  stream_options: drop,
  // End-user ids for abuse tracking: Gemini's API has no field for them.
  user: drop,
  safety_identifier: drop,
  // Stored-completion tags, cache hints, the service tier and predicted
  // outputs change how OpenAI keeps or bills an answer, not the answer.
  metadata: drop,
  store: drop,
  prompt_cache_key: drop,
  prompt_cache_options: drop,
  prompt_cache_retention: drop,
  service_tier: drop,
  prediction: drop
}

export function toGeminiRequest (body: Record<string, unknown>): GeminiRequest {
  if (body.messages === undefined) throw InvalidBody("'messages' is required")
  const target: GeminiRequest = { contents: [] }
  applyParameters(body, PARAMETERS, target, PROTOCOL)
  return target
}
