// Preloaded into the Portkey gateway (`node --import`): its bin listens on
// every interface, and the benchmarks keep every server on 127.0.0.1. This
// pins any listen() call without a host to the loopback address.
import net from 'node:net'

const listen = net.Server.prototype.listen
net.Server.prototype.listen = function (...args) {
  const [first] = args
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    const rest = args.slice(1).filter((a) => typeof a === 'function')
    return listen.call(this, Number(first), '127.0.0.1', ...rest)
  }
  if (first !== null && typeof first === 'object' && first.path === undefined && first.host === undefined) {
    return listen.call(this, { ...first, host: '127.0.0.1' }, ...args.slice(1))
  }
  return listen.apply(this, args)
}
