/**
 * A DSIP WebSocket client: answers the gateway's DID-Auth challenge, verifies
 * everything it receives, opens relay envelopes addressed to it and acknowledges
 * them, keeps the connection alive with pings and reconnects with backoff.
 */
import { EventEmitter } from "node:events";
import WebSocket from "ws";
import { type MessageAcceptor, unixNow } from "./acceptance.js";
import { DsipError, MalformedJsonError, OversizeError, toDsipError } from "./errors.js";
import { newMessageId } from "./ids.js";
import { type AgentLogger, silentLogger } from "./logger.js";
import type { DsipMessage, MessageOf } from "./messages.js";
import { openEnvelope } from "./relay-sealing.js";
import type { Identity } from "./wallet.js";

export interface DsipClientOptions {
  url: string;
  identity: Identity;
  acceptor: MessageAcceptor;
  reconnect?: boolean;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  heartbeatMs?: number;
  maxPayloadBytes?: number;
  logger?: AgentLogger;
}

export interface Arrival {
  message: DsipMessage;
  /** Set when the message waited at the relay: the id of its envelope. */
  envelopeId?: string;
}

/** Fields the client fills in when the caller leaves them out. */
export type Outgoing = Record<string, unknown> & { type: string };

export interface DsipClientEvents {
  ready: [authOk: MessageOf<"dsip.authOk">];
  message: [arrival: Arrival];
  /** The gateway refused something this client sent. */
  refused: [error: MessageOf<"dsip.error">];
  /** Something arrived that does not pass the acceptance checks. */
  invalid: [error: DsipError];
  disconnected: [code: number, reason: string];
}

const TRANSIENT = new Set(["resolutionFailed", "resolutionTimeout", "internal"]);

export class DsipClient extends EventEmitter<DsipClientEvents> {
  gatewayDid: string | undefined;
  private ws: WebSocket | undefined;
  private ready = false;
  private closing = false;
  private attempt = 0;
  private heartbeat: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private alive = true;
  private queue: Promise<void> = Promise.resolve();
  private readonly log: AgentLogger;

  constructor(private readonly options: DsipClientOptions) {
    super();
    this.log = options.logger ?? silentLogger;
  }

  get did(): string {
    return this.options.identity.did;
  }

  get isReady(): boolean {
    return this.ready;
  }

  /** Connects and resolves once authenticated; with reconnect off, rejects if that fails. */
  start(timeoutMs = 10_000): Promise<MessageOf<"dsip.authOk">> {
    this.closing = false;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no DID-Auth with ${this.options.url} within ${timeoutMs} ms`));
      }, timeoutMs);
      const onReady = (ok: MessageOf<"dsip.authOk">) => {
        cleanup();
        resolve(ok);
      };
      const onDisconnected = (code: number, reason: string) => {
        if (this.options.reconnect !== false) return;
        cleanup();
        reject(new Error(`connection closed before DID-Auth (${code} ${reason})`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        this.off("ready", onReady);
        this.off("disconnected", onDisconnected);
      };
      this.on("ready", onReady);
      this.on("disconnected", onDisconnected);
      this.connect();
    });
  }

  /** Signs and sends; fills `id`, `ts` and `from` when absent. Returns the signed message. */
  send(message: Outgoing): DsipMessage {
    const signed = this.options.identity.signer.sign({
      id: newMessageId(),
      ts: unixNow(),
      from: this.did,
      ...message,
    }) as unknown as DsipMessage;
    this.sendRaw(JSON.stringify(signed));
    return signed;
  }

  /** Sends a frame as is (used by tests to send bad input). */
  sendRaw(frame: string | Buffer): void {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) throw new Error("not connected");
    this.ws.send(frame);
  }

  /** Resolves when the gateway has handled everything sent before (it answers pings in order). */
  async flush(timeoutMs = 5000): Promise<void> {
    const ping = this.send({ type: "dsip.ping" });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off("message", onMessage);
        reject(new Error("no answer to ping"));
      }, timeoutMs);
      const onMessage = (arrival: Arrival) => {
        const m = arrival.message;
        if (m.type === "dsip.ping" && m.correlates === ping.id) {
          clearTimeout(timer);
          this.off("message", onMessage);
          resolve();
        }
      };
      this.on("message", onMessage);
    });
  }

  close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.heartbeat);
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const force = setTimeout(() => ws.terminate(), 1000);
      ws.once("close", () => {
        clearTimeout(force);
        resolve();
      });
      ws.close(1000, "bye");
    });
  }

  private connect(): void {
    const ws = new WebSocket(this.options.url, { maxPayload: this.options.maxPayloadBytes ?? 1024 * 1024 });
    this.ws = ws;
    this.ready = false;
    this.alive = true;
    ws.on("message", (data, isBinary) => {
      this.alive = true;
      const frame = Buffer.isBuffer(data)
        ? data
        : Array.isArray(data)
          ? Buffer.concat(data)
          : Buffer.from(new Uint8Array(data));
      this.queue = this.queue
        .then(() => this.onFrame(frame, isBinary))
        .catch((err: unknown) => this.log.error({ err }, "dsip client: failure handling a frame"));
    });
    ws.on("pong", () => {
      this.alive = true;
    });
    ws.on("error", (err) => this.log.debug({ err: err.message }, "dsip client: socket error"));
    ws.on("close", (code, reason) => {
      clearInterval(this.heartbeat);
      this.ready = false;
      this.emit("disconnected", code, reason.toString());
      if (!this.closing && this.options.reconnect !== false) this.scheduleReconnect();
    });
    clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => {
      if (ws.readyState !== WebSocket.OPEN) return;
      if (!this.alive) {
        ws.terminate();
        return;
      }
      this.alive = false;
      ws.ping();
    }, this.options.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
  }

  private scheduleReconnect(): void {
    const min = this.options.minBackoffMs ?? 250;
    const max = this.options.maxBackoffMs ?? 10_000;
    const base = Math.min(max, min * 2 ** this.attempt);
    const delay = base / 2 + Math.random() * (base / 2);
    this.attempt++;
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private async onFrame(frame: Buffer, isBinary: boolean): Promise<void> {
    let message: DsipMessage;
    try {
      if (isBinary) throw new MalformedJsonError("binary frame");
      if (frame.length > this.options.acceptor.maxMessageBytes) throw new OversizeError();
      let value: unknown;
      try {
        value = JSON.parse(frame.toString("utf8"));
      } catch {
        throw new MalformedJsonError("not JSON");
      }
      // Only an envelope may carry an old `ts`: it waited at the relay.
      const relayed = (value as { type?: unknown } | null)?.type === "dsip.envelope.v1";
      message = await this.options.acceptor.accept(value, { storedAndForwarded: relayed });
    } catch (err) {
      this.emit("invalid", toDsipError(err));
      return;
    }
    switch (message.type) {
      case "dsip.challenge":
        this.gatewayDid = message.from;
        this.ws?.send(
          JSON.stringify(
            this.options.identity.signer.sign({
              type: "dsip.auth",
              id: newMessageId(),
              ts: unixNow(),
              from: this.did,
              to: message.from,
              nonce: message.nonce,
            }),
          ),
        );
        return;
      case "dsip.authOk":
        this.ready = true;
        this.attempt = 0;
        this.emit("ready", message);
        return;
      case "dsip.error":
        if (message.from === this.gatewayDid) {
          this.emit("refused", message);
          return;
        }
        break;
      case "dsip.envelope.v1":
        if (message.to === this.did) {
          await this.openRelayed(message);
          return;
        }
        break;
    }
    this.emit("message", { message });
  }

  private async openRelayed(envelope: MessageOf<"dsip.envelope.v1">): Promise<void> {
    let acknowledge = true;
    try {
      const inner = await this.options.acceptor.accept(openEnvelope(this.options.identity, envelope), {
        storedAndForwarded: true,
      });
      this.emit("message", { message: inner, envelopeId: envelope.id });
    } catch (err) {
      const error = err instanceof DsipError ? err : new DsipError("schema", "envelope does not open");
      // A redelivered envelope whose message we already handled is done; a
      // resolution hiccup is not, so it stays at the relay for next time.
      acknowledge = !TRANSIENT.has(error.kind);
      if (error.kind !== "replay") this.emit("invalid", error);
    }
    if (acknowledge && this.gatewayDid) {
      this.send({ type: "dsip.receipt", to: this.gatewayDid, for: envelope.id, kind: "delivered" });
    }
  }
}
