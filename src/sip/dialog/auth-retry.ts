/**
 * Digest as a client, the part that is not digest math (RFC 3261 §22.2): on a
 * 401/407 the request is sent once more with credentials that an injected
 * hook computes (src/sip/digest.ts does the MD5/SHA-256 work). The retry is a
 * new transaction: same Call-ID and From tag, CSeq + 1, new branch (the stack
 * adds a fresh Via).
 */
import { createRequest, type HeaderList } from "../builder.js";
import type { SipRequest, SipResponse } from "../message.js";

export interface Credentials {
  header: "Authorization" | "Proxy-Authorization";
  value: string;
}

/** Answers a challenge for a request, or undefined when it has no credentials for that realm. */
export type AuthenticateHook = (
  challengeResponse: SipResponse,
  request: SipRequest,
) => Credentials | undefined;

export function isChallenge(status: number): boolean {
  return status === 401 || status === 407;
}

/** A copy of `req` for a retry: its Via dropped, CSeq set to `seq`, `credentials` (if any) replacing older ones of that kind. */
export function cloneForRetry(
  req: SipRequest,
  seq: number,
  credentials?: Credentials,
  extra: HeaderList = [],
): SipRequest {
  const credKey = credentials?.header.toLowerCase();
  const headers: HeaderList = [];
  for (const h of req.headers) {
    if (h.key === "via" || h.key === "content-length") continue;
    if (h.key === "cseq") {
      headers.push([h.name, `${seq} ${req.method}`]);
      continue;
    }
    if (credKey !== undefined && h.key === credKey) continue;
    headers.push([h.name, h.value]);
  }
  if (credentials) headers.push([credentials.header, credentials.value]);
  headers.push(...extra);
  return createRequest({ method: req.method, uri: req.uriText, headers, body: req.body });
}
