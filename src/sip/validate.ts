/**
 * Message-level judgement, as a UAS makes it before any transaction
 * (RFC 3261 §8.2 preliminaries, §16.3 for the same checks in a proxy):
 * mandatory headers present, single-value headers not repeated, the core
 * headers well formed, CSeq matching the method, scalars in range. A bad
 * request throws a SipParseError with the status to answer; a bad response
 * throws one marked `drop`.
 */
import { badRequest, SipParseError } from "./errors.js";
import { canonicalHeaderName, SINGLE_VALUE_HEADERS } from "./header-names.js";
import type { AnySipMessage, SipMessage } from "./message.js";

const MANDATORY = ["from", "to", "call-id", "cseq"] as const;

export function validateMessage(msg: AnySipMessage): void {
  if (msg.isRequest) {
    validateRequest(msg);
    return;
  }
  try {
    validateCommon(msg);
    if (msg.status < 100 || msg.status > 699) throw badRequest("Status code out of range");
  } catch (err) {
    if (err instanceof SipParseError) throw err.asDrop();
    throw err;
  }
}

function validateRequest(msg: AnySipMessage & { isRequest: true }): void {
  // Without a Via there is nowhere to send a response (RFC 3261 §18.2.2).
  if (!msg.hasHeader("via")) throw new SipParseError("Missing Via header", 400, true);
  validateCommon(msg);
  void msg.uri; // parses the Request-URI, throwing 400 if malformed
  void msg.maxForwards;
  const cseq = msg.cseq!;
  if (cseq.method !== msg.method) throw badRequest("CSeq method does not match Request-Line method");
}

function validateCommon(msg: SipMessage): void {
  const seen = new Set<string>();
  for (const h of msg.headers) {
    if (!SINGLE_VALUE_HEADERS.has(h.key)) continue;
    if (seen.has(h.key))
      throw badRequest(`Multiple values in single-value header ${canonicalHeaderName(h.key)}`);
    seen.add(h.key);
  }
  if (!msg.hasHeader("via")) throw badRequest("Missing Via header");
  for (const name of MANDATORY) {
    if (!seen.has(name)) throw badRequest(`Missing ${canonicalHeaderName(name)} header`);
  }
  // Parsing the core headers is the validation: each throws a precise 400.
  // Of the Vias only the top one: it is the one we answer to or match on; the
  // others are copied back or dropped, never interpreted (RFC 3261 §8.2.6.2, §8.1.3.3).
  void msg.topVia;
  void msg.from;
  void msg.to;
  void msg.callId;
  void msg.cseq;
  void msg.contentLength;
  if (msg.hasHeader("content-type")) void msg.contentType;
  if (msg.hasHeader("contact")) void msg.contact;
  // RFC 4475 baddate: a Date not in GMT is malformed; we judge it because we log and record it.
  if (msg.hasHeader("date")) void msg.date;
  if (msg.body.length > 0 && !msg.hasHeader("content-type")) {
    throw badRequest("Body without Content-Type");
  }
}
