/**
 * Non-INVITE client transaction, RFC 3261 §17.1.2: Trying → Proceeding →
 * Completed → Terminated. Timer E retransmits (UDP; doubling to T2, fixed at
 * T2 once Proceeding), F gives up, K absorbs response retransmits.
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

export class NonInviteClientTransaction extends Transaction {
  readonly kind = "non-invite-client" as const;
  /** The request as sent, for Timer E; dropped with the final response (it would pin a pooled slab). */
  private wire: Buffer | undefined;
  private timerE = 0;

  constructor(
    key: string,
    ctx: TransactionContext,
    counters: RetransmitCounters,
    readonly request: SipRequest,
    private readonly user: ClientTransactionUser,
  ) {
    super(key, ctx, counters, "trying");
    this.wire = serializeMessage(request);
  }

  start(): void {
    if (this.wire) this.transmit(this.wire);
    if (!this.ctx.reliable) {
      this.timerE = this.ctx.timers.t1;
      this.startTimer("E", this.timerE, () => this.fireE());
    }
    this.startTimer("F", this.ctx.timers.transactionTimeout, () => this.terminate("timeout"));
  }

  private fireE(): void {
    if (this.state !== "trying" && this.state !== "proceeding") return;
    this.counters.requestRetransmits++;
    if (this.wire) this.transmit(this.wire);
    this.timerE = this.state === "proceeding" ? this.ctx.timers.t2 : this.ctx.timers.nextCapped(this.timerE);
    this.startTimer("E", this.timerE, () => this.fireE());
  }

  receiveResponse(res: SipResponse): void {
    if (this.state === "trying" || this.state === "proceeding") {
      if (res.status < 200) {
        this.state = "proceeding";
        this.user.onResponse(res);
        return;
      }
      this.stopTimer("E");
      this.stopTimer("F");
      this.wire = undefined;
      this.state = "completed";
      this.user.onResponse(res);
      this.terminateAfter("K", this.ctx.timers.timerK(this.ctx.reliable));
      return;
    }
    if (this.state === "completed") this.counters.absorbed++;
  }

  protected notifyTerminated(reason: TerminationReason, err?: Error): void {
    notifyClientEnd(this.user, reason, err);
  }
}
