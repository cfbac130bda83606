/**
 * The dialog layer over a SipStack: it takes the stack's request and ACK
 * hooks, routes requests that carry a To tag to their dialog by (Call-ID,
 * local tag, remote tag) and answers 481 when there is none (RFC 3261
 * §12.2.2), hands out-of-dialog requests to `onNewRequest`, and sends
 * requests and ACKs on behalf of dialogs. `counts()` is for metrics and leak tests.
 */
import type { SipRequest } from "../message.js";
import { randomToken } from "../random.js";
import { numericTarget } from "../resolver.js";
import type { SipStack } from "../sip-stack.js";
import type { ClientTransactionUser } from "../transaction/client.js";
import { newBranch } from "../transaction/keys.js";
import type { AnyServerTransaction } from "../transaction/table.js";
import type { Endpoint, TransportProtocol } from "../transport/types.js";
import { isSipUri, type Uri } from "../uri.js";
import type { Dialog, DialogHost } from "./dialog.js";
import { dialogId } from "./dialog-state.js";
import { DEFAULT_SESSION_TIMER, type SessionTimerConfig } from "./session-timer.js";

export type ReliableProvisionalPolicy = "supported" | "required" | "never";

export interface DialogLayerOptions {
  /** Session-timer preferences (RFC 4028); Min-SE never goes below 90. */
  sessionTimer?: Partial<SessionTimerConfig>;
  /** When our 18x go reliably (RFC 3262): when the UAC supports 100rel (default), only when it requires it, or never. */
  reliableProvisionals?: ReliableProvisionalPolicy;
  /** Random source for glare delays and the like (tests make it deterministic). */
  random?: () => number;
}

export interface DialogCounts {
  total: number;
  early: number;
  confirmed: number;
  uac: number;
  uas: number;
}

export class DialogLayer implements DialogHost {
  private readonly dialogs = new Map<string, Dialog>();
  /** Requests outside any dialog (no To tag): the application's. */
  onNewRequest: ((tx: AnyServerTransaction) => void) | undefined;
  readonly sessionTimer: SessionTimerConfig;
  readonly random: () => number;
  readonly reliableProvisionals: ReliableProvisionalPolicy;

  constructor(
    readonly stack: SipStack,
    opts: DialogLayerOptions = {},
  ) {
    this.sessionTimer = { ...DEFAULT_SESSION_TIMER, ...opts.sessionTimer };
    this.sessionTimer.minSE = Math.max(90, this.sessionTimer.minSE);
    this.random = opts.random ?? Math.random;
    this.reliableProvisionals = opts.reliableProvisionals ?? "supported";
    stack.onRequest = (tx) => this.handleRequest(tx);
    stack.onAck = (ack) => this.handleAck(ack);
  }

  get clock() {
    return this.stack.clock;
  }
  get timers() {
    return this.stack.timers;
  }

  // ---- registry ------------------------------------------------------------

  add(dialog: Dialog): void {
    this.dialogs.set(dialog.id, dialog);
  }

  forget(dialog: Dialog): void {
    if (this.dialogs.get(dialog.id) === dialog) this.dialogs.delete(dialog.id);
  }

  find(callId: string, localTag: string, remoteTag: string): Dialog | undefined {
    return this.dialogs.get(dialogId(callId, localTag, remoteTag));
  }

  all(): Dialog[] {
    return [...this.dialogs.values()];
  }

  counts(): DialogCounts {
    const c: DialogCounts = { total: 0, early: 0, confirmed: 0, uac: 0, uas: 0 };
    for (const d of this.dialogs.values()) {
      c.total++;
      if (d.state === "early") c.early++;
      else if (d.state === "confirmed") c.confirmed++;
      c[d.type]++;
    }
    return c;
  }

  /** Ends every dialog without signalling (process shutdown). */
  clear(): void {
    for (const d of [...this.dialogs.values()]) d.terminate({ reason: "shutdown" });
  }

  // ---- inbound -------------------------------------------------------------

  private handleRequest(tx: AnyServerTransaction): void {
    const req = tx.request;
    const toTag = req.to?.params.tag;
    if (toTag) {
      const fromTag = req.from?.params.tag ?? "";
      const dialog = this.find(req.callId!, toTag, fromTag);
      if (!dialog) {
        tx.reply(481);
        return;
      }
      dialog.handleRequest(tx);
      return;
    }
    if (!this.onNewRequest) {
      tx.reply(503, { reason: "No Request Handler" });
      return;
    }
    this.onNewRequest(tx);
  }

  private handleAck(ack: SipRequest): void {
    const toTag = ack.to?.params.tag;
    const fromTag = ack.from?.params.tag;
    if (!toTag || !fromTag) return;
    this.find(ack.callId!, toTag, fromTag)?.receiveAck(ack);
  }

  // ---- outbound ------------------------------------------------------------

  /** New Call-ID: 128 random bits at our host. */
  newCallId(): string {
    return `${randomToken(12)}@${this.localHost()}`;
  }

  localHost(): string {
    const t = this.stack.transport("UDP") ?? this.stack.transport("TCP");
    const sentBy = t?.sentBy ?? "127.0.0.1";
    const colon = sentBy.lastIndexOf(":");
    return sentBy.startsWith("[") ? sentBy.slice(0, sentBy.indexOf("]") + 1) : sentBy.slice(0, colon);
  }

  contactFor(protocol: TransportProtocol): string {
    try {
      return this.stack.contactUri(protocol);
    } catch {
      return this.stack.contactUri("UDP");
    }
  }

  /** The endpoint of a URI with a numeric host, else undefined (DNS needed). */
  endpointOf(uri: Uri): Endpoint | undefined {
    return isSipUri(uri) ? numericTarget(uri) : undefined;
  }

  private destinationOf(dialog: Dialog): Endpoint | undefined {
    return this.endpointOf(dialog.state0.nextHop()) ?? dialog.peer;
  }

  send(dialog: Dialog, req: SipRequest, user: ClientTransactionUser): void {
    const fail = (err: unknown) => {
      const e = err instanceof Error ? err : new Error(String(err));
      user.onTransportError?.(e);
      user.onTerminated?.("transport-error");
    };
    try {
      const dest = this.destinationOf(dialog);
      if (dest) this.stack.request(req, dest, user);
      else {
        const hop = dialog.state0.nextHop();
        this.stack.requestTo(req, user, isSipUri(hop) ? hop : undefined).catch(fail);
      }
    } catch (err) {
      fail(err);
    }
  }

  sendAck(dialog: Dialog, ack: SipRequest): void {
    const dest = this.destinationOf(dialog);
    if (!dest) return;
    const transport = this.stack.transport(dest.protocol);
    if (!transport) return;
    ack.addHeader(
      "Via",
      `SIP/2.0/${transport.protocol} ${transport.sentBy};branch=${newBranch()};rport`,
      "first",
    );
    if (!ack.hasHeader("max-forwards")) ack.addHeader("Max-Forwards", "70");
    try {
      this.stack.sendStateless(ack, dest);
    } catch {
      // no route for the ACK: the peer's 2xx retransmissions will time out and it will BYE
    }
  }
}
