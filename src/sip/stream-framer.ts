/**
 * Cuts a byte stream (TCP, TLS) into SIP messages by Content-Length
 * (RFC 3261 §18.3). Partial messages wait for more bytes, several messages in
 * one chunk come out one by one, and CRLF keep-alives between messages
 * (RFC 5626 §3.5.1) are reported so the transport can answer them.
 *
 * A framing error is fatal for the connection: once Content-Length is missing
 * or wrong we can no longer tell where the next message starts.
 */
import { SipParseError } from "./errors.js";
import { headerKey } from "./header-names.js";
import { parseContentLength } from "./headers/scalars.js";
import { DEFAULT_MAX_MESSAGE_SIZE, findHeaderEnd } from "./parser.js";

export type FramedItem =
  | { kind: "message"; data: Buffer }
  /** A "\r\n\r\n" ping: answer with "\r\n" (RFC 5626 §3.5.1). */
  | { kind: "ping" }
  /** Unrecoverable: answer `status` if possible, then close the connection. */
  | {
      kind: "error";
      error: SipParseError;
      /** The start of the offending message (up to 16 KB), so a 4xx can still be built from its headers. */
      head?: Buffer;
    };

export interface FramerOptions {
  maxMessageSize?: number;
}

export class SipStreamFramer {
  private buffer: Buffer = Buffer.alloc(0);
  private failed = false;
  private readonly maxSize: number;

  constructor(opts: FramerOptions = {}) {
    this.maxSize = opts.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  }

  /** Bytes held while waiting for the rest of a message. */
  get pendingBytes(): number {
    return this.buffer.length;
  }

  push(chunk: Buffer): FramedItem[] {
    if (this.failed) return [];
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const out: FramedItem[] = [];
    for (;;) {
      const item = this.next();
      if (!item) break;
      out.push(item);
      if (item.kind === "error") {
        this.failed = true;
        this.buffer = Buffer.alloc(0);
        break;
      }
    }
    return out;
  }

  private next(): FramedItem | undefined {
    const buf = this.buffer;
    // Keep-alives and stray line ends between messages
    if (buf.length >= 4 && buf[0] === 0x0d && buf[1] === 0x0a && buf[2] === 0x0d && buf[3] === 0x0a) {
      this.buffer = buf.subarray(4);
      return { kind: "ping" };
    }
    let start = 0;
    while (start < buf.length && (buf[start] === 0x0d || buf[start] === 0x0a)) start++;
    if (start === buf.length) {
      // Only line ends so far: a ping may be arriving byte by byte; keep up to 4 of them.
      if (buf.length > 4) this.buffer = buf.subarray(buf.length - 4);
      return undefined;
    }
    const end = findHeaderEnd(buf, start);
    if (!end) {
      if (buf.length - start > this.maxSize) return this.fail("Message Too Large", 413, headOf(buf, start));
      return undefined;
    }
    const declared = contentLengthOf(buf.subarray(start, end.headerEnd));
    if (declared instanceof SipParseError)
      return { kind: "error", error: declared, head: headOf(buf, start) };
    if (declared === undefined)
      return this.fail("Missing Content-Length on stream transport", 400, headOf(buf, start));
    const total = end.bodyStart + declared;
    if (total - start > this.maxSize) return this.fail("Message Too Large", 413, headOf(buf, start));
    if (buf.length < total) return undefined;
    const data = buf.subarray(start, total);
    this.buffer = buf.subarray(total);
    return { kind: "message", data };
  }

  private fail(reason: string, status: number, head: Buffer): FramedItem {
    return { kind: "error", error: new SipParseError(reason, status), head };
  }
}

function headOf(buf: Buffer, start: number): Buffer {
  return buf.subarray(start, Math.min(buf.length, start + 16_384));
}

/** Finds Content-Length (or `l`) in a header section without parsing anything else. */
function contentLengthOf(head: Buffer): number | undefined | SipParseError {
  const text = head.toString("latin1");
  let found: number | undefined;
  let pos = text.indexOf("\n") + 1;
  while (pos > 0 && pos < text.length) {
    let nl = text.indexOf("\n", pos);
    if (nl < 0) nl = text.length;
    const c = text.charCodeAt(pos);
    if (c === 0x6c || c === 0x4c || c === 0x43 || c === 0x63) {
      const colon = text.indexOf(":", pos);
      if (colon > 0 && colon < nl && headerKey(text.slice(pos, colon).trimEnd()) === "content-length") {
        if (found !== undefined) return new SipParseError("Multiple Content-Length values", 400);
        try {
          found = parseContentLength(text.slice(colon + 1, nl));
        } catch (err) {
          return err instanceof SipParseError ? err : new SipParseError("Invalid Content-Length", 400);
        }
      }
    }
    pos = nl + 1;
  }
  return found;
}
