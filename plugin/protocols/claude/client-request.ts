/**
 * The reverse direction: a client speaking Anthropic's Messages API (Claude
 * Code, the Anthropic SDK) served by an OpenAI-protocol backend. Its request
 * becomes an OpenAI chat completions request; every Anthropic parameter has
 * its row in CLIENT_PARAMETERS.
 *
 * The keys are those of the current SDK's MessageCreateParamsBase plus the
 * sampling parameters of API version 2023-06-01, which older clients still
 * send and OpenAI has.
 */
import type { MessageCreateParamsBase } from '@anthropic-ai/sdk/resources/messages'
import type {
  ChatCompletionContentPart,
  ChatCompletionContentPartText,
  ChatCompletionCreateParamsBase,
  ChatCompletionMessageFunctionToolCall,
  ChatCompletionMessageParam,
  ChatCompletionTool,
  ChatCompletionToolChoiceOption
} from 'openai/resources/chat/completions'
import { InvalidBody, UnsupportedParameter } from '../../errors.js'
import { toDataUrl } from '../data-url.js'
import { isOneOf, optionalString, readArray, readBoolean, readInteger, readNumber, readRecord, readString, readStrings } from '../json.js'
import { applyParameters, drop, reject, type RuleTable } from '../parameters.js'

const PROTOCOL = 'OpenAI'

type AnthropicKeys = keyof MessageCreateParamsBase | 'temperature' | 'top_p' | 'top_k'

/** An OpenAI chat request built up; `messages` and `model` are set first. */
type ChatRequest = ChatCompletionCreateParamsBase & { stream?: boolean }

/** Text given as a string or as text blocks; blocks stay separate parts. */
function textContent (value: unknown, path: string): string | ChatCompletionContentPartText[] {
  if (typeof value === 'string') return value
  return readArray(value, path).map((raw, i) => {
    const block = readRecord(raw, `${path}[${i}]`)
    if (block.type !== 'text') throw UnsupportedParameter(`${path}[${i}]`, PROTOCOL, `a '${String(block.type)}' block has no equivalent here; only text`)
    return { type: 'text', text: readString(block.text, `${path}[${i}].text`) }
  })
}

function imagePart (block: Record<string, unknown>, path: string): ChatCompletionContentPart {
  const source = readRecord(block.source, `${path}.source`)
  if (source.type === 'base64') {
    return { type: 'image_url', image_url: { url: toDataUrl(readString(source.media_type, `${path}.source.media_type`), readString(source.data, `${path}.source.data`)) } }
  }
  if (source.type === 'url') return { type: 'image_url', image_url: { url: readString(source.url, `${path}.source.url`) } }
  throw UnsupportedParameter(path, PROTOCOL, `an image from a '${String(source.type)}' source has no equivalent`)
}

function documentPart (block: Record<string, unknown>, path: string): ChatCompletionContentPart {
  const source = readRecord(block.source, `${path}.source`)
  const title = optionalString(block.title, `${path}.title`)
  if (source.type === 'base64' && source.media_type === 'application/pdf') {
    return { type: 'file', file: { file_data: toDataUrl('application/pdf', readString(source.data, `${path}.source.data`)), filename: title ?? 'document.pdf' } }
  }
  if (source.type === 'text') return { type: 'text', text: readString(source.data, `${path}.source.data`) }
  throw UnsupportedParameter(path, PROTOCOL, 'only PDF (base64) and plain text documents have an equivalent')
}

/** A user turn: its tool results first, as OpenAI `tool` messages, then the rest. */
function userMessages (content: unknown, path: string): ChatCompletionMessageParam[] {
  if (typeof content === 'string') return [{ role: 'user', content }]
  const tools: ChatCompletionMessageParam[] = []
  const parts: ChatCompletionContentPart[] = []
  for (const [j, raw] of readArray(content, `${path}.content`).entries()) {
    const blockPath = `${path}.content[${j}]`
    const block = readRecord(raw, blockPath)
    switch (block.type) {
      case 'text':
        parts.push({ type: 'text', text: readString(block.text, `${blockPath}.text`) })
        break
      case 'image':
        parts.push(imagePart(block, blockPath))
        break
      case 'document':
        parts.push(documentPart(block, blockPath))
        break
      case 'tool_result':
        tools.push({
          role: 'tool',
          tool_call_id: readString(block.tool_use_id, `${blockPath}.tool_use_id`),
          content: block.content === undefined ? '' : textContent(block.content, `${blockPath}.content`)
        })
        break
      default:
        throw UnsupportedParameter(blockPath, PROTOCOL, `a '${String(block.type)}' block has no equivalent in a user turn`)
    }
  }
  const onlyText = parts.every((part): part is ChatCompletionContentPartText => part.type === 'text')
  if (parts.length === 0) return tools
  return [...tools, { role: 'user', content: onlyText && parts.length === 1 ? parts.map((part) => part.text).join('') : parts }]
}

function assistantMessage (content: unknown, path: string): ChatCompletionMessageParam {
  if (typeof content === 'string') return { role: 'assistant', content }
  const texts: string[] = []
  const calls: ChatCompletionMessageFunctionToolCall[] = []
  for (const [j, raw] of readArray(content, `${path}.content`).entries()) {
    const blockPath = `${path}.content[${j}]`
    const block = readRecord(raw, blockPath)
    switch (block.type) {
      case 'text':
        texts.push(readString(block.text, `${blockPath}.text`))
        break
      case 'tool_use':
        calls.push({
          id: readString(block.id, `${blockPath}.id`),
          type: 'function',
          function: { name: readString(block.name, `${blockPath}.name`), arguments: JSON.stringify(block.input ?? {}) }
        })
        break
      // Thinking is the model's own: an OpenAI backend can neither read nor verify it.
      case 'thinking':
      case 'redacted_thinking':
        break
      default:
        throw UnsupportedParameter(blockPath, PROTOCOL, `a '${String(block.type)}' block has no equivalent in an assistant turn`)
    }
  }
  return {
    role: 'assistant',
    content: texts.length === 0 ? null : texts.join(''),
    ...(calls.length === 0 ? {} : { tool_calls: calls })
  }
}

export function toOpenAIMessages (system: unknown, messages: unknown): ChatCompletionMessageParam[] {
  const out: ChatCompletionMessageParam[] = []
  if (system !== undefined && system !== null) out.push({ role: 'system', content: textContent(system, 'system') })
  for (const [i, raw] of readArray(messages, 'messages').entries()) {
    const path = `messages[${i}]`
    const message = readRecord(raw, path)
    switch (message.role) {
      case 'user':
        out.push(...userMessages(message.content, path))
        break
      case 'assistant':
        out.push(assistantMessage(message.content, path))
        break
      case 'system':
        out.push({ role: 'system', content: textContent(message.content, `${path}.content`) })
        break
      default:
        throw InvalidBody(`'${path}.role' must be one of user, assistant, system`)
    }
  }
  return out
}

export function toOpenAITools (value: unknown): ChatCompletionTool[] {
  return readArray(value, 'tools').map((raw, i) => {
    const path = `tools[${i}]`
    const tool = readRecord(raw, path)
    if (tool.type !== undefined && tool.type !== null && tool.type !== 'custom') throw UnsupportedParameter(path, PROTOCOL, `the server tool '${String(tool.type)}' has no equivalent`)
    const description = optionalString(tool.description, `${path}.description`)
    const strict = tool.strict === undefined ? undefined : readBoolean(tool.strict, `${path}.strict`)
    return {
      type: 'function',
      function: {
        name: readString(tool.name, `${path}.name`),
        parameters: readRecord(tool.input_schema, `${path}.input_schema`),
        ...(description === undefined ? {} : { description }),
        ...(strict === undefined ? {} : { strict })
      }
    }
  })
}

export function toOpenAIToolChoice (value: unknown): { choice: ChatCompletionToolChoiceOption, parallel: boolean } {
  const choice = readRecord(value, 'tool_choice')
  const parallel = choice.disable_parallel_tool_use !== true
  switch (choice.type) {
    case 'auto': return { choice: 'auto', parallel }
    case 'any': return { choice: 'required', parallel }
    case 'none': return { choice: 'none', parallel }
    case 'tool': return { choice: { type: 'function', function: { name: readString(choice.name, 'tool_choice.name') } }, parallel }
    default: throw InvalidBody("'tool_choice.type' must be one of auto, any, tool, none")
  }
}

const EFFORTS = ['low', 'medium', 'high', 'xhigh', 'max'] as const

function isEffort (value: unknown): value is typeof EFFORTS[number] {
  return typeof value === 'string' && isOneOf(EFFORTS, value)
}

export const CLIENT_PARAMETERS: RuleTable<AnthropicKeys, ChatRequest> = {
  // Both read together in toOpenAIRequest: system goes first.
  messages: { kind: 'map', apply: () => {} },
  system: { kind: 'map', apply: () => {} },
  model: { kind: 'map', apply: (value, target) => { target.model = readString(value, 'model') } },
  max_tokens: { kind: 'map', apply: (value, target) => { target.max_completion_tokens = readInteger(value, 'max_tokens', 0) } },
  stop_sequences: { kind: 'map', apply: (value, target) => { target.stop = readStrings(value, 'stop_sequences') } },
  stream: {
    kind: 'map',
    apply: (value, target) => {
      if (!readBoolean(value, 'stream')) return
      target.stream = true
      // Anthropic's stream reports usage in message_delta: OpenAI sends it only when asked.
      target.stream_options = { include_usage: true }
    }
  },
  metadata: {
    kind: 'map',
    apply: (value, target) => {
      const user = optionalString(readRecord(value, 'metadata').user_id, 'metadata.user_id')
      if (user !== undefined) target.user = user
    }
  },
  tools: { kind: 'map', apply: (value, target) => { target.tools = toOpenAITools(value) } },
  tool_choice: {
    kind: 'map',
    apply: (value, target, body) => {
      const { choice, parallel } = toOpenAIToolChoice(value)
      target.tool_choice = choice
      if (!parallel && Array.isArray(body.tools) && body.tools.length > 0) target.parallel_tool_calls = false
    }
  },
  output_config: {
    kind: 'map',
    apply: (value, target) => {
      const config = readRecord(value, 'output_config')
      if (config.effort !== undefined && config.effort !== null) {
        if (!isEffort(config.effort)) throw InvalidBody("'output_config.effort' must be one of low, medium, high, xhigh, max")
        target.reasoning_effort = config.effort
      }
      if (config.format !== undefined && config.format !== null) {
        const format = readRecord(config.format, 'output_config.format')
        if (format.type !== 'json_schema') throw InvalidBody("'output_config.format.type' must be 'json_schema'")
        target.response_format = { type: 'json_schema', json_schema: { name: 'output', strict: true, schema: readRecord(format.schema, 'output_config.format.schema') } }
      }
    }
  },
  temperature: { kind: 'map', apply: (value, target) => { target.temperature = readNumber(value, 'temperature') } },
  top_p: { kind: 'map', apply: (value, target) => { target.top_p = readNumber(value, 'top_p') } },
  top_k: reject('OpenAI has no top_k'),
  container: reject('OpenAI has no code execution containers'),
  // Extended thinking is the model's own: an OpenAI backend reasons (or not)
  // as it does, and its reasoning text comes back as thinking blocks.
  thinking: drop,
  // Where and how fast Anthropic serves, and cache breakpoints: not what it answers.
  cache_control: drop,
  inference_geo: drop,
  service_tier: drop,
  speed: drop,
  diagnostics: drop,
  user_profile_id: drop,
  workspace_id: drop
}

/** The OpenAI chat request for an Anthropic Messages request body. */
export function toOpenAIRequest (body: Record<string, unknown>): Record<string, unknown> {
  if (body.max_tokens === undefined) throw InvalidBody("'max_tokens' is required")
  const target: ChatRequest = { model: '', messages: toOpenAIMessages(body.system, body.messages) }
  applyParameters(body, CLIENT_PARAMETERS, target, PROTOCOL, 'an Anthropic Messages parameter')
  return { ...target }
}
