/**
 * Bearer-token authentication against `[users]`, or the host's own
 * `authenticate` hook. Tokens are compared in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyRequest, onRequestHookHandler } from 'fastify'
import type { BerryConfig, User } from './config/types.js'
import { AdminOnly, Unauthenticated } from './errors.js'
import { isRecord } from './json.js'
import { kAuthCache, kUser } from './symbols.js'
import { hasTag, type BerryUser } from './user.js'

declare module 'node:net' {
  interface Socket {
    /** The last successful Bearer lookup on this keep-alive connection. */
    [kAuthCache]?: CachedAuth
  }
}

interface CachedAuth {
  readonly header: string
  readonly tokens: TokenTable
  readonly user: BerryUser
}

export type Authenticate = (request: FastifyRequest) => BerryUser | null | undefined | Promise<BerryUser | null | undefined>

function digest (text: string): Buffer {
  return createHash('sha256').update(text).digest()
}

interface TokenEntry {
  readonly digest: Buffer
  readonly user: User
}

/**
 * Users by token digest. Every lookup compares against every entry so the
 * time taken does not depend on which token (if any) matched.
 */
export class TokenTable {
  readonly #entries: readonly TokenEntry[]

  constructor (config: BerryConfig) {
    this.#entries = config.users.map((user) => ({ digest: digest(user.token), user }))
  }

  get size (): number {
    return this.#entries.length
  }

  find (token: string): User | undefined {
    const wanted = digest(token)
    let found: User | undefined
    for (const entry of this.#entries) {
      if (timingSafeEqual(entry.digest, wanted)) found = entry.user
    }
    return found
  }
}

export function bearerToken (header: string | undefined): string | undefined {
  if (header === undefined) return undefined
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header)
  return match?.[1]
}

export function toBerryUser (user: User): BerryUser {
  return { id: user.id, allowedModels: user.allowedModels, tags: user.tags }
}

/** Resolves the caller or throws the 401 the client should see. */
export async function authenticateRequest (request: FastifyRequest, tokens: TokenTable, hook: Authenticate | undefined): Promise<BerryUser> {
  if (hook !== undefined) {
    const user = await hook(request)
    if (user === null || user === undefined) throw Unauthenticated('Invalid or missing credentials')
    return user
  }
  return authenticateBearer(request, tokens)
}

/** The onRequest hook that sets `request[kUser]`, or answers 401. */
export function authenticationHook (tokens: () => TokenTable, hook: Authenticate | undefined): onRequestHookHandler {
  return async function authenticate (request: FastifyRequest): Promise<void> {
    request[kUser] = await authenticateRequest(request, tokens(), hook)
  }
}

/** A route's config flag: its clients send their key as `x-api-key` (Anthropic's routes). */
export const ACCEPTS_API_KEY = 'berryAcceptsApiKey'

/**
 * On Anthropic's routes only, the caller's token the way its clients send a
 * key (Claude Code, the Anthropic SDK): `x-api-key: <token>`.
 */
function apiKeyOf (request: FastifyRequest): string | undefined {
  const config: unknown = request.routeOptions.config
  if (!isRecord(config) || config[ACCEPTS_API_KEY] !== true) return undefined
  const key = request.headers['x-api-key']
  if (typeof key !== 'string' || key === '' || /\s/.test(key)) return undefined
  return key
}

/** The caller by its token from `[users]` (`Authorization: Bearer`, or `x-api-key`), or throws the 401. */
export function authenticateBearer (request: FastifyRequest, tokens: TokenTable): BerryUser {
  const authorization = request.headers.authorization
  const apiKey = authorization === undefined ? apiKeyOf(request) : undefined
  // The header as sent is the cache key below.
  const header = authorization ?? (apiKey === undefined ? undefined : `x-api-key ${apiKey}`)
  // Keep-alive clients send the same header on every request of a
  // connection: the last success on this socket is remembered, so the token
  // is hashed once per connection rather than once per request (6% of CPU
  // per request in the profile). Comparing with the socket's own previous
  // header reveals nothing: that value came from this same client. A reload
  // makes a new token table, which invalidates the entry.
  const socket = request.raw.socket
  const cached = socket?.[kAuthCache]
  if (cached !== undefined && cached.tokens === tokens && cached.header === header) return cached.user
  // Parsed only when the socket's last success does not answer for it.
  const token = authorization === undefined ? apiKey : bearerToken(authorization)
  if (token === undefined) {
    throw Unauthenticated("Missing bearer token: send 'Authorization: Bearer <token>'")
  }
  const user = tokens.find(token)
  if (user === undefined) throw Unauthenticated('Invalid API token')
  if (!user.enabled) throw Unauthenticated('This API token is disabled')
  const result = toBerryUser(user)
  if (socket !== undefined && header !== undefined) socket[kAuthCache] = { header, tokens, user: result }
  return result
}

/** The caller of a route behind the auth hook (which sets it, or answers 401 first). */
export function callerOf (request: FastifyRequest): BerryUser {
  const user = request[kUser]
  if (user === null) throw Unauthenticated('Invalid or missing credentials')
  return user
}

/** The caller, when tagged `admin`; else the 403 the client should see. */
export function requireAdmin (request: FastifyRequest): BerryUser {
  const user = callerOf(request)
  if (!hasTag(user, 'admin')) throw AdminOnly()
  return user
}
