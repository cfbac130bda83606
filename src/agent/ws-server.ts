/**
 * The DSIP WebSocket endpoint. A connection proves its DID by signing the
 * server's challenge (DID-Auth); from then on it is that DID's live presence and
 * receives what is routed to the DID. Messages for an offline DID go to the relay
 * store, sealed to the recipient, and are delivered in order on its next connect.
 */
import type { Server as HttpServer, IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { type RawData, type WebSocket, WebSocketServer } from "ws";
import { type MessageAcceptor, unixNow } from "./acceptance.js";
import type { DidDocumentSource } from "./did-resolution.js";
import {
  AuthRequiredError,
  BadChallengeError,
  CalleeUnavailableError,
  DsipError,
  FromMismatchError,
  MalformedJsonError,
  toDsipError,
} from "./errors.js";
import { newMessageId, newNonce } from "./ids.js";
import { type AgentLogger, silentLogger } from "./logger.js";
import type { DsipMessage, MessageOf } from "./messages.js";
import type { PresenceStore } from "./presence.js";
import type { PushNotifier } from "./relay-push.js";
import { recipientX25519Key, sealEnvelope } from "./relay-sealing.js";
import type { RelayStore } from "./relay-store.js";
import type { Identity } from "./wallet.js";

export interface DsipServerOptions {
  identity: Identity;
  acceptor: MessageAcceptor;
  documents: DidDocumentSource;
  presence: PresenceStore;
  relay?: RelayStore;
  push?: PushNotifier;
  logger?: AgentLogger;
  /** Frames above this close the connection (1009); protects memory. Smaller frames that
   * exceed the acceptor's maxMessageBytes are refused with 413 and the connection stays. */
  hardFrameLimitBytes?: number;
  heartbeatMs?: number;
  authTimeoutMs?: number;
  /** Bad messages tolerated per minute before the connection is closed. */
  maxBadMessagesPerMinute?: number;
  /** A connection whose send buffer exceeds this is treated as unreachable (relay instead). */
  maxBufferedBytes?: number;
  /** How long an envelope waits at the relay. */
  relayTtlSeconds?: number;
  /** Messages addressed to a target the gateway itself serves (PSTN numbers…). */
  localTarget?: (to: string) => boolean;
  onLocalMessage?: (message: DsipMessage) => void;
}

interface Connection {
  readonly ws: WebSocket;
  readonly nonce: string;
  did?: string;
  alive: boolean;
  badTimes: number[];
  /** Frames of one connection are handled one after another, so their order holds. */
  queue: Promise<void>;
  /** Frames received and not yet handled; past a bound the socket stops being read. */
  pending: number;
}

const PAUSE_ABOVE_PENDING = 64;
const RESUME_BELOW_PENDING = 16;

const CLOSE_POLICY = 1008;

export class DsipServer {
  private readonly wss: WebSocketServer;
  private readonly options: Required<
    Pick<
      DsipServerOptions,
      | "hardFrameLimitBytes"
      | "heartbeatMs"
      | "authTimeoutMs"
      | "maxBadMessagesPerMinute"
      | "maxBufferedBytes"
      | "relayTtlSeconds"
    >
  >;
  private readonly live = new Map<string, Set<Connection>>();
  private readonly connections = new Map<WebSocket, Connection>();
  private readonly log: AgentLogger;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(private readonly config: DsipServerOptions) {
    this.options = {
      hardFrameLimitBytes: config.hardFrameLimitBytes ?? 1024 * 1024,
      heartbeatMs: config.heartbeatMs ?? 30_000,
      authTimeoutMs: config.authTimeoutMs ?? 10_000,
      maxBadMessagesPerMinute: config.maxBadMessagesPerMinute ?? 20,
      maxBufferedBytes: config.maxBufferedBytes ?? 1024 * 1024,
      relayTtlSeconds: config.relayTtlSeconds ?? 7 * 24 * 3600,
    };
    this.log = config.logger ?? silentLogger;
    this.wss = new WebSocketServer({ noServer: true, maxPayload: this.options.hardFrameLimitBytes });
    this.wss.on("connection", (ws) => this.onConnection(ws));
    this.heartbeat = setInterval(() => this.checkHeartbeats(), this.options.heartbeatMs);
    this.heartbeat.unref();
  }

  /** Serves the endpoint on an HTTP server's upgrade requests for `path`. */
  attach(server: HttpServer, path = "/dsip"): void {
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = new URL(req.url ?? "/", "http://localhost");
      if (url.pathname !== path) {
        socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n");
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.wss.emit("connection", ws, req));
    });
  }

  /**
   * Targets the gateway answers itself (its own DID, the numbers it serves):
   * accepted messages for them go to `onMessage` instead of being routed.
   * Set once the application side (the B2BUA) is up.
   */
  serveLocal(isLocal: (to: string) => boolean, onMessage: (message: DsipMessage) => void): void {
    this.config.localTarget = isLocal;
    this.config.onLocalMessage = onMessage;
  }

  /**
   * Signs `message` as `as` (the gateway, or one of the identities it speaks
   * for) and delivers it like any routed message: to the live connections of
   * `to`, else sealed at the relay. Rejects with a DsipError (e.g. 480 when
   * offline and no relay) so the caller can answer its own side.
   */
  async sendAs(as: Identity, message: object): Promise<void> {
    await this.route(as.signer.sign(message) as DsipMessage);
  }

  isOnline(did: string): boolean {
    return (this.live.get(did)?.size ?? 0) > 0;
  }

  get connectionCount(): number {
    return this.wss.clients.size;
  }

  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    for (const ws of this.wss.clients) ws.close(1001, "gateway shutting down");
    // A peer that does not finish the close handshake (not reading) must not hold the shutdown.
    const force = setTimeout(() => {
      for (const ws of this.wss.clients) ws.terminate();
    }, 1000);
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    clearTimeout(force);
  }

  private onConnection(ws: WebSocket): void {
    const conn: Connection = {
      ws,
      nonce: newNonce(),
      alive: true,
      badTimes: [],
      queue: Promise.resolve(),
      pending: 0,
    };
    ws.on("pong", () => {
      conn.alive = true;
    });
    ws.on("message", (data, isBinary) => {
      conn.alive = true;
      if (++conn.pending === PAUSE_ABOVE_PENDING) ws.pause();
      conn.queue = conn.queue
        .then(() => this.onFrame(conn, data, isBinary))
        .catch((err: unknown) => this.log.error({ err }, "dsip: unexpected failure handling a frame"))
        .finally(() => {
          if (--conn.pending === RESUME_BELOW_PENDING && ws.isPaused) ws.resume();
        });
    });
    this.connections.set(ws, conn);
    ws.on("close", () => {
      this.connections.delete(ws);
      this.unregister(conn);
    });
    ws.on("error", (err) => this.log.debug({ err: err.message }, "dsip: socket error"));
    const authTimer = setTimeout(() => {
      if (!conn.did) ws.close(CLOSE_POLICY, "DID-Auth timeout");
    }, this.options.authTimeoutMs);
    authTimer.unref();
    ws.once("close", () => clearTimeout(authTimer));
    this.send(
      conn,
      this.sign({
        type: "dsip.challenge",
        id: newMessageId(),
        ts: unixNow(),
        from: this.config.identity.did,
        nonce: conn.nonce,
      }),
    );
  }

  private async onFrame(conn: Connection, data: RawData, isBinary: boolean): Promise<void> {
    let message: DsipMessage;
    try {
      if (isBinary) throw new MalformedJsonError("binary frames are not DSIP");
      message = await this.config.acceptor.acceptFrame(frameBytes(data));
      await this.handle(conn, message);
    } catch (err) {
      this.refuse(conn, toDsipError(err), frameBytes(data));
    }
  }

  private async handle(conn: Connection, message: DsipMessage): Promise<void> {
    if (!conn.did) {
      if (message.type !== "dsip.auth") throw new AuthRequiredError();
      if (message.nonce !== conn.nonce || message.to !== this.config.identity.did)
        throw new BadChallengeError();
      this.register(conn, message.from, message.id);
      return;
    }
    if (message.from !== conn.did) throw new FromMismatchError();
    const gateway = this.config.identity.did;
    switch (message.type) {
      case "dsip.auth":
        throw new BadChallengeError("already authenticated");
      case "dsip.ping":
        if (message.to === undefined || message.to === gateway) {
          this.send(
            conn,
            this.sign({
              type: "dsip.ping",
              id: newMessageId(),
              ts: unixNow(),
              from: gateway,
              to: conn.did,
              correlates: message.id,
            }),
          );
          return;
        }
        break;
      case "dsip.presence":
        await this.config.presence.put(message, unixNow());
        return;
      case "dsip.receipt":
        if (message.to === gateway) {
          this.config.relay?.acknowledge(conn.did, message.for);
          return;
        }
        break;
      case "dsip.challenge":
      case "dsip.authOk":
        throw new BadChallengeError("a gateway-only message");
    }
    await this.route(message);
  }

  /** Delivers to every live connection of each `to`, or stores for the offline ones. */
  private async route(message: DsipMessage): Promise<void> {
    const to = (message as { to?: string | string[] }).to;
    if (to === undefined) throw new CalleeUnavailableError("no `to`");
    const targets = Array.isArray(to) ? to : [to];
    const frame = JSON.stringify(message);
    let firstFailure: unknown;
    for (const target of targets) {
      if (this.config.localTarget?.(target)) {
        this.config.onLocalMessage?.(message);
        continue;
      }
      if (this.deliverLive(target, frame)) continue;
      // One unreachable recipient must not cost the others their copy.
      await this.store(message, target).catch((err: unknown) => {
        firstFailure ??= err;
      });
    }
    if (firstFailure !== undefined) throw firstFailure;
  }

  private deliverLive(did: string, frame: string): boolean {
    let delivered = false;
    for (const conn of this.live.get(did) ?? []) {
      if (this.send(conn, frame)) delivered = true;
    }
    return delivered;
  }

  private async store(message: DsipMessage, target: string): Promise<void> {
    const relay = this.config.relay;
    if (!relay) throw new CalleeUnavailableError("offline and no relay");
    const now = unixNow();
    let envelope: MessageOf<"dsip.envelope.v1">;
    if (message.type === "dsip.envelope.v1" && message.to === target) {
      envelope = message;
    } else {
      const doc = await this.config.documents.resolveDocument(target).catch((err: unknown) => {
        throw new CalleeUnavailableError(`cannot resolve ${target}: ${toDsipError(err).reason}`);
      });
      const key = recipientX25519Key(doc);
      if (!key) throw new CalleeUnavailableError("recipient has no key agreement key");
      const exp = Math.min(message.exp ?? Number.MAX_SAFE_INTEGER, now + this.options.relayTtlSeconds);
      envelope = sealEnvelope(this.config.identity, message, target, key, exp, now);
    }
    relay.put(envelope, now);
    this.log.info(
      { envelope: envelope.id, size: JSON.stringify(envelope).length },
      "dsip: stored for an offline recipient",
    );
    this.config.push?.notify(envelope.id);
    // The recipient may have connected while we resolved its document.
    if (this.isOnline(target)) this.flushRelay(target);
  }

  private register(conn: Connection, did: string, authId: string): void {
    conn.did = did;
    let set = this.live.get(did);
    if (!set) {
      set = new Set();
      this.live.set(did, set);
    }
    set.add(conn);
    const queued = this.config.relay?.count(did, unixNow()) ?? 0;
    this.send(
      conn,
      this.sign({
        type: "dsip.authOk",
        id: newMessageId(),
        ts: unixNow(),
        from: this.config.identity.did,
        to: did,
        correlates: authId,
        queued,
      }),
    );
    this.log.info({ did, queued }, "dsip: connection authenticated");
    this.flushRelay(did, conn);
  }

  /** Sends the stored envelopes in order; they stay stored until acknowledged. */
  private flushRelay(did: string, only?: Connection): void {
    const relay = this.config.relay;
    if (!relay) return;
    const targets = only ? [only] : [...(this.live.get(did) ?? [])];
    for (const stored of relay.pending(did, unixNow())) {
      const frame = JSON.stringify(stored.envelope);
      for (const conn of targets) this.send(conn, frame);
    }
  }

  private unregister(conn: Connection): void {
    if (!conn.did) return;
    const set = this.live.get(conn.did);
    set?.delete(conn);
    if (set && set.size === 0) this.live.delete(conn.did);
    this.log.info({ did: conn.did }, "dsip: connection closed");
  }

  private refuse(conn: Connection, error: DsipError, data: Buffer): void {
    const now = Date.now();
    conn.badTimes = conn.badTimes.filter((t) => now - t < 60_000);
    conn.badTimes.push(now);
    const flood = conn.badTimes.length > this.options.maxBadMessagesPerMinute;
    const reply = flood ? new DsipError("tooManyErrors") : error;
    this.send(
      conn,
      this.sign({
        type: "dsip.error",
        id: newMessageId(),
        ts: unixNow(),
        from: this.config.identity.did,
        ...(conn.did ? { to: conn.did } : {}),
        ...correlationOf(data),
        code: reply.code,
        reason: reply.reason,
        ...(reply.detail ? { detail: reply.detail.slice(0, 200) } : {}),
      }),
    );
    this.log.debug({ did: conn.did, code: reply.code, reason: reply.reason }, "dsip: message refused");
    if (flood) conn.ws.close(CLOSE_POLICY, "too many bad messages");
  }

  private sign(message: object): string {
    return JSON.stringify(this.config.identity.signer.sign(message));
  }

  /** False when the socket is gone or too far behind (backpressure). */
  private send(conn: Connection, frame: string): boolean {
    if (conn.ws.readyState !== conn.ws.OPEN) return false;
    if (conn.ws.bufferedAmount > this.options.maxBufferedBytes) {
      this.log.warn({ did: conn.did }, "dsip: slow consumer, not sending");
      return false;
    }
    conn.ws.send(frame);
    return true;
  }

  private checkHeartbeats(): void {
    for (const [ws, conn] of this.connections) {
      if (!conn.alive) {
        ws.terminate();
        continue;
      }
      conn.alive = false;
      ws.ping();
    }
  }
}

/** `{correlates: id}` of a refused frame when its id can be read, so the sender can match the error. */
function correlationOf(data: Buffer): { correlates?: string } {
  try {
    const id = (JSON.parse(data.toString("utf8")) as { id?: unknown }).id;
    return typeof id === "string" && id.length > 0 && id.length <= 128 ? { correlates: id } : {};
  } catch {
    return {};
  }
}

function frameBytes(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(new Uint8Array(data));
}
