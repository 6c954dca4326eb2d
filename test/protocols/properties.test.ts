/**
 * Properties of the request converters over generated conversations: every
 * message's text survives, in order; the order of roles survives (turns of
 * one role merged); every tool call id survives and still pairs a call with
 * its result. Forward (OpenAI to Anthropic and to Gemini) and reverse
 * (Anthropic to OpenAI).
 */
import { deepStrictEqual } from 'node:assert'
import t from 'tap'
import fc from 'fast-check'
import { toAnthropicRequest } from '../../plugin/protocols/claude/request.js'
import { toGeminiRequest } from '../../plugin/protocols/gemini/request.js'
import { anthropicClient } from '../../plugin/protocols/claude/client.js'

type Step =
  | { kind: 'system', text: string }
  | { kind: 'user', texts: string[] }
  | { kind: 'assistant', text: string | undefined, calls: Array<{ name: string, results: string }> }

const text = fc.string({ minLength: 1, maxLength: 12, unit: fc.constantFrom('a', 'b', 'é', '日', '🍓', ' ', '"', '\n') })
const name = fc.constantFrom('weather', 'time', 'search')
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 1, arbitrary: text.map((s): Step => ({ kind: 'system', text: s })) },
  { weight: 3, arbitrary: fc.array(text, { minLength: 1, maxLength: 3 }).map((texts): Step => ({ kind: 'user', texts })) },
  {
    weight: 3,
    arbitrary: fc.record({ text: fc.option(text, { nil: undefined }), calls: fc.array(fc.record({ name, results: text }), { maxLength: 3 }) })
      .filter((a) => a.text !== undefined || a.calls.length > 0)
      .map((a): Step => ({ kind: 'assistant', ...a }))
  }
)
const conversation = fc.tuple(fc.array(text, { maxLength: 2 }), fc.array(step, { minLength: 1, maxLength: 8 }))

/** One OpenAI message of a generated conversation and the texts it carries. */
interface Sent {
  role: 'system' | 'user' | 'assistant' | 'tool'
  texts: string[]
}

interface Built {
  messages: Array<Record<string, unknown>>
  sent: Sent[]
  callIds: string[]
  callNames: string[]
  resultIds: string[]
}

function merged (roles: string[]): string[] {
  return roles.filter((role, i) => role !== roles[i - 1])
}

/** The OpenAI messages of a generated conversation, with what each carries. */
function build ([leading, steps]: [string[], Step[]]): Built {
  let n = 0
  const built: Built = { messages: [], sent: [], callIds: [], callNames: [], resultIds: [] }
  const add = (message: Record<string, unknown>, sent: Sent): void => {
    built.messages.push(message)
    built.sent.push(sent)
  }
  for (const s of leading) add({ role: 'system', content: s }, { role: 'system', texts: [s] })
  for (const s of steps) {
    if (s.kind === 'system') {
      add({ role: 'developer', content: s.text }, { role: 'system', texts: [s.text] })
    } else if (s.kind === 'user') {
      add({ role: 'user', content: s.texts.map((x) => ({ type: 'text', text: x })) }, { role: 'user', texts: s.texts })
    } else {
      const calls = s.calls.map((call) => ({ id: `call_${++n}`, ...call }))
      const toolCalls = calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: JSON.stringify({ q: c.results }) } }))
      add({ role: 'assistant', content: s.text ?? null, ...(calls.length > 0 ? { tool_calls: toolCalls } : {}) }, { role: 'assistant', texts: s.text === undefined ? [] : [s.text] })
      built.callIds.push(...calls.map((c) => c.id))
      built.callNames.push(...calls.map((c) => c.name))
      for (const call of calls) {
        add({ role: 'tool', tool_call_id: call.id, content: call.results }, { role: 'tool', texts: [call.results] })
        built.resultIds.push(call.id)
      }
    }
  }
  // A conversation must hold a message besides its system prompt.
  if (!built.sent.some((m) => m.role !== 'system')) add({ role: 'user', content: 'end' }, { role: 'user', texts: ['end'] })
  return built
}

const ctx = { model: 'm', basePath: '', query: '', defaultMaxTokens: 100 }

t.test('OpenAI to Anthropic keeps texts in order, role order and tool call ids', async (t) => {
  fc.assert(fc.property(conversation, (generated) => {
    const built = build(generated)
    const out = toAnthropicRequest({ messages: built.messages }, ctx)
    // System messages before the first turn are the top-level system; later ones keep their place.
    const first = built.sent.findIndex((m) => m.role !== 'system')
    const leading = built.sent.slice(0, first)
    const rest = built.sent.slice(first)
    const system: string[] = []
    const texts: string[] = []
    const callIds: string[] = []
    const resultIds: string[] = []
    for (const block of Array.isArray(out.system) ? out.system : []) system.push(block.text)
    for (const message of out.messages) {
      for (const block of typeof message.content === 'string' ? [{ type: 'text' as const, text: message.content }] : message.content) {
        if (block.type === 'text') texts.push(block.text)
        if (block.type === 'tool_use') callIds.push(block.id)
        if (block.type === 'tool_result') {
          resultIds.push(block.tool_use_id)
          texts.push(typeof block.content === 'string' ? block.content : '')
        }
      }
    }
    deepStrictEqual(system, leading.flatMap((m) => m.texts))
    deepStrictEqual(texts, rest.flatMap((m) => m.texts))
    deepStrictEqual(out.messages.map((m) => m.role), merged(rest.map((m) => m.role === 'tool' ? 'user' : m.role)))
    deepStrictEqual(callIds, built.callIds)
    deepStrictEqual(resultIds, built.resultIds)
  }), { numRuns: 300 })
  t.pass('300 conversations')
})

t.test('OpenAI to Gemini keeps every text (system ones gathered in order), role order and which function each result answers', async (t) => {
  fc.assert(fc.property(conversation, (generated) => {
    const built = build(generated)
    const out = toGeminiRequest({ messages: built.messages })
    const system = (out.systemInstruction?.parts ?? []).map((part) => part.text)
    const texts: string[] = []
    const calls: string[] = []
    const answered: string[] = []
    for (const content of out.contents) {
      for (const part of content.parts ?? []) {
        if (typeof part.text === 'string') texts.push(part.text)
        if (part.functionCall !== undefined) calls.push(part.functionCall.name ?? '')
        if (part.functionResponse !== undefined) {
          answered.push(part.functionResponse.name ?? '')
          texts.push(String(part.functionResponse.response?.output))
        }
      }
    }
    const conversational = built.sent.filter((m) => m.role !== 'system')
    deepStrictEqual(system, built.sent.filter((m) => m.role === 'system').flatMap((m) => m.texts))
    deepStrictEqual(texts, conversational.flatMap((m) => m.texts))
    deepStrictEqual(out.contents.map((c) => c.role), merged(conversational.map((m) => m.role === 'assistant' ? 'model' : 'user')))
    deepStrictEqual(calls, built.callNames)
    deepStrictEqual(answered, built.callNames)
  }), { numRuns: 300 })
  t.pass('300 conversations')
})

/** An Anthropic conversation: alternating turns, tool results first in the user turn after a call. */
const anthropicConversation = fc.tuple(
  fc.option(text, { nil: undefined }),
  fc.array(fc.record({ user: fc.array(text, { minLength: 1, maxLength: 2 }), assistant: fc.option(text, { nil: undefined }), calls: fc.array(fc.record({ name, result: text }), { maxLength: 2 }) }), { minLength: 1, maxLength: 6 })
)

t.test('Anthropic to OpenAI keeps texts in order, role order and tool ids', async (t) => {
  fc.assert(fc.property(anthropicConversation, ([system, turns]) => {
    let n = 0
    const messages: Array<Record<string, unknown>> = []
    const texts: string[] = system === undefined ? [] : [system]
    const roles: string[] = system === undefined ? [] : ['system']
    const ids: string[] = []
    let pending: Array<{ id: string, result: string }> = []
    for (const turn of turns) {
      messages.push({ role: 'user', content: [...pending.map((p) => ({ type: 'tool_result', tool_use_id: p.id, content: p.result })), ...turn.user.map((x) => ({ type: 'text', text: x }))] })
      for (const p of pending) {
        texts.push(p.result)
        roles.push('tool')
        ids.push(p.id)
      }
      texts.push(...turn.user)
      roles.push('user')
      const calls = turn.calls.map((c) => ({ id: `toolu_${++n}`, ...c }))
      if (turn.assistant === undefined && calls.length === 0) {
        pending = []
        continue
      }
      messages.push({ role: 'assistant', content: [...(turn.assistant === undefined ? [] : [{ type: 'text', text: turn.assistant }]), ...calls.map((c) => ({ type: 'tool_use', id: c.id, name: c.name, input: { q: c.result } }))] })
      if (turn.assistant !== undefined) texts.push(turn.assistant)
      roles.push('assistant')
      ids.push(...calls.map((c) => c.id))
      pending = calls.map((c) => ({ id: c.id, result: c.result }))
    }
    const out = anthropicClient.request({ model: 'm', max_tokens: 10, messages, ...(system === undefined ? {} : { system }) })
    const got = out.messages as Array<Record<string, unknown>>
    const gotTexts: string[] = []
    const gotIds: string[] = []
    for (const message of got) {
      const content = message.content
      if (typeof content === 'string') gotTexts.push(content)
      else if (Array.isArray(content)) for (const part of content) gotTexts.push((part as { text: string }).text)
      if (message.role === 'tool') gotIds.push(String(message.tool_call_id))
      if (Array.isArray(message.tool_calls)) for (const call of message.tool_calls) gotIds.push((call as { id: string }).id)
    }
    deepStrictEqual(gotTexts, texts)
    deepStrictEqual(got.map((m) => m.role), roles)
    deepStrictEqual([...gotIds].sort(), [...ids].sort())
    deepStrictEqual(gotIds.filter((id, i) => gotIds.indexOf(id) === i), ids.filter((id, i) => ids.indexOf(id) === i))
  }), { numRuns: 300 })
  t.pass('300 conversations')
})
