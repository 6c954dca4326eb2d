/**
 * The protocol of a provider's `backend_type`. A fourth protocol is one new
 * module and one line here.
 */
import { createClaudeProtocol } from './claude/protocol.js'
import { createGeminiProtocol } from './gemini/protocol.js'
import { withAnthropicInbound } from './anthropic-inbound.js'
import { createOpenAIProtocol } from './openai.js'
import type { BackendType } from '../config/types.js'
import type { Protocol } from './types.js'

const openai = createOpenAIProtocol()
const claude = createClaudeProtocol()
const gemini = createGeminiProtocol()

const PROTOCOLS: ReadonlyMap<string, Protocol> = new Map([
  ['openai', openai],
  ['claude', claude],
  ['anthropic', claude],
  ['gemini', gemini]
])

/** The `backend_type` values berry knows, for the config schema. */
export const BACKEND_TYPES: readonly string[] = [...PROTOCOLS.keys()]

/** The protocol for a `backend_type`, or undefined for one berry does not know. */
export function protocolFor (backendType: string): Protocol | undefined {
  return PROTOCOLS.get(backendType)
}

/** Every backend type also serves Anthropic's Messages route (anthropic-inbound.ts). */
const BY_TYPE: Readonly<Record<BackendType, Protocol>> = { openai: withAnthropicInbound(openai), claude, gemini: withAnthropicInbound(gemini) }

/** The protocol of a loaded provider's `backend_type` (the config already resolved aliases). */
export function protocolOf (type: BackendType): Protocol {
  return BY_TYPE[type]
}
