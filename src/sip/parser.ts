/**
 * Buffer → SipRequest | SipResponse. The parser cuts the message into its
 * start line, header fields and body, checks the start line strictly, and
 * leaves every header value unparsed until someone asks (see message.ts).
 * Judging the message as a whole is validate.ts's job.
 */
import { isUtf8 } from "node:buffer";
import { badRequest, SipParseError } from "./errors.js";
import { isToken, isWs } from "./grammar.js";
import { headerKey } from "./header-names.js";
import { parseContentLength } from "./headers/scalars.js";
import { type AnySipMessage, type HeaderField, SipRequest, SipResponse } from "./message.js";

export interface ParseOptions {
  /**
   * "datagram" (UDP, and each WebSocket message, RFC 7118): Content-Length may
   * be absent (the body is the rest), octets past it are ignored (RFC 3261
   * §18.3), and a Content-Length longer than the datagram is a 400.
   * "stream": the bytes were already cut by SipStreamFramer to exactly one message.
   */
  framing?: "datagram" | "stream";
  /** Larger messages are refused with 413 (default 65,535 octets). */
  maxMessageSize?: number;
  /** More header fields than this is a 400 (default 512). */
  maxHeaderFields?: number;
}

export const DEFAULT_MAX_MESSAGE_SIZE = 65_535;
const DEFAULT_MAX_HEADER_FIELDS = 512;

const CRLFCRLF = Buffer.from("\r\n\r\n");
const LFLF = Buffer.from("\n\n");

/** Where the header section ends: the index of the empty line, and where the body starts. */
export function findHeaderEnd(buf: Buffer, from = 0): { headerEnd: number; bodyStart: number } | undefined {
  const crlf = buf.indexOf(CRLFCRLF, from);
  // Bare-LF messages are not RFC 3261 but are common in hand-written tests; accept them.
  const lf = buf.indexOf(LFLF, from);
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { headerEnd: crlf, bodyStart: crlf + 4 };
  if (lf >= 0) return { headerEnd: lf, bodyStart: lf + 2 };
  return undefined;
}

/** Skips the CRLFs that RFC 3261 §7.5 says may precede a start line. */
export function skipLeadingLineEnds(buf: Buffer, from = 0): number {
  let i = from;
  while (i < buf.length && (buf[i] === 0x0d || buf[i] === 0x0a)) i++;
  return i;
}

function looksLikeResponse(buf: Buffer, start: number): boolean {
  return (
    buf.length >= start + 4 &&
    (buf[start] === 0x53 || buf[start] === 0x73) &&
    (buf[start + 1] === 0x49 || buf[start + 1] === 0x69) &&
    (buf[start + 2] === 0x50 || buf[start + 2] === 0x70) &&
    buf[start + 3] === 0x2f
  );
}

export function parseMessage(buf: Buffer, opts: ParseOptions = {}): AnySipMessage {
  const start = skipLeadingLineEnds(buf);
  const isResponse = looksLikeResponse(buf, start);
  try {
    return parseUnchecked(buf, start, opts);
  } catch (err) {
    if (err instanceof SipParseError && isResponse) throw err.asDrop();
    if (err instanceof SipParseError) throw err;
    // Anything else is our bug, but bad input must never crash the caller.
    throw new SipParseError("Unparseable message", 400);
  }
}

function parseUnchecked(buf: Buffer, start: number, opts: ParseOptions): AnySipMessage {
  const maxSize = opts.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  if (buf.length > maxSize) throw new SipParseError("Message Too Large", 413);
  if (start >= buf.length) throw badRequest("Empty message");

  let end = findHeaderEnd(buf, start);
  if (!end) {
    // A datagram whose headers simply run to its end (no body, final empty line missing).
    const last = buf[buf.length - 1];
    if (last !== 0x0a) throw badRequest("Missing end of headers");
    end = { headerEnd: buf.length - (buf[buf.length - 2] === 0x0d ? 2 : 1), bodyStart: buf.length };
  }
  const headerBytes = buf.subarray(start, end.headerEnd);
  const encoding = isUtf8(headerBytes) ? "utf8" : "latin1";
  const text = headerBytes.toString(encoding);

  // Start line
  let lineEnd = text.indexOf("\n");
  if (lineEnd < 0) lineEnd = text.length;
  const startLine =
    text.charCodeAt(lineEnd - 1) === 0x0d ? text.slice(0, lineEnd - 1) : text.slice(0, lineEnd);
  const message = parseStartLine(startLine);
  message.headerEncoding = encoding;
  message.setRawStartLine(startLine);

  message.headers = splitHeaderFields(text, lineEnd + 1, opts.maxHeaderFields ?? DEFAULT_MAX_HEADER_FIELDS);
  message.body = cutBody(buf, end.bodyStart, message.headers, opts.framing ?? "datagram");
  return message;
}

const VERSION_RE = /^SIP\/(\d{1,3})\.(\d{1,3})$/i;

function checkVersion(version: string): void {
  const m = VERSION_RE.exec(version);
  if (!m) throw badRequest("Malformed SIP version");
  if (Number(m[1]) !== 2 || Number(m[2]) !== 0) throw new SipParseError("Version Not Supported", 505);
}

function parseStartLine(line: string): SipRequest | SipResponse {
  if (line.length === 0) throw badRequest("Empty start line");
  if (/^sip\//i.test(line)) {
    // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
    const sp1 = line.indexOf(" ");
    const version = sp1 < 0 ? line : line.slice(0, sp1);
    const m = VERSION_RE.exec(version);
    if (!m) throw new SipParseError("Malformed SIP version", 400, true);
    if (Number(m[1]) !== 2 || Number(m[2]) !== 0) throw new SipParseError("Version Not Supported", 505, true);
    const rest = sp1 < 0 ? "" : line.slice(sp1 + 1);
    const sp2 = rest.indexOf(" ");
    const codeText = sp2 < 0 ? rest : rest.slice(0, sp2);
    if (!/^[0-9]{3}$/.test(codeText)) throw new SipParseError("Invalid status code", 400, true);
    const status = Number(codeText);
    if (status < 100 || status > 699) throw new SipParseError("Status code out of range", 400, true);
    const reason = sp2 < 0 ? "" : rest.slice(sp2 + 1);
    return new SipResponse(status, reason, [], EMPTY, version);
  }
  // Request-Line = Method SP Request-URI SP SIP-Version: exactly one SP each (RFC 4475 lwsstart, trws)
  const parts = line.split(" ");
  if (parts.length !== 3) {
    if (isWs(line.charCodeAt(line.length - 1))) throw badRequest("Trailing whitespace in Request-Line");
    if (parts.includes("")) throw badRequest("Extra whitespace in Request-Line");
    if (parts.length > 3) throw badRequest("Whitespace in Request-URI");
    throw badRequest("Malformed Request-Line");
  }
  const [method, uri, version] = parts as [string, string, string];
  if (!isToken(method)) throw badRequest("Invalid method");
  if (uri.length === 0) throw badRequest("Malformed Request-Line");
  if (uri.charCodeAt(0) === 0x3c) throw badRequest("Request-URI in angle brackets");
  for (let i = 0; i < uri.length; i++)
    if (uri.charCodeAt(i) <= 0x20) throw badRequest("Whitespace in Request-URI");
  checkVersion(version);
  return new SipRequest(method, uri, [], EMPTY, version);
}

/** Cuts the header section into fields, joining folded lines (RFC 3261 §7.3.1). */
export function splitHeaderFields(text: string, from: number, maxFields: number): HeaderField[] {
  const fields: HeaderField[] = [];
  let pos = from;
  let current: { start: number; end: number; value: string; name: string } | undefined;
  const flush = () => {
    if (!current) return;
    fields.push({
      name: current.name,
      key: headerKey(current.name),
      value: current.value.trim(),
      raw: text.slice(current.start, current.end),
    });
  };
  while (pos < text.length) {
    let nl = text.indexOf("\n", pos);
    if (nl < 0) nl = text.length;
    const lineEnd = text.charCodeAt(nl - 1) === 0x0d && nl - 1 >= pos ? nl - 1 : nl;
    const line = text.slice(pos, lineEnd);
    if (line.length > 0 && isWs(line.charCodeAt(0))) {
      if (!current) throw badRequest("Continuation line before first header");
      current.value += ` ${line.trim()}`;
      current.end = lineEnd;
    } else {
      flush();
      const colon = line.indexOf(":");
      if (colon <= 0)
        throw badRequest(line.trim().length === 0 ? "Empty header line" : "Malformed header line");
      const name = line.slice(0, colon).trimEnd();
      if (!isToken(name)) throw badRequest("Invalid header name");
      if (fields.length >= maxFields) throw badRequest("Too many header fields");
      current = { start: pos, end: lineEnd, value: line.slice(colon + 1), name };
    }
    pos = nl + 1;
  }
  flush();
  return fields;
}

function cutBody(
  buf: Buffer,
  bodyStart: number,
  headers: HeaderField[],
  framing: "datagram" | "stream",
): Buffer {
  const available = buf.length - bodyStart;
  let declared: number | undefined;
  for (const h of headers) {
    if (h.key !== "content-length") continue;
    if (declared !== undefined) throw badRequest("Multiple Content-Length values");
    declared = parseContentLength(h.value);
  }
  if (declared === undefined) return buf.subarray(bodyStart);
  if (declared > available) {
    throw badRequest(
      framing === "datagram" ? "Content-Length larger than datagram" : "Content-Length larger than message",
    );
  }
  // Octets past Content-Length in a datagram are ignored (RFC 3261 §18.3, RFC 4475 dblreq).
  return buf.subarray(bodyStart, bodyStart + declared);
}

const EMPTY = Buffer.alloc(0);
