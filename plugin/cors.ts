/**
 * CORS for browser apps that call berry directly (the `cors` option), by
 * @fastify/cors. Its hook answers a preflight before berry's authentication
 * runs (a browser sends no Authorization with it); the real request then
 * needs its Bearer token as any other. Credentials (cookies) are never
 * allowed: berry authenticates by header only.
 */
import cors, { type FastifyCorsOptions } from '@fastify/cors'
import type { FastifyInstance } from 'fastify'
import type { ResolvedCorsOptions } from './options.js'

/** What a browser app may read of berry's answers besides the CORS-safe headers. */
export const CORS_EXPOSED_HEADERS = ['x-berry-backend', 'x-berry-attempts', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'retry-after', 'x-request-id']

export async function registerCors (scope: FastifyInstance, options: ResolvedCorsOptions): Promise<void> {
  const settings: FastifyCorsOptions = {
    origin: typeof options.origin === 'string' || options.origin instanceof RegExp ? options.origin : [...options.origin],
    methods: ['GET', 'POST'],
    // Unset: a preflight's Access-Control-Request-Headers are allowed as asked.
    // OpenAI's SDKs add x-stainless-* headers that change between versions, and
    // berry forwards only the request headers it knows, so none reaches an upstream.
    exposedHeaders: CORS_EXPOSED_HEADERS,
    credentials: false,
    maxAge: options.maxAge,
    logLevel: 'warn'
  }
  await scope.register(cors, settings)
}
