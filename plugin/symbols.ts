/** Every Symbol berry hangs on Fastify objects, in one place. */

/** The authenticated caller (`BerryUser`), set by the auth hook. */
export const kUser = Symbol('berry.user')
/** The proxied request's routing state (`RouteState`), set by the preHandler. */
export const kRoute = Symbol('berry.route')
