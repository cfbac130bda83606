/** Via (RFC 3261 §20.42, RFC 3581 rport, RFC 5118 IPv6). */
import { badRequest } from "../errors.js";
import { isTokenChar, type Params, readParams, skipWs } from "../grammar.js";
import { readHostPort } from "../uri.js";

export interface Via {
  /** "SIP/2.0" */
  protocol: string;
  /** Upper case: UDP, TCP, TLS, SCTP, WS, WSS or another token. */
  transport: string;
  host: string;
  port?: number | undefined;
  params: Params;
}

/** RFC 3261 §8.1.1.7: a branch starting with this cookie is unique per transaction. */
export const BRANCH_MAGIC_COOKIE = "z9hG4bK";

function readToken(s: string, i: number, what: string): { value: string; end: number } {
  const start = i;
  while (i < s.length && isTokenChar(s.charCodeAt(i))) i++;
  if (i === start) throw badRequest(`Malformed Via: missing ${what}`);
  return { value: s.slice(start, i), end: i };
}

function expectSlash(s: string, i: number): number {
  i = skipWs(s, i);
  if (s.charCodeAt(i) !== 0x2f) throw badRequest("Malformed Via: expected '/'");
  return skipWs(s, i + 1);
}

const TRANSPORTS = ["UDP", "TCP", "TLS", "WS", "WSS", "SCTP", "TLS-SCTP"];

/** Upper-cased transport; the usual ones come back as shared constants. */
function upperTransport(t: string): string {
  for (const known of TRANSPORTS) if (t === known) return known;
  return t.toUpperCase();
}

/** Parses one via-parm (one element of a Via list). */
export function parseVia(text: string): Via {
  let i = skipWs(text, 0);
  // the usual spelling, checked in one go; any other goes through the full grammar
  if (text.startsWith("SIP/2.0/", i)) i += 8;
  else {
    const name = readToken(text, i, "protocol name");
    i = expectSlash(text, name.end);
    const version = readToken(text, i, "protocol version");
    if (name.value.toUpperCase() !== "SIP" || version.value !== "2.0")
      throw badRequest("Unsupported Via protocol");
    i = expectSlash(text, version.end);
  }
  const transport = readToken(text, i, "transport");
  i = transport.end;
  const afterTransport = skipWs(text, i);
  if (afterTransport === i) throw badRequest("Malformed Via: no space before sent-by");
  const sentBy = readHostPort(text, afterTransport, "Via", true);
  const { params, end } = readParams(text, sentBy.end);
  if (skipWs(text, end) !== text.length) throw badRequest("Malformed Via: unexpected text");
  return {
    protocol: "SIP/2.0",
    transport: upperTransport(transport.value),
    host: sentBy.host,
    port: sentBy.port,
    params,
  };
}

export function formatVia(via: Via): string {
  let out = `${via.protocol}/${via.transport} ${via.host}`;
  if (via.port !== undefined) out += `:${via.port}`;
  for (const name in via.params) {
    const value = via.params[name];
    out += value == null ? `;${name}` : `;${name}=${value}`;
  }
  return out;
}
