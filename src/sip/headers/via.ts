/** Via (RFC 3261 §20.42, RFC 3581 rport, RFC 5118 IPv6). */
import { badRequest } from "../errors.js";
import { isTokenChar, type Params, readParams, skipWs } from "../grammar.js";
import { parseHostPort } from "../uri.js";

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
  const name = readToken(text, i, "protocol name");
  i = expectSlash(text, name.end);
  const version = readToken(text, i, "protocol version");
  i = expectSlash(text, version.end);
  const transport = readToken(text, i, "transport");
  i = transport.end;
  const afterTransport = skipWs(text, i);
  if (afterTransport === i) throw badRequest("Malformed Via: no space before sent-by");
  i = afterTransport;
  // sent-by = host [ COLON port ], COLON allowing whitespace around it
  const hostStart = i;
  if (text.charCodeAt(i) === 0x5b) {
    const close = text.indexOf("]", i);
    if (close < 0) throw badRequest("Malformed Via: unterminated IPv6 reference");
    i = close + 1;
  } else {
    while (
      i < text.length &&
      text.charCodeAt(i) !== 0x3a &&
      text.charCodeAt(i) !== 0x3b &&
      text.charCodeAt(i) > 0x20
    )
      i++;
  }
  let hostPort = text.slice(hostStart, i);
  const beforeColon = skipWs(text, i);
  if (text.charCodeAt(beforeColon) === 0x3a) {
    const portStart = skipWs(text, beforeColon + 1);
    let j = portStart;
    while (j < text.length && text.charCodeAt(j) >= 0x30 && text.charCodeAt(j) <= 0x39) j++;
    hostPort += `:${text.slice(portStart, j)}`;
    i = j;
  }
  const { host, port } = parseHostPort(hostPort, "Via");
  const { params, end } = readParams(text, i);
  if (skipWs(text, end) !== text.length) throw badRequest("Malformed Via: unexpected text");
  if (name.value.toUpperCase() !== "SIP" || version.value !== "2.0")
    throw badRequest("Unsupported Via protocol");
  return { protocol: "SIP/2.0", transport: upperTransport(transport.value), host, port, params };
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
