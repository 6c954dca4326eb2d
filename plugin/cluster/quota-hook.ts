/**
 * The token quota check of proxied requests, after authentication: a user
 * whose recorded tokens reached a `[users.<id>.quota]` gets OpenAI's 429
 * `insufficient_quota`, saying when the quota resets; every answer to a
 * user with a quota carries `x-ratelimit-remaining-tokens`. It reads the
 * usage store's local view of the user's totals and never waits for Redis.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { QuotaExceeded } from '../errors.js'
import type { Runtime } from '../runtime.js'
import { kQuota, kUser } from '../symbols.js'
import { quotaMessage, quotaStatus, type QuotaStatus } from './quota.js'
import type { UsageStore } from './usage-store.js'

declare module 'fastify' {
  interface FastifyRequest {
    [kQuota]: QuotaStatus | null
  }
}

export function registerQuota (scope: FastifyInstance, runtime: Runtime, usage: UsageStore): void {
  scope.decorateRequest(kQuota, null)

  scope.addHook('onRequest', function checkQuota (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) {
    const user = request[kUser]
    const quota = user === null ? undefined : runtime.snapshot.quotas.get(user.id)
    if (user === null || quota === undefined) {
      done()
      return
    }
    const now = runtime.now()
    const status = quotaStatus(quota, usage.tokensUsed(user.id, now), now)
    const { breach } = status
    if (breach !== undefined) {
      done(QuotaExceeded(quotaMessage(breach, now), {
        'retry-after': String(Math.max(1, Math.ceil((breach.resetsAt - now) / 1000))),
        'x-ratelimit-limit-tokens': String(breach.limit),
        'x-ratelimit-remaining-tokens': '0'
      }))
      return
    }
    request[kQuota] = status
    done()
  })

  // Set as the answer leaves, over whatever the upstream said under the
  // same name (OpenAI's own x-ratelimit-remaining-tokens is about berry's
  // key, not this user).
  scope.addHook('onSend', function announceQuota (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: null, payload: unknown) => void) {
    const status = request[kQuota]
    if (status !== null) {
      reply.header('x-ratelimit-limit-tokens', String(status.limit))
      reply.header('x-ratelimit-remaining-tokens', String(status.remaining))
    }
    done(null, payload)
  })
}
