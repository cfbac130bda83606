/**
 * When the parser refuses a request outright (bad Content-Length, a broken
 * header line, a 413), there is no message to answer, yet the peer deserves
 * its 4xx (RFC 3261 §8.2, §21.4). This recovers just enough of the bytes —
 * method, Via, From, To, Call-ID, CSeq — to build that stateless response.
 * Anything less recoverable stays unanswered.
 */
import { headerKey } from "./header-names.js";
import { type HeaderField, SipRequest } from "./message.js";
import { skipLeadingLineEnds } from "./parser.js";

const NEEDED = new Set(["via", "from", "to", "call-id", "cseq"]);
/** Enough to hold any sane header section; we never look further. */
const SCAN_LIMIT = 16_384;
const REQUEST_LINE = /^([A-Za-z0-9.!%*_+`'~-]+) \S+ SIP\/2\.0$/i;

export function salvageRequest(buf: Buffer): SipRequest | undefined {
  const start = skipLeadingLineEnds(buf);
  const text = buf.subarray(start, Math.min(buf.length, start + SCAN_LIMIT)).toString("latin1");
  const headerEnd = text.search(/\r?\n\r?\n/);
  const lines = (headerEnd >= 0 ? text.slice(0, headerEnd) : text).split(/\r?\n/);
  const requestLine = REQUEST_LINE.exec(lines[0] ?? "");
  if (!requestLine) return undefined;
  const method = requestLine[1]!.toUpperCase();
  // An ACK is never answered, whatever state it is in.
  if (method === "ACK") return undefined;
  const fields: HeaderField[] = [];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const key = headerKey(name);
    if (NEEDED.has(key)) fields.push({ name, key, value: line.slice(colon + 1).trim() });
  }
  const req = new SipRequest(method, "sip:invalid", fields);
  req.headerEncoding = "latin1";
  try {
    // Without a readable top Via and the dialog identifiers there is no way back worth trying.
    if (!req.topVia || req.callId === undefined || !req.cseq || !req.from || !req.to) return undefined;
  } catch {
    return undefined;
  }
  return req;
}
