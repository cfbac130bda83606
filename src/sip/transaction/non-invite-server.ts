/**
 * Non-INVITE server transaction, RFC 3261 §17.2.2: Trying → Proceeding →
 * Completed → Terminated; Timer J absorbs request retransmissions (UDP).
 */
import type { SipRequest, SipResponse } from "../message.js";
import type { Endpoint } from "../transport/types.js";
import type { RetransmitCounters, TransactionContext } from "./base.js";
import { ServerTransaction } from "./server.js";

export class NonInviteServerTransaction extends ServerTransaction {
  readonly kind = "non-invite-server" as const;

  constructor(
    key: string,
    ctx: TransactionContext,
    counters: RetransmitCounters,
    request: SipRequest,
    source: Endpoint,
  ) {
    super(key, ctx, counters, request, source, "trying");
  }

  respond(res: SipResponse): boolean {
    if (this.state !== "trying" && this.state !== "proceeding") return false;
    if (res.status < 200) {
      this.state = "proceeding";
      this.sendResponse(res);
      return true;
    }
    this.finalStatus = res.status;
    this.state = "completed";
    this.sendResponse(res);
    this.terminateAfter("J", this.ctx.timers.timerJ(this.ctx.reliable));
    return true;
  }

  receiveRequest(_req: SipRequest): void {
    if (this.state === "trying") this.counters.absorbed++;
    else this.retransmitLast();
  }
}
