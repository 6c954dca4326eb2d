/**
 * An OpenAI chat completions request as an Anthropic Messages request, for
 * API version 2026-10-21 (the one the current official SDK sends; see
 * credentials in claude/protocol.ts). Every OpenAI parameter has its row in
 * PARAMETERS; docs/protocols.md is the same table in words.
 */
import type {
  ContentBlockParam,
  DocumentBlockParam,
  ImageBlockParam,
  MessageCreateParamsBase,
  MessageParam,
  TextBlockParam,
  Tool,
  ToolChoice,
  ToolUseBlockParam
} from '@anthropic-ai/sdk/resources/messages'
import type {
  ChatCompletionContentPart,
  ChatCompletionContentPartText,
  ChatCompletionTool,
  ChatCompletionToolChoiceOption
} from 'openai/resources/chat/completions'
import { InvalidBody, UnsupportedParameter } from '../../errors.js'
import { isHttpUrl, parseDataUrl } from '../data-url.js'
import { isOneOf, isRecord, parseJson, readBoolean, readInteger, readNumber, readRecord, readString, readStrings } from '../json.js'
import { readMessages, readToolChoice, readTools, unknownPart, type AssistantMessage, type ChatMessage, type ToolCall } from '../openai-request.js'
import { applyParameters, drop, isEmptyObject, isFalse, isOne, isTextOnly, isZero, reject, type ParameterTable } from '../parameters.js'
import type { RequestContext } from '../types.js'

const PROTOCOL = 'Anthropic'
const NO_SAMPLING = 'Anthropic API version 2026-10-21 has no sampling parameters; only the default (1) can be honoured, by leaving it out'
const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'] as const
type ImageMediaType = typeof IMAGE_TYPES[number]

function isImageType (type: string): type is ImageMediaType {
  return isOneOf(IMAGE_TYPES, type)
}

type Turn =
  | { readonly role: 'system', readonly blocks: TextBlockParam[] }
  | { readonly role: 'user' | 'assistant', readonly blocks: ContentBlockParam[] }

/**
 * Turns built in order; consecutive turns of one role become one. System
 * text before the conversation is the top-level `system`; later system
 * messages keep their place as `system` turns, which 2026-10-21 accepts.
 */
class Turns {
  readonly system: TextBlockParam[] = []
  readonly #turns: Turn[] = []

  addSystem (blocks: TextBlockParam[]): void {
    const last = this.#turns.at(-1)
    if (last === undefined) this.system.push(...blocks)
    else if (last.role === 'system') last.blocks.push(...blocks)
    else this.#turns.push({ role: 'system', blocks })
  }

  add (role: 'user' | 'assistant', blocks: ContentBlockParam[]): void {
    const last = this.#turns.at(-1)
    if (last !== undefined && last.role === role) last.blocks.push(...blocks)
    else this.#turns.push({ role, blocks })
  }

  messages (): MessageParam[] {
    return this.#turns.map((turn): MessageParam => turn.role === 'system' ? { role: 'system', content: turn.blocks } : { role: turn.role, content: turn.blocks })
  }
}

function textBlocks (content: string | ChatCompletionContentPartText[]): TextBlockParam[] {
  const texts = typeof content === 'string' ? [content] : content.map((part) => part.text)
  // Anthropic refuses empty text blocks; an empty one carries nothing.
  return texts.filter((text) => text !== '').map((text) => ({ type: 'text', text }))
}

function imageBlock (url: string, path: string): ImageBlockParam {
  const data = parseDataUrl(url)
  if (data !== undefined) {
    if (!isImageType(data.mediaType)) throw UnsupportedParameter(path, PROTOCOL, `Anthropic takes JPEG, PNG, GIF and WebP images, not ${data.mediaType}`)
    return { type: 'image', source: { type: 'base64', media_type: data.mediaType, data: data.data } }
  }
  if (isHttpUrl(url)) return { type: 'image', source: { type: 'url', url } }
  throw InvalidBody(`'${path}.image_url.url' must be an http(s) URL or a base64 data: URL`)
}

function fileBlock (part: ChatCompletionContentPart.File, path: string): DocumentBlockParam {
  if (part.file.file_data === undefined) throw UnsupportedParameter(path, PROTOCOL, 'an OpenAI file id means nothing to Anthropic; send the file as file_data')
  const data = parseDataUrl(part.file.file_data)
  if (data === undefined) throw InvalidBody(`'${path}.file.file_data' must be a base64 data: URL`)
  const title = part.file.filename === undefined ? {} : { title: part.file.filename }
  if (data.mediaType === 'application/pdf') return { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: data.data }, ...title }
  if (data.mediaType === 'text/plain') return { type: 'document', source: { type: 'text', media_type: 'text/plain', data: Buffer.from(data.data, 'base64').toString('utf8') }, ...title }
  throw UnsupportedParameter(path, PROTOCOL, `Anthropic takes PDF and plain text documents, not ${data.mediaType}`)
}

function userBlocks (content: string | ChatCompletionContentPart[], path: string): ContentBlockParam[] {
  if (typeof content === 'string') return textBlocks(content)
  return content.flatMap((part, j): ContentBlockParam[] => {
    const partPath = `${path}.content[${j}]`
    switch (part.type) {
      case 'text': return textBlocks([part])
      case 'image_url': return [imageBlock(part.image_url.url, partPath)]
      case 'file': return [fileBlock(part, partPath)]
      case 'input_audio': throw UnsupportedParameter(partPath, PROTOCOL, 'Anthropic takes no audio input')
      default: return unknownPart(part, partPath)
    }
  })
}

/** A tool call's arguments as the object Anthropic's `input` must be. */
export function toolInput (call: ToolCall, path: string): Record<string, unknown> {
  if (call.type !== 'function') throw UnsupportedParameter(path, PROTOCOL, 'custom tool calls have no equivalent')
  // Some clients send '' for a call without arguments.
  if (call.function.arguments.trim() === '') return {}
  const input = parseJson(call.function.arguments)
  if (!isRecord(input)) throw InvalidBody(`'${path}.function.arguments' must be a JSON object`)
  return input
}

function assistantBlocks (message: AssistantMessage, path: string): ContentBlockParam[] {
  const blocks: ContentBlockParam[] = []
  const content = message.content
  if (typeof content === 'string') blocks.push(...textBlocks(content))
  else if (Array.isArray(content)) {
    for (const part of content) blocks.push(...textBlocks(part.type === 'text' ? part.text : part.refusal))
  }
  for (const [j, call] of (message.tool_calls ?? []).entries()) {
    const callPath = `${path}.tool_calls[${j}]`
    const input = toolInput(call, callPath)
    if (call.type !== 'function') continue
    const block: ToolUseBlockParam = { type: 'tool_use', id: call.id, name: call.function.name, input }
    blocks.push(block)
  }
  return blocks
}

export function toAnthropicMessages (messages: ChatMessage[]): { system: TextBlockParam[], messages: MessageParam[] } {
  const turns = new Turns()
  for (const [i, message] of messages.entries()) {
    const path = `messages[${i}]`
    switch (message.role) {
      case 'system':
      case 'developer':
        turns.addSystem(textBlocks(message.content))
        break
      case 'user':
        turns.add('user', userBlocks(message.content, path))
        break
      case 'assistant':
        turns.add('assistant', assistantBlocks(message, path))
        break
      case 'tool':
        turns.add('user', [{
          type: 'tool_result',
          tool_use_id: message.tool_call_id,
          content: typeof message.content === 'string' ? message.content : textBlocks(message.content)
        }])
        break
      case 'function':
        throw InvalidBody(`'${path}' has role 'function', the retired functions API: send 'tool' messages`)
    }
  }
  return { system: turns.system, messages: turns.messages() }
}

export function toAnthropicTool (tool: ChatCompletionTool, i: number): Tool {
  if (tool.type !== 'function') throw UnsupportedParameter(`tools[${i}]`, PROTOCOL, 'custom tools have no equivalent')
  const { name, description, parameters, strict } = tool.function
  const schema = parameters ?? { type: 'object', properties: {} }
  if (schema.type !== undefined && schema.type !== 'object') throw InvalidBody(`'tools[${i}].function.parameters' must describe an object: Anthropic tool input is an object`)
  return {
    name,
    input_schema: { ...schema, type: 'object' },
    ...(description === undefined ? {} : { description }),
    ...(strict === undefined || strict === null ? {} : { strict })
  }
}

export function toAnthropicToolChoice (choice: ChatCompletionToolChoiceOption, parallel: boolean): ToolChoice {
  const single = parallel ? {} : { disable_parallel_tool_use: true }
  if (choice === 'none') return { type: 'none' }
  if (choice === 'auto') return { type: 'auto', ...single }
  if (choice === 'required') return { type: 'any', ...single }
  if (choice.type === 'function') return { type: 'tool', name: choice.function.name, ...single }
  throw UnsupportedParameter('tool_choice', PROTOCOL, `a '${choice.type}' tool choice has no equivalent`)
}

const EFFORTS = ['low', 'medium', 'high', 'xhigh', 'max'] as const
type Effort = typeof EFFORTS[number]

function isEffort (value: unknown): value is Effort {
  return typeof value === 'string' && isOneOf(EFFORTS, value)
}

/** Whether the client allowed more than one tool call per turn (OpenAI's default). */
function parallelAllowed (body: Record<string, unknown>): boolean {
  return body.parallel_tool_calls !== false
}

function setUser (target: MessageCreateParamsBase, value: unknown, path: string): void {
  target.metadata = { user_id: readString(value, path) }
}

export const PARAMETERS: ParameterTable<MessageCreateParamsBase> = {
  messages: {
    kind: 'map',
    apply: (value, target) => {
      const { system, messages } = toAnthropicMessages(readMessages(value))
      if (system.length > 0) target.system = system
      target.messages = messages
    }
  },
  // The backend's model is set from the context.
  model: { kind: 'map', apply: () => {} },
  max_completion_tokens: { kind: 'map', apply: (value, target) => { target.max_tokens = readInteger(value, 'max_completion_tokens', 1) } },
  max_tokens: {
    kind: 'map',
    apply: (value, target, body) => {
      const tokens = readInteger(value, 'max_tokens', 1)
      if (body.max_completion_tokens === undefined || body.max_completion_tokens === null) target.max_tokens = tokens
    }
  },
  stop: { kind: 'map', apply: (value, target) => { target.stop_sequences = readStrings(value, 'stop') } },
  stream: { kind: 'map', apply: (value, target) => { if (readBoolean(value, 'stream')) target.stream = true } },
  user: { kind: 'map', apply: (value, target) => { setUser(target, value, 'user') } },
  safety_identifier: {
    kind: 'map',
    apply: (value, target, body) => { if (body.user === undefined || body.user === null) setUser(target, value, 'safety_identifier') }
  },
  tools: { kind: 'map', apply: (value, target) => { target.tools = readTools(value).map(toAnthropicTool) } },
  tool_choice: { kind: 'map', apply: (value, target, body) => { target.tool_choice = toAnthropicToolChoice(readToolChoice(value), parallelAllowed(body)) } },
  parallel_tool_calls: {
    kind: 'map',
    apply: (value, target, body) => {
      const parallel = readBoolean(value, 'parallel_tool_calls')
      const noChoice = body.tool_choice === undefined || body.tool_choice === null
      if (!parallel && noChoice && Array.isArray(body.tools) && body.tools.length > 0) target.tool_choice = { type: 'auto', disable_parallel_tool_use: true }
    }
  },
  reasoning_effort: {
    kind: 'map',
    apply: (value, target) => {
      if (!isEffort(value)) throw UnsupportedParameter('reasoning_effort', PROTOCOL, `effort ${JSON.stringify(value)} has no equivalent; Anthropic takes low, medium, high, xhigh and max`)
      target.output_config = { ...target.output_config, effort: value }
    }
  },
  response_format: {
    kind: 'map',
    apply: (value, target) => {
      const format = readRecord(value, 'response_format')
      if (format.type === 'text') return
      if (format.type !== 'json_schema') throw UnsupportedParameter('response_format', PROTOCOL, `'${String(format.type)}' has no equivalent; send a json_schema format`)
      const spec = readRecord(format.json_schema, 'response_format.json_schema')
      const schema = spec.schema === undefined ? { type: 'object' } : readRecord(spec.schema, 'response_format.json_schema.schema')
      target.output_config = { ...target.output_config, format: { type: 'json_schema', schema } }
    }
  },
  temperature: reject(NO_SAMPLING, (value) => readNumber(value, 'temperature') === 1),
  top_p: reject(NO_SAMPLING, (value) => readNumber(value, 'top_p') === 1),
  n: reject('Anthropic writes one answer per request', isOne),
  logprobs: reject('Anthropic returns no log probabilities', isFalse),
  top_logprobs: reject('Anthropic returns no log probabilities', isZero),
  presence_penalty: reject('Anthropic has no presence penalty', isZero),
  frequency_penalty: reject('Anthropic has no frequency penalty', isZero),
  seed: reject('Anthropic has no seed for reproducible sampling'),
  logit_bias: reject('Anthropic has no token biases', isEmptyObject),
  audio: reject('Anthropic writes no audio'),
  modalities: reject('Anthropic writes text only', isTextOnly),
  verbosity: reject('Anthropic has no verbosity setting'),
  web_search_options: reject('web search is not mapped to Anthropic\'s server tools'),
  moderation: reject('Anthropic returns no moderation results'),
  functions: reject('the retired functions API; send tools'),
  function_call: reject('the retired functions API; send tool_choice'),
  // Read by berry for the stream's usage chunk.
  stream_options: drop,
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

export function toAnthropicRequest (body: Record<string, unknown>, ctx: RequestContext): MessageCreateParamsBase {
  if (body.messages === undefined) throw InvalidBody("'messages' is required")
  const target: MessageCreateParamsBase = { model: ctx.model, max_tokens: ctx.defaultMaxTokens, messages: [] }
  applyParameters(body, PARAMETERS, target, PROTOCOL)
  return target
}
