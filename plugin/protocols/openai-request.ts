/**
 * The parts of a client's OpenAI chat request that converters walk
 * (messages, tools, tool_choice), checked and typed with the official
 * `openai` SDK's types. A shape OpenAI would refuse is a 400 naming where it
 * is; converters then work on typed values only.
 */
import type {
  ChatCompletionAssistantMessageParam,
  ChatCompletionContentPart,
  ChatCompletionContentPartText,
  ChatCompletionMessageParam,
  ChatCompletionMessageToolCall,
  ChatCompletionTool,
  ChatCompletionToolChoiceOption
} from 'openai/resources/chat/completions'
import { InvalidBody } from '../errors.js'
import { isRecord, optionalString, readArray, readBoolean, readRecord, readString } from './json.js'

/** The extension Google's OpenAI layer puts on tool calls to carry Gemini's thought signature. */
export interface ToolCallExtra {
  extra_content?: { google?: { thought_signature?: string } }
}

export type ToolCall = ChatCompletionMessageToolCall & ToolCallExtra

export type AssistantMessage = Omit<ChatCompletionAssistantMessageParam, 'tool_calls'> & { tool_calls?: ToolCall[] }

/** A chat message as OpenAI types it, tool calls keeping their `extra_content`. */
export type ChatMessage = Exclude<ChatCompletionMessageParam, ChatCompletionAssistantMessageParam> | AssistantMessage

function readTextPart (value: unknown, path: string): ChatCompletionContentPartText {
  const part = readRecord(value, path)
  if (part.type !== 'text') throw InvalidBody(`'${path}.type' must be 'text' here`)
  return { type: 'text', text: readString(part.text, `${path}.text`) }
}

function readTextContent (value: unknown, path: string): string | ChatCompletionContentPartText[] {
  if (typeof value === 'string') return value
  return readArray(value, path).map((part, i) => readTextPart(part, `${path}[${i}]`))
}

function readUserPart (value: unknown, path: string): ChatCompletionContentPart {
  const part = readRecord(value, path)
  switch (part.type) {
    case 'text':
      return readTextPart(part, path)
    case 'image_url': {
      const image = readRecord(part.image_url, `${path}.image_url`)
      const detail = image.detail
      if (detail !== undefined && detail !== 'auto' && detail !== 'low' && detail !== 'high') throw InvalidBody(`'${path}.image_url.detail' must be 'auto', 'low' or 'high'`)
      return { type: 'image_url', image_url: { url: readString(image.url, `${path}.image_url.url`), ...(detail === undefined ? {} : { detail }) } }
    }
    case 'input_audio': {
      const audio = readRecord(part.input_audio, `${path}.input_audio`)
      const format = audio.format
      if (format !== 'wav' && format !== 'mp3') throw InvalidBody(`'${path}.input_audio.format' must be 'wav' or 'mp3'`)
      return { type: 'input_audio', input_audio: { data: readString(audio.data, `${path}.input_audio.data`), format } }
    }
    case 'file': {
      const file = readRecord(part.file, `${path}.file`)
      const fileData = optionalString(file.file_data, `${path}.file.file_data`)
      const fileId = optionalString(file.file_id, `${path}.file.file_id`)
      const filename = optionalString(file.filename, `${path}.file.filename`)
      return {
        type: 'file',
        file: { ...(fileData === undefined ? {} : { file_data: fileData }), ...(fileId === undefined ? {} : { file_id: fileId }), ...(filename === undefined ? {} : { filename }) }
      }
    }
    default:
      throw InvalidBody(`'${path}.type' is not a content part type: ${JSON.stringify(part.type)}`)
  }
}

function readToolCall (value: unknown, path: string): ToolCall {
  const call = readRecord(value, path)
  const id = readString(call.id, `${path}.id`)
  if (call.type === 'custom') {
    const custom = readRecord(call.custom, `${path}.custom`)
    return { id, type: 'custom', custom: { name: readString(custom.name, `${path}.custom.name`), input: readString(custom.input, `${path}.custom.input`) } }
  }
  if (call.type !== 'function') throw InvalidBody(`'${path}.type' must be 'function'`)
  const fn = readRecord(call.function, `${path}.function`)
  const out: ToolCall = { id, type: 'function', function: { name: readString(fn.name, `${path}.function.name`), arguments: readString(fn.arguments, `${path}.function.arguments`) } }
  const signature = isRecord(call.extra_content) && isRecord(call.extra_content.google) ? call.extra_content.google.thought_signature : undefined
  if (typeof signature === 'string') out.extra_content = { google: { thought_signature: signature } }
  return out
}

function readMessage (value: unknown, path: string): ChatMessage {
  const message = readRecord(value, path)
  const name = optionalString(message.name, `${path}.name`)
  const named = name === undefined ? {} : { name }
  switch (message.role) {
    case 'system':
      return { role: 'system', content: readTextContent(message.content, `${path}.content`), ...named }
    case 'developer':
      return { role: 'developer', content: readTextContent(message.content, `${path}.content`), ...named }
    case 'user': {
      const content = message.content
      return {
        role: 'user',
        content: typeof content === 'string' ? content : readArray(content, `${path}.content`).map((part, i) => readUserPart(part, `${path}.content[${i}]`)),
        ...named
      }
    }
    case 'assistant': {
      const content = message.content
      let parts: string | Array<ChatCompletionContentPartText | { type: 'refusal', refusal: string }> | null = null
      if (typeof content === 'string') {
        parts = content
      } else if (content !== undefined && content !== null) {
        parts = readArray(content, `${path}.content`).map((raw, i) => {
          const part = readRecord(raw, `${path}.content[${i}]`)
          if (part.type === 'refusal') return { type: 'refusal' as const, refusal: readString(part.refusal, `${path}.content[${i}].refusal`) }
          return readTextPart(part, `${path}.content[${i}]`)
        })
      }
      const toolCalls = message.tool_calls === undefined || message.tool_calls === null
        ? undefined
        : readArray(message.tool_calls, `${path}.tool_calls`).map((call, i) => readToolCall(call, `${path}.tool_calls[${i}]`))
      if (message.function_call !== undefined && message.function_call !== null) throw InvalidBody(`'${path}.function_call' is the retired functions API: send 'tool_calls'`)
      const refusal = optionalString(message.refusal, `${path}.refusal`)
      return {
        role: 'assistant',
        content: parts,
        ...named,
        ...(toolCalls === undefined ? {} : { tool_calls: toolCalls }),
        ...(refusal === undefined ? {} : { refusal })
      }
    }
    case 'tool':
      return { role: 'tool', content: readTextContent(message.content, `${path}.content`), tool_call_id: readString(message.tool_call_id, `${path}.tool_call_id`) }
    case 'function':
      throw InvalidBody(`'${path}' has role 'function', the retired functions API: send 'tool' messages`)
    default:
      throw InvalidBody(`'${path}.role' must be one of system, developer, user, assistant, tool`)
  }
}

export function readMessages (value: unknown): ChatMessage[] {
  const messages = readArray(value, 'messages')
  if (messages.length === 0) throw InvalidBody("'messages' must hold at least one message")
  return messages.map((message, i) => readMessage(message, `messages[${i}]`))
}

export function readTools (value: unknown): ChatCompletionTool[] {
  return readArray(value, 'tools').map((raw, i) => {
    const path = `tools[${i}]`
    const tool = readRecord(raw, path)
    if (tool.type === 'custom') {
      const custom = readRecord(tool.custom, `${path}.custom`)
      return { type: 'custom', custom: { name: readString(custom.name, `${path}.custom.name`) } }
    }
    if (tool.type !== 'function') throw InvalidBody(`'${path}.type' must be 'function'`)
    const fn = readRecord(tool.function, `${path}.function`)
    const description = optionalString(fn.description, `${path}.function.description`)
    const parameters = fn.parameters === undefined || fn.parameters === null ? undefined : readRecord(fn.parameters, `${path}.function.parameters`)
    const strict = fn.strict === undefined || fn.strict === null ? undefined : readBoolean(fn.strict, `${path}.function.strict`)
    return {
      type: 'function',
      function: {
        name: readString(fn.name, `${path}.function.name`),
        ...(description === undefined ? {} : { description }),
        ...(parameters === undefined ? {} : { parameters }),
        ...(strict === undefined ? {} : { strict })
      }
    }
  })
}

export function readToolChoice (value: unknown): ChatCompletionToolChoiceOption {
  if (value === 'none' || value === 'auto' || value === 'required') return value
  const choice = readRecord(value, 'tool_choice')
  if (choice.type === 'function') {
    const fn = readRecord(choice.function, 'tool_choice.function')
    return { type: 'function', function: { name: readString(fn.name, 'tool_choice.function.name') } }
  }
  if (choice.type === 'custom') {
    const custom = readRecord(choice.custom, 'tool_choice.custom')
    return { type: 'custom', custom: { name: readString(custom.name, 'tool_choice.custom.name') } }
  }
  if (choice.type === 'allowed_tools') {
    const allowed = readRecord(choice.allowed_tools, 'tool_choice.allowed_tools')
    const mode = allowed.mode
    if (mode !== 'auto' && mode !== 'required') throw InvalidBody("'tool_choice.allowed_tools.mode' must be 'auto' or 'required'")
    const tools = readArray(allowed.tools, 'tool_choice.allowed_tools.tools').map((tool, i) => readRecord(tool, `tool_choice.allowed_tools.tools[${i}]`))
    return { type: 'allowed_tools', allowed_tools: { mode, tools } }
  }
  throw InvalidBody("'tool_choice' must be 'none', 'auto', 'required' or a named function")
}

/** A part type newer than these types: readUserPart lets none through. */
export function unknownPart (_part: never, path: string): never {
  throw InvalidBody(`'${path}' has a content part type berry does not know`)
}

/** Whether the client asked for a usage chunk at the end of its stream. */
export function includeUsage (body: Record<string, unknown>): boolean {
  return isRecord(body.stream_options) && body.stream_options.include_usage === true
}
