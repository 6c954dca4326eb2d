/**
 * `GET /admin/usage`: request and token totals per UTC day, user, model and
 * backend, cluster-wide when berry shares state through Redis. Users with
 * the `admin` tag only. Query: `user`, `from` and `to` (days, `YYYY-MM-DD`,
 * inclusive), each optional.
 */
import type { FastifyInstance } from 'fastify'
import { requireAdmin } from '../auth.js'
import { isDay } from '../cluster/periods.js'
import type { UsageQuery, UsageStore } from '../cluster/usage-store.js'
import { InvalidQuery } from '../errors.js'
import { isRecord } from '../json.js'

/** The query of `GET /admin/usage`, checked; throws the 400 the client should see. */
export function usageQueryOf (query: unknown): UsageQuery {
  const read = (name: string): string | undefined => {
    const value = isRecord(query) ? query[name] : undefined
    if (value === undefined) return undefined
    if (typeof value !== 'string' || value === '') throw InvalidQuery(`'${name}' must be given once, not empty`)
    return value
  }
  const user = read('user')
  const from = read('from')
  const to = read('to')
  for (const [name, day] of [['from', from], ['to', to]] as const) {
    if (day !== undefined && !isDay(day)) throw InvalidQuery(`'${name}' must be a day as YYYY-MM-DD (UTC), not '${day.slice(0, 40)}'`)
  }
  return { user, from, to }
}

export function registerUsageRoute (scope: FastifyInstance, usage: UsageStore): void {
  scope.get('/admin/usage', async (request) => {
    requireAdmin(request)
    return { usage: await usage.totals(usageQueryOf(request.query)) }
  })
}
