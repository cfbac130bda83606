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

/** Bit per single-value header, so one pass over the fields finds repeats and absences. */
if (SINGLE_VALUE_HEADERS.size > 31) throw new Error("SINGLE_VALUE_HEADERS no longer fits a 32-bit mask");
const SINGLE_BIT = new Map<string, number>([...SINGLE_VALUE_HEADERS].map((key, i) => [key, 2 ** i]));
const bit = (key: string): number => SINGLE_BIT.get(key)!;
const MANDATORY_BITS = MANDATORY.map((key) => [key, bit(key)] as const);

function validateCommon(msg: SipMessage): void {
  let seen = 0;
  let hasVia = false;
  let hasContact = false;
  for (const h of msg.headers) {
    const key = h.key;
    const b = SINGLE_BIT.get(key);
    if (b === undefined) {
      if (key === "via") hasVia = true;
      else if (key === "contact") hasContact = true;
      continue;
    }
    if ((seen & b) !== 0)
      throw badRequest(`Multiple values in single-value header ${canonicalHeaderName(key)}`);
    seen |= b;
  }
  if (!hasVia) throw badRequest("Missing Via header");
  for (const [key, b] of MANDATORY_BITS) {
    if ((seen & b) === 0) throw badRequest(`Missing ${canonicalHeaderName(key)} header`);
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
  const hasContentType = (seen & bit("content-type")) !== 0;
  if (hasContentType) void msg.contentType;
  if (hasContact) void msg.contact;
  // RFC 4475 baddate: a Date not in GMT is malformed; we judge it because we log and record it.
  if ((seen & bit("date")) !== 0) void msg.date;
  if (msg.body.length > 0 && !hasContentType) throw badRequest("Body without Content-Type");
}
