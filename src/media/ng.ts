/**
 * A small typed client for rtpengine's ng control protocol: `<cookie> <bencoded dict>`
 * over UDP, one fresh cookie per request (rtpengine caches replies by cookie, so a
 * reused cookie would return a stale answer), a per-request timeout.
 */
import { randomBytes } from "node:crypto";
import { createSocket, type Socket } from "node:dgram";
import { type BValue, bdecode, bencode } from "./bencode.js";
import { MediaEngineError } from "./engine.js";

export type NgDict = { [key: string]: BValue };

export interface NgReply extends NgDict {
  result: string;
}

interface Pending {
  resolve(reply: NgReply): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export class NgClient {
  private socket: Socket | undefined;
  private readonly pending = new Map<string, Pending>();
  private ready: Promise<Socket> | undefined;

  constructor(
    readonly host: string,
    readonly port: number,
    readonly timeoutMs: number,
  ) {}

  private open(): Promise<Socket> {
    this.ready ??= new Promise<Socket>((resolve, reject) => {
      const s = createSocket({ type: this.host.includes(":") ? "udp6" : "udp4" });
      s.on("message", (msg) => this.onMessage(msg));
      // An ICMP port-unreachable can surface as an error on a connected socket; the timeout reports it.
      s.on("error", () => {});
      s.once("error", reject);
      s.bind(0, () => {
        this.socket = s;
        resolve(s);
      });
    });
    return this.ready;
  }

  private onMessage(msg: Buffer): void {
    const sp = msg.indexOf(0x20);
    if (sp <= 0) return;
    const cookie = msg.toString("latin1", 0, sp);
    const p = this.pending.get(cookie);
    if (!p) return; // a late reply to a request we gave up on
    this.pending.delete(cookie);
    clearTimeout(p.timer);
    try {
      const value = bdecode(msg.subarray(sp + 1));
      if (typeof value !== "object" || Array.isArray(value) || typeof value.result !== "string")
        throw new Error("reply is not a dict with a result");
      p.resolve(value as NgReply);
    } catch (e) {
      p.reject(new MediaEngineError("engine-error", `unreadable ng reply: ${String(e)}`, { cause: e }));
    }
  }

  /** Sends one command; resolves with the reply (including result=error, which the caller judges). */
  async request(command: string, args: NgDict = {}): Promise<NgReply> {
    const socket = await this.open();
    const cookie = randomBytes(8).toString("hex");
    const body = bencode({ ...args, command });
    const packet = Buffer.concat([Buffer.from(`${cookie} `), body]);
    return new Promise<NgReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(cookie);
        reject(
          new MediaEngineError(
            "unreachable",
            `rtpengine at ${this.host}:${this.port} did not answer '${command}' within ${this.timeoutMs} ms`,
          ),
        );
      }, this.timeoutMs);
      this.pending.set(cookie, { resolve, reject, timer });
      socket.send(packet, this.port, this.host, (err) => {
        if (!err) return;
        this.pending.delete(cookie);
        clearTimeout(timer);
        reject(new MediaEngineError("unreachable", `ng send to ${this.host}:${this.port}: ${err.message}`));
      });
    });
  }

  async ping(): Promise<boolean> {
    const r = await this.request("ping");
    return r.result === "pong";
  }

  close(): void {
    for (const [cookie, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new MediaEngineError("closed", "ng client closed"));
      this.pending.delete(cookie);
    }
    this.socket?.close();
    this.socket = undefined;
    this.ready = undefined;
  }
}
