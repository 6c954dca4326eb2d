/**
 * State-change alerts as the spec's alert script sends them: a POST of
 * `{"text": "..."}`, the shape Slack, Mattermost and Rocket.Chat incoming
 * webhooks take. A webhook URL is itself a secret (Slack's path is the
 * credential), so messages name only its host.
 */
import { deadline, describeError, type Connection } from './client.js'
import type { ProbeResult } from './probe.js'

export interface Change {
  readonly result: ProbeResult
  /** The new state. */
  readonly healthy: boolean
}

export function alertText (change: Change, berryUrl: string): string {
  const { result } = change
  const who = `${result.backend} (${result.model})`
  if (change.healthy) {
    return `✅ Backend recovered: ${who} is healthy again (HTTP ${result.httpStatus ?? '-'}, ${Math.round(result.latencyMs)} ms) [berry ${berryUrl}]`
  }
  const http = result.httpStatus === null ? '' : ` (HTTP ${result.httpStatus})`
  return `🚨 Backend Alert: ${who} is ${result.status}${http}: ${result.detail} [berry ${berryUrl}]`
}

export function webhookHost (webhook: string): string {
  return new URL(webhook).host
}

/** Posts one alert; resolves to an error message, or undefined when the webhook took it. */
export async function postAlert (conn: Connection, webhook: string, text: string): Promise<string | undefined> {
  const limit = deadline(conn)
  try {
    const res = await conn.fetch(webhook, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text }),
      signal: limit.signal
    })
    await res.arrayBuffer().catch(() => undefined)
    return res.ok ? undefined : `HTTP ${res.status}`
  } catch (err) {
    return limit.timedOut() ? `no answer within ${conn.timeoutMs / 1000}s` : describeError(err)
  } finally {
    limit.clear()
  }
}
