/** What a client transaction tells its TU (the stack's `request()` caller). */
import type { SipResponse } from "../message.js";
import type { TerminationReason } from "./base.js";
import type { ClientTransaction } from "./table.js";

export interface ClientTransactionUser {
  /**
   * Every response the TU must see: provisionals, the final response, and on
   * an INVITE each 2xx retransmission or forked 2xx (RFC 6026 Accepted state).
   */
  onResponse(res: SipResponse): void;
  /** Timer B or F fired with no final response. */
  onTimeout?(): void;
  onTransportError?(err: Error): void;
  /** `SipStack.requestTo` moved on to the next RFC 3263 target: this is the new transaction. */
  onRetarget?(tx: ClientTransaction): void;
  /** Always called last, whatever the reason. */
  onTerminated?(reason: TerminationReason): void;
}

export function notifyClientEnd(user: ClientTransactionUser, reason: TerminationReason, err?: Error): void {
  if (reason === "timeout") user.onTimeout?.();
  else if (reason === "transport-error") user.onTransportError?.(err ?? new Error("transport error"));
  user.onTerminated?.(reason);
}
