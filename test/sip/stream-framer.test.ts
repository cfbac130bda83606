import { describe, expect, it } from "vitest";
import { type FramedItem, parseMessage, SipStreamFramer } from "../../src/sip/index.js";
import { crlf } from "./helpers.js";

function message(n: number, body = ""): Buffer {
  return Buffer.concat([
    crlf(
      "MESSAGE sip:b@example.com SIP/2.0",
      `Via: SIP/2.0/TCP 192.0.2.1;branch=z9hG4bK${n}`,
      "From: <sip:a@example.com>;tag=1",
      "To: <sip:b@example.com>",
      `Call-ID: framer-${n}`,
      `CSeq: ${n} MESSAGE`,
      "Content-Type: text/plain",
      `Content-Length: ${Buffer.byteLength(body)}`,
      "",
      "",
    ),
    Buffer.from(body),
  ]);
}

function messages(items: FramedItem[]): Buffer[] {
  return items.flatMap((i) => (i.kind === "message" ? [i.data] : []));
}

describe("SipStreamFramer", () => {
  it("waits for a partial message and delivers it whole", () => {
    const f = new SipStreamFramer();
    const m = message(1, "hello world");
    expect(f.push(m.subarray(0, 20))).toEqual([]);
    expect(f.push(m.subarray(20, m.length - 3))).toEqual([]);
    const out = messages(f.push(m.subarray(m.length - 3)));
    expect(out).toHaveLength(1);
    expect(out[0]!.equals(m)).toBe(true);
    expect(f.pendingBytes).toBe(0);
  });

  it("cuts several messages out of one chunk, and survives byte-by-byte delivery", () => {
    const all = Buffer.concat([message(1, "a"), message(2, ""), message(3, "ccc\r\n\r\nccc")]);
    const f = new SipStreamFramer();
    const out = messages(f.push(all));
    expect(out.map((b) => parseMessage(b, { framing: "stream" }).callId)).toEqual([
      "framer-1",
      "framer-2",
      "framer-3",
    ]);
    const g = new SipStreamFramer();
    const got: Buffer[] = [];
    for (let i = 0; i < all.length; i++) got.push(...messages(g.push(all.subarray(i, i + 1))));
    expect(Buffer.concat(got).equals(all)).toBe(true);
  });

  it("reports CRLF keep-alive pings between messages (RFC 5626 §3.5.1)", () => {
    const f = new SipStreamFramer();
    const items = f.push(Buffer.concat([Buffer.from("\r\n\r\n"), message(1), Buffer.from("\r\n\r\n")]));
    expect(items.map((i) => i.kind)).toEqual(["ping", "message", "ping"]);
    const g = new SipStreamFramer();
    expect(g.push(Buffer.from("\r\n"))).toEqual([]);
    expect(g.push(Buffer.from("\r\n")).map((i) => i.kind)).toEqual(["ping"]);
  });

  it.each<[string, Buffer, number, RegExp]>([
    [
      "missing Content-Length",
      crlf("OPTIONS sip:b@x SIP/2.0", "Via: SIP/2.0/TCP h;branch=z9hG4bK1", "", ""),
      400,
      /Missing Content-Length/,
    ],
    [
      "negative Content-Length",
      crlf("OPTIONS sip:b@x SIP/2.0", "Content-Length: -5", "", ""),
      400,
      /Negative/,
    ],
    [
      "two Content-Length values",
      crlf("OPTIONS sip:b@x SIP/2.0", "l: 1", "Content-Length: 2", "", ""),
      400,
      /Multiple/,
    ],
    [
      "a Content-Length beyond the size limit",
      crlf("OPTIONS sip:b@x SIP/2.0", "Content-Length: 1000000", "", ""),
      413,
      /Too Large/,
    ],
  ])("fails the connection on %s", (_what, buf, status, reason) => {
    const f = new SipStreamFramer();
    const items = f.push(buf);
    expect(items).toHaveLength(1);
    const item = items[0]!;
    if (item.kind !== "error") throw new Error("expected an error");
    expect(item.error.status).toBe(status);
    expect(item.error.reason).toMatch(reason);
    expect(f.push(message(9))).toEqual([]);
  });

  it("bounds memory when headers never end", () => {
    const f = new SipStreamFramer({ maxMessageSize: 1000 });
    const items = f.push(Buffer.alloc(2000, 0x61));
    expect(items[0]?.kind).toBe("error");
    expect(f.pendingBytes).toBe(0);
  });
});
