/** Every Symbol berry uses as a property key, in one place. */

/** The authenticated caller (`BerryUser`), set by the auth hook on the request. */
export const kUser = Symbol('berry.user')
/** The proxied request's routing state (`RouteState`), set by the preHandler. */
export const kRoute = Symbol('berry.route')
/** The request's accounting (`RequestTally`, accounting/request-accounting.ts). */
export const kTally = Symbol('berry.tally')
/**
 * An attempt's control (`AttemptControl`), carried from the handoff to the
 * dispatcher inside the upstream request's headers object (dispatcher.ts).
 */
export const kAttempt = Symbol('berry.attempt')
/** The last successful Bearer lookup of a keep-alive socket (auth.ts). */
export const kAuthCache = Symbol('berry.authCache')
/** The caller's token quota standing (`QuotaStatus`), for the answer's headers (cluster/quota-hook.ts). */
export const kQuota = Symbol('berry.quota')
/** The request's entry in the list of requests in flight (`OpenRequest`, drain.ts). */
export const kOpen = Symbol('berry.open')
