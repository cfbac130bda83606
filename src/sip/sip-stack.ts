/**
 * The SIP stack's face to the layers above: transports + transaction layer.
 *
 *   const stack = new SipStack({ transports: [{ protocol: "UDP", host: "127.0.0.1", port: 5060 }] });
 *   stack.onRequest = (tx) => tx.reply(200);
 *   await stack.start();
 *   const tx = stack.request(createRequest({...}), { protocol: "UDP", host: "127.0.0.1", port: 5070 },
 *     { onResponse: (res) => ... });
 *
 * Inbound path: bytes → parse → validate (bad requests get a stateless 4xx,
 * bad responses are dropped) → received/rport → transaction match → TU.
 */
import type { HeaderList } from "./builder.js";
import { createResponse } from "./builder.js";
import { SipParseError } from "./errors.js";
import type { Via } from "./headers/via.js";
import { type AnySipMessage, type SipMessage, SipRequest, type SipResponse } from "./message.js";
import { DEFAULT_MAX_MESSAGE_SIZE, parseMessage } from "./parser.js";
import { numericTarget, SipResolver } from "./resolver.js";
import { salvageRequest } from "./salvage.js";
import { serializeMessage } from "./serializer.js";
import { type Clock, DEFAULT_TIMER_BASE, systemClock, type TimerBase, TimerValues } from "./timers.js";
import type { RetransmitCounters, Transaction, TransactionContext } from "./transaction/base.js";
import type { ClientTransactionUser } from "./transaction/client.js";
import { build2xxAck, buildCancel } from "./transaction/derived-requests.js";
import { requestWithFailover } from "./transaction/failover.js";
import { InviteClientTransaction } from "./transaction/invite-client.js";
import { InviteServerTransaction } from "./transaction/invite-server.js";
import { clientKey, clientKeyOfResponse, newBranch, serverKey } from "./transaction/keys.js";
import { NonInviteClientTransaction } from "./transaction/non-invite-client.js";
import { NonInviteServerTransaction } from "./transaction/non-invite-server.js";
import {
  type AnyServerTransaction,
  type ClientTransaction,
  type TransactionCounts,
  TransactionTable,
} from "./transaction/table.js";
import { Uas2xxRetransmitter } from "./transaction/uas-2xx-retransmitter.js";
import { type TransportFactory, TransportManager, type TransportSpec } from "./transport/manager.js";
import {
  exceedsUdpLimit,
  reconnectDestination,
  responseDestination,
  stampReceived,
} from "./transport/routing.js";
import {
  type Endpoint,
  type Packet,
  type Transport,
  TransportError,
  type TransportProtocol,
} from "./transport/types.js";
import { isSipUri, type SipUri } from "./uri.js";
import { validateMessage } from "./validate.js";

/** pino-compatible subset; the stack logs only exceptional events, never per message at info. */
export interface SipLogger {
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

const silentLogger: SipLogger = { debug() {}, warn() {} };

export interface SipStackOptions {
  transports: TransportSpec[];
  /** T1/T2/T4 in ms (defaults 500/4000/5000). */
  timers?: Partial<TimerBase>;
  clock?: Clock;
  /** 100 Trying for INVITE after this many ms without a TU response; 0 = at once, -1 = never. Default 200. */
  tryingDelayMs?: number;
  /** Largest message accepted on any transport (default 65,535 octets). */
  maxMessageSize?: number;
  /**
   * Above this many live server transactions new requests get a stateless 503 (default 200,000:
   * answered ones live 32 s on UDP, so 1,500 calls/s from a trunk keep ~100,000).
   */
  maxServerTransactions?: number;
  /**
   * Above this many server transactions from one source IP still awaiting our final response,
   * its new requests get a 503 (default 10,000).
   */
  maxServerTransactionsPerSource?: number;
  /**
   * Requests larger than this that would go over UDP go over TCP instead when a TCP
   * transport exists (RFC 3261 §18.1.1; default 1300 octets).
   */
  udpSizeLimit?: number;
  logger?: SipLogger;
  resolver?: SipResolver;
  /** Builders for transports this module does not construct itself (TLS, WS, WSS). */
  transportFactories?: Partial<Record<TransportProtocol, TransportFactory>>;
}

export interface SipStackStats extends RetransmitCounters {
  /** Responses that matched no client transaction (dropped, RFC 3261 §18.1.2). */
  strayResponses: number;
  /** ACKs that matched neither a transaction nor a pending 2xx (passed to onAck anyway). */
  strayAcks: number;
  /** Messages dropped unparsed (malformed, or a bad response). */
  dropped: number;
  /** Requests refused statelessly (400, 413, 503 …). */
  rejected: number;
}

export interface StackCounts extends TransactionCounts {
  /** 2xx responses still being retransmitted while waiting for their ACK. */
  pending2xx: number;
  /** Open TCP/TLS/WS connections. */
  connections: number;
}

export class SipStack {
  /** A new server transaction: the TU must answer it (tx.reply / tx.respond). */
  onRequest: ((tx: AnyServerTransaction) => void) | undefined;
  /** An ACK for a 2xx (it belongs to the dialog, not to a transaction). */
  onAck: ((ack: SipRequest, source: Endpoint) => void) | undefined;
  onStrayResponse: ((res: SipResponse, source: Endpoint) => void) | undefined;

  readonly stats: SipStackStats = {
    requestRetransmits: 0,
    responseRetransmits: 0,
    absorbed: 0,
    strayResponses: 0,
    strayAcks: 0,
    dropped: 0,
    rejected: 0,
  };
  readonly timers: TimerValues;
  readonly clock: Clock;
  private readonly table = new TransactionTable();
  private readonly transports: TransportManager;
  private readonly uas2xx: Uas2xxRetransmitter;
  private readonly logger: SipLogger;
  private readonly resolver: SipResolver;
  private readonly maxMessageSize: number;
  private readonly onTerminated = (tx: Transaction) => this.table.remove(tx);
  private readonly onFinalResponse = (tx: Transaction) => this.table.answered(tx as AnyServerTransaction);
  private readonly onCallbackError = (err: unknown, tx: Transaction) =>
    this.logger.warn({ err: describe(err), kind: tx.kind }, "transaction user callback threw");

  constructor(private readonly options: SipStackOptions) {
    this.clock = options.clock ?? systemClock;
    this.timers = new TimerValues({ ...DEFAULT_TIMER_BASE, ...options.timers });
    this.logger = options.logger ?? silentLogger;
    this.resolver = options.resolver ?? new SipResolver();
    this.maxMessageSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    this.uas2xx = new Uas2xxRetransmitter(this.clock, this.timers);
    this.transports = new TransportManager(
      options.transports,
      {
        onPacket: (p) => this.handlePacket(p),
        onConnectionError: (remote, err) => this.failTransactionsTo(remote, err),
        onUnframeable: (packet, err) => this.rejectUnparsed(packet, err),
        onWarning: (msg, detail) => this.logger.warn(detail ?? {}, msg),
      },
      this.maxMessageSize,
      options.transportFactories,
    );
  }

  async start(): Promise<void> {
    await this.transports.listen();
  }

  /** Ends every transaction (reason "shutdown"), stops 2xx retransmissions and closes the transports. */
  async close(): Promise<void> {
    for (const tx of this.table.all()) tx.terminate("shutdown");
    this.uas2xx.clear();
    await this.transports.close();
  }

  /** The listening transport for a protocol (the first one, or the one bound to `host`). */
  transport(protocol: TransportProtocol, host?: string): Transport | undefined {
    return this.transports.transports.find(
      (t) => t.protocol === protocol && (host === undefined || t.local.host === host),
    );
  }

  /** A Contact URI that reaches this stack over `protocol`. */
  contactUri(protocol: TransportProtocol, user?: string): string {
    const t = this.transport(protocol);
    if (!t) throw new TransportError(`No ${protocol} transport`);
    const userPart = user ? `${user}@` : "";
    const param = protocol === "UDP" ? "" : `;transport=${protocol.toLowerCase()}`;
    return `sip:${userPart}${t.sentBy}${param}`;
  }

  counts(): StackCounts {
    return {
      ...this.table.counts(),
      pending2xx: this.uas2xx.size,
      connections: this.transports.connectionCount,
    };
  }

  // ---- client side -------------------------------------------------------

  /**
   * Sends a request in a new client transaction. The stack adds the top Via
   * (fresh branch, rport) and Max-Forwards if missing. Throws TransportError
   * when no transport reaches `dest`; later failures reach `user`.
   */
  request(req: SipRequest, dest: Endpoint, user: ClientTransactionUser): ClientTransaction {
    if (req.method === "ACK") throw new TypeError("ACK is sent with ack2xx() or by the transaction itself");
    if (dest.protocol === "UDP" && exceedsUdpLimit(req, this.options.udpSizeLimit ?? 1300)) {
      const tcp: Endpoint = { ...dest, protocol: "TCP" };
      if (this.transports.forDestination(tcp)) dest = tcp;
    }
    const transport = this.requireTransport(dest);
    const branch = newBranch();
    req.addHeader("Via", `SIP/2.0/${transport.protocol} ${transport.sentBy};branch=${branch};rport`, "first");
    if (!req.hasHeader("max-forwards")) req.addHeader("Max-Forwards", "70");
    return this.startClient(req, clientKey(branch, req.method), transport, dest, user);
  }

  /**
   * Like `request`, resolving the destination from the Request-URI (or
   * `target`) per RFC 3263, and failing over to the next resolved endpoint
   * (§4.3) when an attempt gets no response at all (transport error, timeout)
   * or a 503. Each new attempt is a new client transaction, announced through
   * `user.onRetarget` before any of its responses.
   */
  async requestTo(req: SipRequest, user: ClientTransactionUser, target?: SipUri): Promise<ClientTransaction> {
    const uri = target ?? req.uri;
    if (!isSipUri(uri)) throw new TransportError(`Cannot route to ${req.uriText}`);
    const dests = (await this.resolver.resolve(uri)).filter((d) => this.transports.forDestination(d));
    if (dests.length === 0) throw new TransportError(`No transport for ${req.uriText}`);
    return requestWithFailover((dest, u) => this.request(req, dest, u), req, dests, user);
  }

  private startClient(
    req: SipRequest,
    key: string,
    transport: Transport,
    dest: Endpoint,
    user: ClientTransactionUser,
  ): ClientTransaction {
    const ctx = this.context(transport, dest);
    const tx =
      req.method === "INVITE"
        ? new InviteClientTransaction(key, ctx, this.stats, req, user)
        : new NonInviteClientTransaction(key, ctx, this.stats, req, user);
    this.table.addClient(tx);
    tx.start();
    return tx;
  }

  /**
   * CANCELs a pending INVITE (RFC 3261 §9.1): a CANCEL with the INVITE's
   * branch, in its own client transaction whose responses go to `user`. Before
   * any provisional response it is held back until one arrives (§9.1: a CANCEL
   * must not overtake the INVITE), and dropped if a final response comes first.
   * Returns false when the INVITE already has a final response.
   */
  cancel(
    invite: InviteClientTransaction,
    user: ClientTransactionUser = { onResponse() {} },
    extra: HeaderList = [],
  ): boolean {
    if (invite.hasFinal) return false;
    const send = () => {
      const cancel = buildCancel(invite.request, extra);
      const branch = invite.request.topVia!.params.branch!;
      const transport = this.requireTransport(invite.destination);
      this.startClient(cancel, clientKey(branch, "CANCEL"), transport, invite.destination, user);
    };
    if (invite.state === "calling") invite.onFirstProvisional = send;
    else send();
    return true;
  }

  /**
   * Sends the ACK for a 2xx (§13.2.2.4): new branch, Request-URI = the 2xx's
   * Contact, Route = reversed Record-Route. The stack re-sends the same ACK
   * for each retransmission of that 2xx while the transaction is Accepted.
   */
  ack2xx(invite: InviteClientTransaction, res: SipResponse, extra: HeaderList = []): void {
    const { request, nextHop } = build2xxAck(invite.request, res, extra);
    const hop = isSipUri(nextHop) ? numericTarget(nextHop) : undefined;
    // Without a numeric next hop (DNS needed) we fall back to where the INVITE went.
    const dest: Endpoint = hop ? { ...hop, protocol: invite.destination.protocol } : invite.destination;
    const transport = this.requireTransport(dest);
    request.addHeader(
      "Via",
      `SIP/2.0/${transport.protocol} ${transport.sentBy};branch=${newBranch()};rport`,
      "first",
    );
    const wire = serializeMessage(request);
    const send = () =>
      transport.send(dest, wire, (err) => this.logger.debug({ err: err.message }, "ACK send failed"));
    invite.sentAck2xx = send;
    send();
  }

  /** Sends a message outside any transaction (a proxy's stateless forward, a stateless reply). */
  sendStateless(msg: AnySipMessage, dest: Endpoint, onError?: (err: Error) => void): void {
    this.requireTransport(dest).send(dest, serializeMessage(msg), onError);
  }

  private requireTransport(dest: Endpoint): Transport {
    const transport = this.transports.forDestination(dest);
    if (!transport) throw new TransportError(`No ${dest.protocol} transport for ${dest.host}`, dest);
    return transport;
  }

  private context(transport: Transport, destination: Endpoint, via?: Via): TransactionContext {
    return {
      clock: this.clock,
      timers: this.timers,
      reliable: transport.reliable,
      destination,
      send: (data, onError) =>
        transport.send(destination, data, (err) => {
          // §18.2.2: the connection a request came on is gone; try received + sent-by port once.
          if (via && transport.reliable) {
            const retry = reconnectDestination(via, destination);
            if (retry.port !== destination.port) {
              transport.send(retry, data, onError);
              return;
            }
          }
          onError(err);
        }),
      onFinalResponse: this.onFinalResponse,
      onTerminated: this.onTerminated,
      onCallbackError: this.onCallbackError,
    };
  }

  /** A connection to `remote` broke: client transactions still waiting for a final answer from it fail. */
  private failTransactionsTo(remote: Endpoint, err: Error): void {
    for (const tx of [...this.table.client.values()]) {
      const d = tx.destination;
      if (d.protocol !== remote.protocol || d.port !== remote.port || d.host !== remote.host) continue;
      if (tx.state === "calling" || tx.state === "trying" || tx.state === "proceeding") {
        tx.transportFailed(
          new TransportError(`${remote.protocol} connection failed: ${err.message}`, remote, { cause: err }),
        );
      }
    }
  }

  // ---- inbound -----------------------------------------------------------

  private handlePacket(packet: Packet): void {
    let msg: AnySipMessage;
    try {
      msg = parseMessage(packet.data, {
        framing: packet.transport.reliable ? "stream" : "datagram",
        maxMessageSize: this.maxMessageSize,
      });
    } catch (err) {
      this.rejectUnparsed(packet, err);
      return;
    }
    try {
      validateMessage(msg);
    } catch (err) {
      this.rejectInvalid(msg, packet, err);
      return;
    }
    try {
      if (msg instanceof SipRequest) this.handleRequest(msg, packet);
      else this.handleResponse(msg, packet.source);
    } catch (err) {
      // A bug in a TU callback or in here must cost one message, not the process.
      this.logger.warn({ err: describe(err) }, "error while handling a SIP message");
    }
  }

  /** Bytes the parser (or the stream framer) refused: answer from what can be salvaged, else drop. */
  private rejectUnparsed(packet: Packet, err: unknown): void {
    const salvaged = err instanceof SipParseError && !err.drop ? salvageRequest(packet.data) : undefined;
    if (salvaged) {
      this.rejectInvalid(salvaged, packet, err);
      return;
    }
    this.stats.dropped++;
    this.logger.debug({ from: packet.source, err: describe(err) }, "unparseable message dropped");
  }

  private rejectInvalid(msg: AnySipMessage, packet: Packet, err: unknown): void {
    if (!(err instanceof SipParseError) || err.drop || !(msg instanceof SipRequest) || msg.method === "ACK") {
      this.stats.dropped++;
      this.logger.debug({ from: packet.source, err: describe(err) }, "invalid message dropped");
      return;
    }
    this.stats.rejected++;
    let dest = packet.source;
    try {
      const via = msg.topVia;
      if (via) dest = responseDestination(via, packet.source);
    } catch {
      // unreadable Via: answer the source address
    }
    this.replyStateless(msg, err.status, err.reason, packet.transport, dest);
  }

  private replyStateless(
    req: SipRequest,
    status: number,
    reason: string,
    transport: Transport,
    dest: Endpoint,
  ): void {
    try {
      const res = createResponse(req, status, { reason });
      transport.send(dest, serializeMessage(res));
    } catch (err) {
      this.logger.debug({ err: describe(err) }, "stateless response failed");
    }
  }

  private handleRequest(req: SipRequest, packet: Packet): void {
    const via = req.topVia!;
    stampReceived(req, via, packet.source);
    const key = serverKey(req);
    if (key === undefined) return;
    const existing = this.table.server.get(key);
    if (existing) {
      // RFC 6026 §7.1: an ACK matching an INVITE transaction in Accepted is for the TU
      // (RFC 2543 peers, and UAs that reuse the INVITE's branch for the ACK of a 2xx).
      if (req.method === "ACK" && existing.state === "accepted") this.handleAck(req, packet.source);
      else existing.receiveRequest(req);
      return;
    }
    if (req.method === "ACK") {
      this.handleAck(req, packet.source);
      return;
    }
    const dest = responseDestination(via, packet.source);
    if (
      this.table.server.size >= (this.options.maxServerTransactions ?? 200_000) ||
      this.table.serverCountFrom(packet.source.host) >=
        (this.options.maxServerTransactionsPerSource ?? 10_000)
    ) {
      this.stats.rejected++;
      this.replyStateless(req, 503, "Service Unavailable", packet.transport, dest);
      return;
    }
    const toTag = req.to?.params.tag;
    if (toTag) this.uas2xx.dialogConfirmed(req.callId!, toTag);
    const ctx = this.context(packet.transport, dest, via);
    if (req.method === "INVITE") {
      const tx = new InviteServerTransaction(key, ctx, this.stats, req, packet.source, {
        tryingDelayMs: this.options.tryingDelayMs ?? 200,
      });
      if (!packet.transport.reliable) tx.onAccepted = (res) => this.retransmit2xx(tx, res);
      this.table.addServer(tx);
      tx.start();
      this.deliver(tx);
      return;
    }
    const tx = new NonInviteServerTransaction(key, ctx, this.stats, req, packet.source);
    this.table.addServer(tx);
    if (req.method === "CANCEL") this.handleCancel(tx);
    else this.deliver(tx);
  }

  private deliver(tx: AnyServerTransaction): void {
    const handler = this.onRequest;
    if (!handler) {
      tx.reply(503, { reason: "No Request Handler" });
      return;
    }
    try {
      handler(tx);
    } catch (err) {
      this.logger.warn({ err: describe(err), method: tx.request.method }, "request handler threw");
      tx.reply(500, { reason: "Server Internal Error" });
    }
  }

  /** §9.2: 200 to the CANCEL, then 487 to the INVITE unless the TU already answered it. */
  private handleCancel(cancelTx: NonInviteServerTransaction): void {
    const inviteKey = serverKey(cancelTx.request, "INVITE");
    const invite = inviteKey === undefined ? undefined : this.table.server.get(inviteKey);
    if (!(invite instanceof InviteServerTransaction)) {
      cancelTx.reply(481);
      return;
    }
    cancelTx.respond(createResponse(cancelTx.request, 200, { toTag: invite.localTag }));
    if (invite.state !== "proceeding") return;
    invite.cancelled = true;
    try {
      invite.onCancel?.(cancelTx.request);
    } catch (err) {
      this.logger.warn({ err: describe(err) }, "cancel handler threw");
    }
    if (invite.state === "proceeding") invite.reply(487);
  }

  private handleAck(ack: SipRequest, source: Endpoint): void {
    const toTag = ack.to?.params.tag;
    const stopped = toTag != null && this.uas2xx.ack(ack.callId!, toTag, ack.cseq!.seq);
    // Over reliable transports no 2xx is retransmitted, so nothing waits for the ACK.
    if (!stopped && source.protocol === "UDP") this.stats.strayAcks++;
    this.onAck?.(ack, source);
  }

  private retransmit2xx(tx: InviteServerTransaction, res: SipResponse): void {
    this.uas2xx.start(
      tx.request.callId!,
      tx.localTag,
      tx.request.cseq!.seq,
      () => tx.state === "accepted" && tx.respond(res),
      () => this.logger.debug({ callId: tx.request.callId }, "2xx never ACKed"),
    );
  }

  private handleResponse(res: SipResponse, source: Endpoint): void {
    const key = clientKeyOfResponse(res);
    const tx = key === undefined ? undefined : this.table.client.get(key);
    if (!tx) {
      this.stats.strayResponses++;
      this.onStrayResponse?.(res, source);
      return;
    }
    tx.receiveResponse(res);
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export type { SipMessage };
