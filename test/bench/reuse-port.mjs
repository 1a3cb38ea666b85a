// Preloaded (`node --import`) into each process of launcher.mjs's reuseport
// sharing: every TCP listen of the process asks for SO_REUSEPORT (listen's
// reusePort, Node >= 22.12 / 23.1), so N processes bind one port and the
// kernel spreads new connections over their sockets. This stands in for a
// reusePort flag the gateway does not have; the launcher refuses older nodes,
// which would ignore the option. Once the process listens, it tells the
// launcher over the IPC channel.
import net from 'node:net'

const listen = net.Server.prototype.listen

net.Server.prototype.listen = function (...args) {
  const [first] = args
  if (typeof first === 'object' && first !== null && !Array.isArray(first) && first.path === undefined) {
    // fastify: listen({ host, port, … })
    args[0] = { ...first, reusePort: true }
  } else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    // node:http style: listen(port[, host][, backlog][, callback])
    const rest = args.slice(1)
    const host = typeof rest[0] === 'string' ? rest.shift() : undefined
    const backlog = typeof rest[0] === 'number' ? rest.shift() : undefined
    args = [{ port: Number(first), host, backlog, reusePort: true }, ...rest]
  }
  this.once('listening', () => process.send?.({ benchListening: true }))
  return listen.apply(this, args)
}
