/**
 * Transaction identity: RFC 3261 §17.1.3 (client side: branch + CSeq method)
 * and §17.2.3 (server side: branch + sent-by + method, ACK folded into INVITE),
 * with the RFC 2543 fallback for branches without the magic cookie.
 */
import { BRANCH_MAGIC_COOKIE, type Via } from "../headers/via.js";
import type { SipRequest, SipResponse } from "../message.js";
import { randomToken } from "../random.js";

/** z9hG4bK + 16 random bytes in base64url: all token characters, 128 bits of entropy. */
export function newBranch(): string {
  return BRANCH_MAGIC_COOKIE + randomToken(16);
}

/** Tags need far less than branches but must still be unguessable (RFC 3261 §19.3). */
export function newTag(): string {
  return randomToken(8);
}

export function clientKey(branch: string, method: string): string {
  return `${branch}\x00${method === "ACK" ? "INVITE" : method}`;
}

/** The client key a response belongs to, or undefined when it has no usable Via/CSeq. */
export function clientKeyOfResponse(res: SipResponse): string | undefined {
  const branch = res.topVia?.params.branch;
  const cseq = res.cseq;
  if (!branch || !cseq) return undefined;
  return clientKey(branch, cseq.method);
}

function sentBy(via: Via): string {
  return `${via.host.toLowerCase()}:${via.port ?? ""}`;
}

/**
 * The server key of a request. `asMethod` lets CANCEL look up the INVITE it
 * cancels (same key, method INVITE).
 */
export function serverKey(req: SipRequest, asMethod?: string): string | undefined {
  const via = req.topVia;
  if (!via) return undefined;
  const method = asMethod ?? (req.method === "ACK" ? "INVITE" : req.method);
  const branch = via.params.branch;
  if (branch?.startsWith(BRANCH_MAGIC_COOKIE)) return `${branch}\x00${sentBy(via)}\x00${method}`;
  return rfc2543Key(req, via, method);
}

/**
 * RFC 2543 peers: Request-URI, From tag, Call-ID, CSeq number, top Via and
 * method. The To tag is left out so an ACK (which carries the tag of our final
 * response) still meets its INVITE.
 */
function rfc2543Key(req: SipRequest, via: Via, method: string): string | undefined {
  const cseq = req.cseq;
  if (!cseq) return undefined;
  const fromTag = req.from?.params.tag ?? "";
  const viaText = `${via.transport} ${sentBy(via)} ${via.params.branch ?? ""}`;
  return `2543\x00${req.uriText}\x00${fromTag}\x00${req.callId}\x00${cseq.seq}\x00${viaText}\x00${method}`;
}
