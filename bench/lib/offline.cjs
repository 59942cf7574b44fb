// Preloaded into a peer that may try to reach the internet (Portkey's gateway): every
// server it opens listens on 127.0.0.1 (loopback.cjs), and every outgoing connection to
// anything but this machine fails at once with an error that says so, on stderr (the
// peer's log), instead of hanging on a network the benchmark machine may not have.
require('./loopback.cjs');
const net = require('node:net');

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost', '::ffff:127.0.0.1']);
const connect = net.Socket.prototype.connect;

net.Socket.prototype.connect = function (...args) {
  const options = typeof args[0] === 'object' && args[0] !== null ? args[0] : { port: args[0], host: args[1] };
  const host = options.host ?? 'localhost';
  if (options.path === undefined && !LOOPBACK.has(String(host))) {
    const error = new Error(`switchboard bench: connection to ${host}:${options.port} refused (loopback only)`);
    process.stderr.write(`${error.message}\n`);
    process.nextTick(() => this.destroy(error));
    return this;
  }
  return connect.apply(this, args);
};
