/**
 * In-process peers for the dialog tests: Srf instances on loopback UDP that
 * share one FakeClock (the network is real, time is not), and a raw UDP peer
 * that lets a test script exactly what a misbehaving or forking far end sends.
 */
import { createSocket, type Socket } from "node:dgram";
import { Srf } from "../../src/sip/app/srf.js";
import type { DialogLayerOptions } from "../../src/sip/dialog/dialog-layer.js";
import type { AnySipMessage, SipRequest } from "../../src/sip/message.js";
import { parseMessage } from "../../src/sip/parser.js";
import { serializeMessage } from "../../src/sip/serializer.js";
import { SipStack } from "../../src/sip/sip-stack.js";
import { FakeClock } from "../../src/sip/timers.js";
import { waitFor } from "./wait.js";

export const SDP_A = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n";
export const SDP_B = "v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40002 RTP/AVP 0\r\n";
export const SDP_C = "v=0\r\no=- 3 3 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40004 RTP/AVP 8\r\n";

export interface Peer {
  srf: Srf;
  stack: SipStack;
  port: number;
  uri: (user?: string) => string;
}

export async function startPeer(clock: FakeClock, opts: DialogLayerOptions = {}, port = 0): Promise<Peer> {
  const stack = new SipStack({
    transports: [{ protocol: "UDP", host: "127.0.0.1", port }],
    clock,
    tryingDelayMs: -1,
  });
  await stack.start();
  const srf = new Srf(stack, { random: () => 0, ...opts });
  const p = stack.transport("UDP")!.local.port;
  return { srf, stack, port: p, uri: (user = "u") => `sip:${user}@127.0.0.1:${p}` };
}

export function newClock(): FakeClock {
  return new FakeClock();
}

/** Waits (real time) for in-flight datagrams to be handled. */
export function settle(ms = 30): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A raw UDP far end: records every message it receives, sends what the test tells it. */
export class RawPeer {
  readonly received: AnySipMessage[] = [];
  private constructor(
    readonly socket: Socket,
    readonly port: number,
  ) {}

  static async start(): Promise<RawPeer> {
    const socket = createSocket("udp4");
    await new Promise<void>((r) => socket.bind(0, "127.0.0.1", () => r()));
    const peer = new RawPeer(socket, socket.address().port);
    socket.on("message", (data) => {
      try {
        peer.received.push(parseMessage(data));
      } catch {
        // ignore garbage
      }
    });
    return peer;
  }

  get uri(): string {
    return `sip:raw@127.0.0.1:${this.port}`;
  }

  send(msg: AnySipMessage, port: number): void {
    this.socket.send(serializeMessage(msg), port, "127.0.0.1");
  }

  requests(method: string): SipRequest[] {
    return this.received.filter((m): m is SipRequest => m.isRequest && m.method === method);
  }

  async waitForRequest(method: string, count = 1, timeoutMs = 2000): Promise<SipRequest> {
    await waitFor(() => this.requests(method).length >= count, timeoutMs, `${count}× ${method}`);
    return this.requests(method)[count - 1]!;
  }

  close(): void {
    this.socket.close();
  }
}
