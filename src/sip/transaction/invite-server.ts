/**
 * INVITE server transaction, RFC 3261 §17.2.1 with RFC 6026: Proceeding →
 * Completed (3xx–6xx) → Confirmed (ACK) → Terminated, or Proceeding → Accepted
 * (2xx) → Terminated. Timers: 100 Trying delay, G (retransmit final, UDP),
 * H (wait for ACK), I (absorb ACKs), L (absorb INVITE retransmits after 2xx).
 */

import { createResponse } from "../builder.js";
import type { SipRequest, SipResponse } from "../message.js";
import type { Endpoint } from "../transport/types.js";
import type { RetransmitCounters, TransactionContext } from "./base.js";
import { ServerTransaction } from "./server.js";

export interface InviteServerOptions {
  /** Send 100 Trying if the TU has not answered within this many ms; 0 = at once, -1 = never. */
  tryingDelayMs: number;
}

export class InviteServerTransaction extends ServerTransaction {
  readonly kind = "invite-server" as const;
  private timerG = 0;
  /** Set by the stack when the request was cancelled, so the TU can tell. */
  cancelled = false;
  /** The stack's hook for the first 2xx: it starts the UAS 2xx retransmission (§13.3.1.4). */
  onAccepted: ((res: SipResponse) => void) | undefined;

  constructor(
    key: string,
    ctx: TransactionContext,
    counters: RetransmitCounters,
    request: SipRequest,
    source: Endpoint,
    private readonly options: InviteServerOptions,
  ) {
    super(key, ctx, counters, request, source, "proceeding");
  }

  start(): void {
    const delay = this.options.tryingDelayMs;
    if (delay === 0) this.sendTrying();
    else if (delay > 0) this.startTimer("Trying", delay, () => this.sendTrying());
  }

  private sendTrying(): void {
    if (this.state === "proceeding" && !this.lastResponse)
      this.sendResponse(createResponse(this.request, 100));
  }

  respond(res: SipResponse): boolean {
    const status = res.status;
    if (this.state === "proceeding") {
      this.stopTimer("Trying");
      if (status < 200) {
        this.sendResponse(res);
      } else if (status < 300) {
        this.finalStatus = status;
        this.state = "accepted";
        this.sendResponse(res);
        // Accepted absorbs INVITE retransmissions (the TU retransmits the 2xx): nothing to resend.
        this.lastResponse = undefined;
        this.startTimer("L", this.ctx.timers.transactionTimeout, () => this.terminate("normal"));
        this.onAccepted?.(res);
      } else {
        this.finalStatus = status;
        this.state = "completed";
        this.sendResponse(res);
        if (!this.ctx.reliable) {
          this.timerG = this.ctx.timers.t1;
          this.startTimer("G", this.timerG, () => this.fireG());
        }
        this.startTimer("H", this.ctx.timers.transactionTimeout, () => this.terminate("timeout"));
      }
      return true;
    }
    if (this.state === "accepted" && status >= 200 && status < 300) {
      // RFC 6026 §7.1: the TU's 2xx retransmissions pass through the Accepted state.
      this.counters.responseRetransmits++;
      this.sendResponse(res);
      this.lastResponse = undefined;
      return true;
    }
    return false;
  }

  private fireG(): void {
    if (this.state !== "completed") return;
    this.retransmitLast();
    this.timerG = this.ctx.timers.nextCapped(this.timerG);
    this.startTimer("G", this.timerG, () => this.fireG());
  }

  receiveRequest(req: SipRequest): void {
    if (req.method === "ACK") {
      if (this.state === "completed") {
        this.stopTimer("G");
        this.stopTimer("H");
        this.state = "confirmed";
        this.terminateAfter("I", this.ctx.timers.timerI(this.ctx.reliable));
      } else this.counters.absorbed++;
      return;
    }
    // A retransmitted INVITE
    if (this.state === "proceeding") {
      if (this.lastResponse) this.retransmitLast();
      else this.counters.absorbed++;
    } else if (this.state === "completed") this.retransmitLast();
    else this.counters.absorbed++;
  }
}
