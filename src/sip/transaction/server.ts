/** What the server transactions share: the request, the TU's callbacks and the response send path. */
import { createResponse, type ResponseOptions } from "../builder.js";
import type { SipRequest, SipResponse } from "../message.js";
import { serializeMessage } from "../serializer.js";
import type { Endpoint } from "../transport/types.js";
import {
  type RetransmitCounters,
  type TerminationReason,
  Transaction,
  type TransactionContext,
} from "./base.js";
import { newTag } from "./keys.js";

export abstract class ServerTransaction extends Transaction {
  /** A CANCEL for this INVITE arrived (the stack has already answered the CANCEL with 200). */
  onCancel: ((cancel: SipRequest) => void) | undefined;
  /** Timer H: our 3xx–6xx was never ACKed. */
  onTimeout: (() => void) | undefined;
  onTransportError: ((err: Error) => void) | undefined;
  onTerminated: ((reason: TerminationReason) => void) | undefined;
  /** Once, when the final response goes out: the TU drops what only a CANCEL could have needed. */
  onAnswered: (() => void) | undefined;
  /** The last response handed to the transport, kept to answer request retransmissions. */
  protected lastResponse: Buffer | undefined;
  /** Status of the final response, once sent. */
  finalStatus: number | undefined;

  constructor(
    key: string,
    ctx: TransactionContext,
    counters: RetransmitCounters,
    readonly request: SipRequest,
    /** Where the request came from (the transport-level source). */
    readonly source: Endpoint,
    initial: "trying" | "proceeding",
  ) {
    super(key, ctx, counters, initial);
  }

  private tag: string | undefined;

  /** The To tag our responses carry when the request had none (one per transaction, made on first use). */
  get localTag(): string {
    const existing = this.request.to?.params.tag;
    if (existing) return existing;
    this.tag ??= newTag();
    return this.tag;
  }

  /** Builds the response to this request (copying Via, From, To + our tag, Call-ID, CSeq) and sends it. */
  reply(status: number, opts: ResponseOptions = {}): boolean {
    return this.respond(createResponse(this.request, status, { toTag: this.localTag, ...opts }));
  }

  /** Hands a response to the transaction; false when the state does not allow it (never throws). */
  abstract respond(res: SipResponse): boolean;

  /** A retransmission of the request (or, for INVITE, the ACK) matched this transaction. */
  abstract receiveRequest(req: SipRequest): void;

  protected sendResponse(res: SipResponse): void {
    this.lastResponse = serializeMessage(res);
    this.transmit(this.lastResponse);
    if (res.status >= 200) {
      // A CANCEL after the final response changes nothing (§9.2), and the TU's handler would keep
      // the whole finished call reachable while Timer J or L runs (32 s on UDP).
      this.onCancel = undefined;
      const answered = this.onAnswered;
      this.onAnswered = undefined;
      answered?.();
      this.ctx.onFinalResponse?.(this);
    }
  }

  protected retransmitLast(): void {
    if (!this.lastResponse) return;
    this.counters.responseRetransmits++;
    this.transmit(this.lastResponse);
  }

  protected notifyTerminated(reason: TerminationReason, err?: Error): void {
    if (reason === "timeout") this.onTimeout?.();
    else if (reason === "transport-error") this.onTransportError?.(err ?? new Error("transport error"));
    this.onTerminated?.(reason);
  }
}
