/** Every Symbol berry hangs on Fastify objects, in one place. */

/** The authenticated caller (`BerryUser`), set by the auth hook. */
export const kUser = Symbol('berry.user')
/** The proxied request's routing state (`RouteState`), set by the preHandler. */
export const kRoute = Symbol('berry.route')
/**
 * Per-request accounting mark (request-log.ts): 0 before the proxied route
 * took the request, performance.now() while it is in flight, -1 once logged.
 */
export const kAccounting = Symbol('berry.accounting')
