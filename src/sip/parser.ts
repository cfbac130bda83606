/**
 * Buffer → SipRequest | SipResponse. The parser cuts the message into its
 * start line, header fields and body, checks the start line strictly, and
 * leaves every header value unparsed until someone asks (see message.ts).
 * Judging the message as a whole is validate.ts's job.
 */
import { isUtf8 } from "node:buffer";
import { badRequest, SipParseError } from "./errors.js";
import { isToken, isTokenChar, isWs } from "./grammar.js";
import { headerKey, knownHeaderKey } from "./header-names.js";
import { parseContentLength } from "./headers/scalars.js";
import {
  type AnySipMessage,
  type HeaderField,
  ReceivedHeaderField,
  SipRequest,
  SipResponse,
} from "./message.js";

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
  // The start line's own ending tells which line ends the message uses: bare-LF
  // messages are not RFC 3261 but common from hand-written tools, and we accept them.
  const firstLf = buf.indexOf(0x0a, from);
  if (firstLf > from && buf[firstLf - 1] === 0x0d) {
    const crlf = buf.indexOf(CRLFCRLF, firstLf - 1);
    return crlf >= 0 ? { headerEnd: crlf, bodyStart: crlf + 4 } : undefined;
  }
  if (firstLf < 0) return undefined;
  const lf = buf.indexOf(LFLF, firstLf);
  return lf >= 0 ? { headerEnd: lf, bodyStart: lf + 2 } : undefined;
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
  const body = cutBody(buf, end.bodyStart, message.headers, opts.framing ?? "datagram");
  message.body = body.body;
  if (body.contentLength !== undefined) message.rememberTyped("content-length", body.contentLength);
  return message;
}

const VERSION_RE = /^SIP\/(\d{1,3})\.(\d{1,3})$/i;

function checkVersion(version: string): void {
  if (version === "SIP/2.0") return;
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
  const sp1 = line.indexOf(" ");
  const sp2 = sp1 < 0 ? -1 : line.indexOf(" ", sp1 + 1);
  if (sp1 <= 0 || sp2 < 0 || line.indexOf(" ", sp2 + 1) >= 0 || sp2 === sp1 + 1 || sp2 === line.length - 1) {
    if (isWs(line.charCodeAt(line.length - 1))) throw badRequest("Trailing whitespace in Request-Line");
    if (line.indexOf("  ") >= 0) throw badRequest("Extra whitespace in Request-Line");
    if (sp2 >= 0) throw badRequest("Whitespace in Request-URI");
    throw badRequest("Malformed Request-Line");
  }
  const method = line.slice(0, sp1);
  if (!isToken(method)) throw badRequest("Invalid method");
  if (line.charCodeAt(sp1 + 1) === 0x3c) throw badRequest("Request-URI in angle brackets");
  for (let i = sp1 + 1; i < sp2; i++) {
    if (line.charCodeAt(i) <= 0x20) throw badRequest("Whitespace in Request-URI");
  }
  const version = line.slice(sp2 + 1);
  checkVersion(version);
  return new SipRequest(method, line.slice(sp1 + 1, sp2), [], EMPTY, version);
}

/** Cuts the header section into fields, joining folded lines (RFC 3261 §7.3.1). */
export function splitHeaderFields(text: string, from: number, maxFields: number): HeaderField[] {
  const fields: HeaderField[] = [];
  const len = text.length;
  let pos = from;
  while (pos < len) {
    let nl = text.indexOf("\n", pos);
    if (nl < 0) nl = len;
    let lineEnd = nl > pos && text.charCodeAt(nl - 1) === 0x0d ? nl - 1 : nl;
    const first = text.charCodeAt(pos);
    if (first === 0x20 || first === 0x09) throw badRequest("Continuation line before first header");
    const colon = text.indexOf(":", pos);
    if (colon < 0 || colon >= lineEnd || colon === pos) {
      throw badRequest(
        text.slice(pos, lineEnd).trim().length === 0 ? "Empty header line" : "Malformed header line",
      );
    }
    let nameEnd = colon;
    while (nameEnd > pos && isWs(text.charCodeAt(nameEnd - 1))) nameEnd--;
    let hash = 0;
    for (let i = pos; i < nameEnd; i++) {
      const c = text.charCodeAt(i);
      if (!isTokenChar(c)) throw badRequest("Invalid header name");
      hash = (Math.imul(hash, 31) + (c | 0x20)) | 0;
    }
    if (nameEnd === pos) throw badRequest("Invalid header name");
    if (fields.length >= maxFields) throw badRequest("Too many header fields");
    let vs = colon + 1;
    while (vs < lineEnd && isWs(text.charCodeAt(vs))) vs++;
    let ve = lineEnd;
    while (ve > vs && isWs(text.charCodeAt(ve - 1))) ve--;
    // continuation lines: the value replaces each line break and its leading whitespace by one space
    let unfolded: string | undefined;
    let next = nl + 1;
    while (next < len && (text.charCodeAt(next) === 0x20 || text.charCodeAt(next) === 0x09)) {
      if (unfolded === undefined) unfolded = text.slice(vs, ve);
      let nl2 = text.indexOf("\n", next);
      if (nl2 < 0) nl2 = len;
      const end2 = text.charCodeAt(nl2 - 1) === 0x0d ? nl2 - 1 : nl2;
      const more = text.slice(next, end2).trim();
      if (more.length > 0) unfolded = unfolded.length > 0 ? `${unfolded} ${more}` : more;
      lineEnd = end2;
      nl = nl2;
      next = nl2 + 1;
    }
    const key = knownHeaderKey(hash, text, pos, nameEnd) ?? headerKey(text.slice(pos, nameEnd));
    fields.push(new ReceivedHeaderField(key, text, pos, nameEnd, vs, ve, lineEnd, unfolded));
    pos = nl + 1;
  }
  return fields;
}

function cutBody(
  buf: Buffer,
  bodyStart: number,
  headers: HeaderField[],
  framing: "datagram" | "stream",
): { body: Buffer; contentLength?: number } {
  const available = buf.length - bodyStart;
  let declared: number | undefined;
  for (const h of headers) {
    if (h.key !== "content-length") continue;
    if (declared !== undefined) throw badRequest("Multiple Content-Length values");
    declared = parseContentLength(h.value);
  }
  if (declared === undefined) return { body: buf.subarray(bodyStart) };
  if (declared > available) {
    throw badRequest(
      framing === "datagram" ? "Content-Length larger than datagram" : "Content-Length larger than message",
    );
  }
  // Octets past Content-Length in a datagram are ignored (RFC 3261 §18.3, RFC 4475 dblreq).
  return { body: buf.subarray(bodyStart, bodyStart + declared), contentLength: declared };
}

const EMPTY = Buffer.alloc(0);
