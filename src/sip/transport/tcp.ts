/** TCP transport: the stream transport over plain `net` sockets. */
import net, { type Server, type Socket } from "node:net";
import { StreamTransport } from "./stream-transport.js";
import type { Endpoint } from "./types.js";

export class TcpTransport extends StreamTransport {
  readonly protocol = "TCP" as const;

  protected createServer(onAccepted: (socket: Socket) => void): Server {
    return net.createServer(onAccepted);
  }

  protected connect(dest: Endpoint, onReady: () => void): Socket {
    return net.connect({ host: dest.host, port: dest.port, localAddress: this.opts.host }, onReady);
  }
}
