/**
 * Requests the transaction layer derives from an INVITE: the ACK for a non-2xx
 * final response (RFC 3261 §17.1.1.3), the ACK for a 2xx (§13.2.2.4, built by
 * the TU's side of the stack) and CANCEL (§9.1).
 */
import type { HeaderList } from "../builder.js";
import { createRequest } from "../builder.js";
import type { SipRequest, SipResponse } from "../message.js";
import type { Uri } from "../uri.js";

function topViaText(req: SipRequest): string {
  const first = req.listValues("via")[0];
  if (first === undefined) throw new Error("request has no Via");
  return first;
}

function routeHeaders(req: SipRequest): HeaderList {
  return req.headerValues("route").map((v) => ["Route", v] as [string, string]);
}

/** The ACK of a non-2xx: same branch as the INVITE, so it belongs to the INVITE's transaction. */
export function buildNon2xxAck(invite: SipRequest, res: SipResponse): SipRequest {
  const headers: HeaderList = [
    ["Via", topViaText(invite)],
    ["Max-Forwards", "70"],
    ...routeHeaders(invite),
    ["From", invite.header("from")!],
    ["To", res.header("to")!],
    ["Call-ID", invite.header("call-id")!],
    ["CSeq", `${invite.cseq!.seq} ACK`],
  ];
  return createRequest({ method: "ACK", uri: invite.uriText, headers });
}

/** CANCEL: same Request-URI, top Via (hence branch), From, To, Call-ID and CSeq number as the INVITE. */
export function buildCancel(invite: SipRequest, extra: HeaderList = []): SipRequest {
  const headers: HeaderList = [
    ["Via", topViaText(invite)],
    ["Max-Forwards", "70"],
    ...routeHeaders(invite),
    ["From", invite.header("from")!],
    ["To", invite.header("to")!],
    ["Call-ID", invite.header("call-id")!],
    ["CSeq", `${invite.cseq!.seq} CANCEL`],
    ...extra,
  ];
  return createRequest({ method: "CANCEL", uri: invite.uriText, headers });
}

export interface AckFor2xx {
  /** The ACK without a Via: the stack adds one with a fresh branch when sending it. */
  request: SipRequest;
  /** Where it goes: the first route of the route set, else the remote target. */
  nextHop: Uri;
}

/**
 * The ACK of a 2xx is a new transaction-less request within the dialog: its
 * Request-URI is the remote target (the 2xx's Contact) and its Route set the
 * reversed Record-Route (loose routing only).
 */
export function build2xxAck(invite: SipRequest, res: SipResponse, extra: HeaderList = []): AckFor2xx {
  const contact = res.contact;
  const target: Uri = contact !== "*" && contact.length > 0 ? contact[0]!.uri : invite.uri;
  const routeSet = [...res.recordRoute].reverse();
  const headers: HeaderList = [
    ["Max-Forwards", "70"],
    ...res
      .listValues("record-route")
      .slice()
      .reverse()
      .map((v) => ["Route", v] as [string, string]),
    ["From", invite.header("from")!],
    ["To", res.header("to")!],
    ["Call-ID", invite.header("call-id")!],
    ["CSeq", `${invite.cseq!.seq} ACK`],
    ...extra,
  ];
  const request = createRequest({ method: "ACK", uri: target, headers });
  return { request, nextHop: routeSet.length > 0 ? routeSet[0]!.uri : target };
}
