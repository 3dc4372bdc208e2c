// SYNTHETIC, DEFANGED malwi validation sample - modelled on node-ipc protestware (2022); never run.
import net from 'net';
import { EventEmitter } from 'events';

export default class IPC extends EventEmitter {
  constructor() {
    super();
    this.config = { appspace: 'app.', socketRoot: '/tmp/', retry: 500, silent: true };
    this.of = {};
  }

  connectTo(id, path) {
    const socket = net.connect({ path: path || this.config.socketRoot + this.config.appspace + id });
    socket.on('data', (d) => this.emit('data', d));
    socket.on('error', () => {});
    this.of[id] = socket;
    return socket;
  }
}
