/**
 * RFC 3263 §4.3: when a target yields no response at all (transport error,
 * timeout) or a 503, the client tries the next resolved target. Each attempt
 * is a new client transaction with a fresh branch; the TU learns of it through
 * `onRetarget` and only ever sees the responses of the attempt that counts.
 */
import type { SipRequest } from "../message.js";
import type { Endpoint } from "../transport/types.js";
import type { ClientTransactionUser } from "./client.js";
import type { ClientTransaction } from "./table.js";

/** Sends `req` to one endpoint in a new client transaction (SipStack.request). */
export type SendAttempt = (dest: Endpoint, user: ClientTransactionUser) => ClientTransaction;

export function requestWithFailover(
  send: SendAttempt,
  req: SipRequest,
  dests: Endpoint[],
  user: ClientTransactionUser,
): ClientTransaction {
  const attempt = (i: number): ClientTransaction => {
    // A response other than 100 or 503 commits us to this target.
    let committed = false;
    let retargeted = false;
    const next = (): boolean => {
      if (committed || i + 1 >= dests.length) return false;
      retargeted = true;
      req.removeFirstListValue("via"); // the next attempt adds its own Via with a new branch
      user.onRetarget?.(attempt(i + 1));
      return true;
    };
    return send(dests[i]!, {
      onResponse: (res) => {
        // The 503's own transaction completes by itself (an INVITE's 503 is ACKed by it).
        if (res.status === 503 && next()) return;
        if (res.status > 100) committed = true;
        user.onResponse(res);
      },
      onTimeout: () => {
        if (!next()) user.onTimeout?.();
      },
      onTransportError: (err) => {
        if (!next()) user.onTransportError?.(err);
      },
      onTerminated: (reason) => {
        if (!retargeted) user.onTerminated?.(reason);
      },
    });
  };
  return attempt(0);
}
