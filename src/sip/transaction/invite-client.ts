/**
 * INVITE client transaction, RFC 3261 §17.1.1 as amended by RFC 6026:
 * Calling → Proceeding → Completed (3xx–6xx, we ACK) or Accepted (2xx, the TU
 * ACKs) → Terminated. Timers A (retransmit, UDP), B (give up), D (absorb final
 * retransmits) and M (pass 2xx retransmits up).
 */
import type { SipRequest, SipResponse } from "../message.js";
import { serializeMessage } from "../serializer.js";
import {
  type RetransmitCounters,
  type TerminationReason,
  Transaction,
  type TransactionContext,
} from "./base.js";
import { type ClientTransactionUser, notifyClientEnd } from "./client.js";
import { buildNon2xxAck } from "./derived-requests.js";

export class InviteClientTransaction extends Transaction {
  readonly kind = "invite-client" as const;
  /** The request as sent, for Timer A; dropped with the final response (it would pin a pooled slab). */
  private wire: Buffer | undefined;
  private ackWire: Buffer | undefined;
  private timerA = 0;
  /** A CANCEL waiting for the first provisional response (RFC 3261 §9.1). */
  onFirstProvisional: (() => void) | undefined;
  /** Set once the TU has sent the ACK for a 2xx; re-sent on 2xx retransmissions. */
  sentAck2xx: (() => void) | undefined;

  constructor(
    key: string,
    ctx: TransactionContext,
    counters: RetransmitCounters,
    readonly request: SipRequest,
    private readonly user: ClientTransactionUser,
  ) {
    super(key, ctx, counters, "calling");
    this.wire = serializeMessage(request);
  }

  start(): void {
    if (this.wire) this.transmit(this.wire);
    if (!this.ctx.reliable) {
      this.timerA = this.ctx.timers.t1;
      this.startTimer("A", this.timerA, () => this.fireA());
    }
    this.startTimer("B", this.ctx.timers.transactionTimeout, () => this.terminate("timeout"));
  }

  private fireA(): void {
    if (this.state !== "calling") return;
    this.counters.requestRetransmits++;
    if (this.wire) this.transmit(this.wire);
    this.timerA *= 2;
    this.startTimer("A", this.timerA, () => this.fireA());
  }

  receiveResponse(res: SipResponse): void {
    const status = res.status;
    switch (this.state) {
      case "calling":
      case "proceeding":
        if (status < 200) {
          this.stopTimer("A");
          // Timer B only guards Calling (§17.1.1.2); waiting in Proceeding is the TU's (or Timer C's) business.
          this.stopTimer("B");
          const first = this.state === "calling";
          this.state = "proceeding";
          this.user.onResponse(res);
          if (first && this.onFirstProvisional) {
            const send = this.onFirstProvisional;
            this.onFirstProvisional = undefined;
            send();
          }
        } else if (status < 300) {
          this.stopTimer("A");
          this.stopTimer("B");
          this.wire = undefined;
          this.state = "accepted";
          this.startTimer("M", this.ctx.timers.transactionTimeout, () => this.terminate("normal"));
          this.user.onResponse(res);
        } else {
          this.stopTimer("A");
          this.stopTimer("B");
          this.wire = undefined;
          this.state = "completed";
          this.ackWire = serializeMessage(buildNon2xxAck(this.request, res));
          this.transmit(this.ackWire);
          this.user.onResponse(res);
          this.terminateAfter("D", this.ctx.timers.timerD(this.ctx.reliable));
        }
        return;
      case "completed":
        // A retransmitted final response: the ACK got lost, send it again.
        this.counters.absorbed++;
        if (status >= 300 && this.ackWire) this.transmit(this.ackWire);
        return;
      case "accepted":
        if (status >= 200 && status < 300) {
          this.user.onResponse(res);
          this.sentAck2xx?.();
        } else this.counters.absorbed++;
        return;
      default:
        return;
    }
  }

  /** Final response received (or transaction over): CANCEL makes no sense any more. */
  get hasFinal(): boolean {
    return this.state === "completed" || this.state === "accepted" || this.state === "terminated";
  }

  protected notifyTerminated(reason: TerminationReason, err?: Error): void {
    notifyClientEnd(this.user, reason, err);
  }
}
