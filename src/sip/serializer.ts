/**
 * SipMessage → Buffer. Fields that were received and not changed go out as
 * received (their folding and spelling too); Content-Length is always made to
 * match the body, which is the one header we rewrite on our own.
 */
import type { AnySipMessage, SipMessage } from "./message.js";

const CRLF = "\r\n";

export function serializeMessage(msg: AnySipMessage | SipMessage): Buffer {
  const head = serializeHead(msg);
  const headBuf = Buffer.from(head, msg.headerEncoding);
  if (msg.body.length === 0) return headBuf;
  return Buffer.concat([headBuf, msg.body], headBuf.length + msg.body.length);
}

/** Start line and header section, including the empty line that ends it. */
export function serializeHead(msg: SipMessage): string {
  let out = msg.startLine() + CRLF;
  const bodyLength = msg.body.length;
  let wroteLength = false;
  for (const h of msg.headers) {
    if (h.key === "content-length") {
      if (wroteLength) continue;
      wroteLength = true;
      const declared = /^[0-9]+$/.test(h.value) ? Number(h.value) : Number.NaN;
      out += (h.raw !== undefined && declared === bodyLength ? h.raw : `${h.name}: ${bodyLength}`) + CRLF;
      continue;
    }
    out += (h.raw ?? `${h.name}: ${h.value}`) + CRLF;
  }
  if (!wroteLength) out += `Content-Length: ${bodyLength}${CRLF}`;
  return out + CRLF;
}
