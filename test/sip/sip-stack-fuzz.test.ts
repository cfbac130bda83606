/**
 * Bad input must never crash the stack: random bytes and mutated messages go
 * straight into the inbound path (through a fake transport), and whatever the
 * stack answers must itself parse.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseMessage } from "../../src/sip/parser.js";
import { SipStack } from "../../src/sip/sip-stack.js";
import { FakeClock } from "../../src/sip/timers.js";
import type { Endpoint, Transport, TransportHooks } from "../../src/sip/transport/types.js";

class FakeUdp implements Transport {
  readonly protocol = "UDP" as const;
  readonly reliable = false;
  readonly connectionCount = 0;
  readonly local: Endpoint = { protocol: "UDP", host: "127.0.0.1", port: 5060 };
  readonly sentBy = "127.0.0.1:5060";
  readonly sent: Buffer[] = [];
  constructor(readonly hooks: TransportHooks) {}
  async listen() {}
  async close() {}
  send(_dest: Endpoint, data: Buffer) {
    this.sent.push(data);
  }
  inject(data: Buffer) {
    this.hooks.onPacket({
      data,
      source: { protocol: "UDP", host: "192.0.2.1", port: 5062 },
      transport: this,
    });
  }
}

const INVITE = Buffer.from(
  "INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bKfuzz;rport\r\n" +
    'Max-Forwards: 70\r\nFrom: "A" <sip:a@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\n' +
    "Call-ID: fuzz@x\r\nCSeq: 1 INVITE\r\nContact: <sip:a@192.0.2.1:5062>\r\nContent-Type: application/sdp\r\n" +
    "Content-Length: 4\r\n\r\nv=0\n",
);
const RESPONSE = Buffer.from(
  "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx\r\nFrom: <sip:a@x>;tag=1\r\n" +
    "To: <sip:b@y>;tag=2\r\nCall-ID: r@x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
);

function mutate(base: Buffer, edits: Array<{ at: number; kind: number; byte: number; len: number }>): Buffer {
  let buf = Buffer.from(base);
  for (const e of edits) {
    const at = e.at % (buf.length + 1);
    if (e.kind === 0)
      buf[at % buf.length] = e.byte; // overwrite
    else if (e.kind === 1)
      buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at + e.len)]); // delete
    else buf = Buffer.concat([buf.subarray(0, at), Buffer.alloc(e.len, e.byte), buf.subarray(at)]); // insert
  }
  return buf;
}

describe("SipStack inbound path under bad input", () => {
  it("never throws, and every answer it sends parses", async () => {
    let fake: FakeUdp | undefined;
    const clock = new FakeClock();
    const stack = new SipStack({
      clock,
      transports: [{ protocol: "UDP", host: "127.0.0.1", port: 0 }],
      transportFactories: {
        UDP: (_spec, hooks) => {
          fake = new FakeUdp(hooks);
          return fake;
        },
      },
    });
    await stack.start();
    let delivered = 0;
    let answers = 0;
    let runs = 0;
    stack.onRequest = (tx) => {
      delivered++;
      tx.reply(tx.request.method === "INVITE" ? 486 : 200);
    };
    const edit = fc.record({
      at: fc.nat(600),
      kind: fc.integer({ min: 0, max: 2 }),
      byte: fc.integer({ min: 0, max: 255 }),
      len: fc.integer({ min: 1, max: 40 }),
    });
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
          fc
            .tuple(fc.constantFrom(INVITE, RESPONSE), fc.array(edit, { minLength: 1, maxLength: 4 }))
            .map(([b, e]) => mutate(b, e)),
        ),
        (template) => {
          // A fresh branch per run, so mutated INVITEs start new transactions instead of matching old ones.
          const data = Buffer.from(
            template.toString("latin1").replace("z9hG4bKfuzz", `z9hG4bKfuzz${runs++}`),
            "latin1",
          );
          fake!.sent.length = 0;
          expect(() => fake!.inject(data)).not.toThrow();
          for (const out of fake!.sent) expect(() => parseMessage(out)).not.toThrow();
          answers += fake!.sent.length;
        },
      ),
      { numRuns: 3000, seed: 4242 },
    );
    // The run must have reached the transaction layer and the stateless 400 path, not only the parser.
    expect(delivered).toBeGreaterThan(20);
    expect(stack.stats.rejected).toBeGreaterThan(50);
    expect(answers).toBeGreaterThan(100);
    // Everything started by the fuzz ends on its timers.
    clock.advance(120_000);
    expect(stack.counts().total).toBe(0);
    expect(stack.counts().pending2xx).toBe(0);
    await stack.close();
  });
});
