import { readdirSync, readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  createRequest,
  createResponse,
  describeMessage,
  parseMessage,
  quoteString,
  SipParseError,
  type SipRequest,
  SipStreamFramer,
  serializeMessage,
  validateMessage,
} from "../../src/sip/index.js";
import { TORTURE_DIR } from "./helpers.js";

const tokenChar = fc.constantFrom(
  ..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~",
);
const token = fc.string({ unit: tokenChar, minLength: 1, maxLength: 12 });
const label = fc.string({
  unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789"),
  minLength: 1,
  maxLength: 10,
});
const host = fc.oneof(
  // RFC 3261 hostname: the top label starts with a letter
  fc
    .tuple(fc.array(label, { maxLength: 3 }), fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz"), label)
    .map(([labels, first, top]) => [...labels, first + top].join(".")),
  fc.ipV4(),
  fc.ipV6().map((a) => `[${a}]`),
);
const user = fc.string({
  unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789-_.!~*'()&=+$,;?/"),
  minLength: 1,
  maxLength: 16,
});
const port = fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined });
const sipUri = fc
  .record({ scheme: fc.constantFrom("sip", "sips"), user: fc.option(user, { nil: undefined }), host, port })
  .map(
    ({ scheme, user, host, port }) => `${scheme}:${user ? `${user}@` : ""}${host}${port ? `:${port}` : ""}`,
  );
const displayName = fc.string({ minLength: 0, maxLength: 20 }).filter((s) => !/[\r\n]/.test(s));
const headerValue = fc
  .string({ unit: fc.constantFrom(...'abc XYZ 0123;=,<>@:"/\\é'), maxLength: 40 })
  .map((s) => s.trim());
const method = fc.oneof(fc.constantFrom("INVITE", "OPTIONS", "BYE", "MESSAGE", "INFO"), token);

const request = fc.record({
  method,
  uri: sipUri,
  fromName: displayName,
  fromUri: sipUri,
  toUri: sipUri,
  tag: token,
  callId: fc.tuple(token, fc.option(token, { nil: undefined })).map(([a, b]) => (b ? `${a}@${b}` : a)),
  seq: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  maxForwards: fc.integer({ min: 0, max: 255 }),
  viaHost: host,
  viaPort: port,
  branch: token,
  extra: fc.array(
    fc.tuple(
      token.map((t) => `X-${t}`),
      headerValue,
    ),
    { maxLength: 5 },
  ),
  body: fc.uint8Array({ maxLength: 300 }),
});

describe("property: build → serialize → parse", () => {
  it("gives back the same message, and serializing again gives the same bytes", () => {
    fc.assert(
      fc.property(request, (r) => {
        const req = createRequest({
          method: r.method,
          uri: r.uri,
          headers: [
            ["Via", `SIP/2.0/UDP ${r.viaHost}${r.viaPort ? `:${r.viaPort}` : ""};branch=z9hG4bK${r.branch}`],
            ["Max-Forwards", String(r.maxForwards)],
            ["From", `${quoteString(r.fromName)} <${r.fromUri}>;tag=${r.tag}`],
            ["To", `<${r.toUri}>`],
            ["Call-ID", r.callId],
            ["CSeq", `${r.seq} ${r.method}`],
            ...r.extra,
            ...(r.body.length > 0
              ? ([["Content-Type", "application/octet-stream"]] as Array<[string, string]>)
              : []),
          ],
          body: Buffer.from(r.body),
        });
        const wire = serializeMessage(req);
        const back = parseMessage(wire) as SipRequest;
        validateMessage(back);
        expect(back.method).toBe(r.method);
        expect(back.uriText).toBe(r.uri);
        expect(back.from?.displayName).toBe(r.fromName);
        expect(back.from?.params.tag).toBe(r.tag);
        expect(back.callId).toBe(r.callId);
        expect(back.cseq).toEqual({ seq: r.seq, method: r.method });
        expect(back.maxForwards).toBe(r.maxForwards);
        expect(back.topVia?.params.branch).toBe(`z9hG4bK${r.branch}`);
        for (const [name, value] of r.extra) expect(back.headerValues(name)).toContain(value);
        expect(back.body.equals(Buffer.from(r.body))).toBe(true);
        expect(serializeMessage(back).equals(wire)).toBe(true);
        // and a response built from it parses and validates too
        const res = createResponse(back, 486, { toTag: "t1" });
        validateMessage(parseMessage(serializeMessage(res)));
      }),
      { numRuns: 500 },
    );
  });

  it("display names with quotes and backslashes survive the round trip", () => {
    fc.assert(
      fc.property(displayName, (name) => {
        const req = createRequest({
          method: "OPTIONS",
          uri: "sip:a@b",
          headers: [
            ["Via", "SIP/2.0/UDP h;branch=z9hG4bK1"],
            ["From", `${quoteString(name)} <sip:a@b>;tag=1`],
            ["To", "<sip:a@b>"],
            ["Call-ID", "c"],
            ["CSeq", "1 OPTIONS"],
          ],
        });
        const back = parseMessage(serializeMessage(req));
        validateMessage(back);
        expect(back.from?.displayName).toBe(name);
      }),
      { numRuns: 300 },
    );
  });
});

const corpus = readdirSync(TORTURE_DIR)
  .filter((f) => f.endsWith(".dat"))
  .map((f) => readFileSync(`${TORTURE_DIR}${f}`));

/** Everything a caller may do with a message: validate it and read every typed header. */
function exercise(buf: Buffer): void {
  try {
    const msg = parseMessage(buf);
    describeMessage(msg);
    validateMessage(msg);
    serializeMessage(msg);
  } catch (err) {
    if (!(err instanceof SipParseError)) throw err;
    expect(typeof err.reason).toBe("string");
    expect(err.reason).not.toMatch(/[\r\n]/);
    expect(err.status === 400 || err.status === 413 || err.status === 505 || err.drop).toBe(true);
  }
  const framer = new SipStreamFramer();
  for (const item of framer.push(buf)) if (item.kind === "message") exercise2(item.data);
}

function exercise2(buf: Buffer): void {
  try {
    const msg = parseMessage(buf, { framing: "stream" });
    describeMessage(msg);
    validateMessage(msg);
  } catch (err) {
    if (!(err instanceof SipParseError)) throw err;
  }
}

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({
    kind: fc.constant("insert" as const),
    at: fc.nat(),
    text: fc.constantFrom(
      ";",
      ",",
      '"',
      "<",
      ">",
      ":",
      "\r\n",
      " ",
      "\t",
      "%",
      "[",
      "]",
      "\\",
      "@",
      "\0",
      "=",
      "\r\n ",
    ),
  }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), len: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("duplicate" as const), at: fc.nat(), len: fc.integer({ min: 1, max: 80 }) }),
);

type Mutation =
  | { kind: "flip"; at: number; byte: number }
  | { kind: "insert"; at: number; text: string }
  | { kind: "delete"; at: number; len: number }
  | { kind: "truncate"; at: number }
  | { kind: "duplicate"; at: number; len: number };

function mutate(buf: Buffer, muts: Mutation[]): Buffer {
  let b = buf;
  for (const m of muts) {
    const at = m.at % Math.max(1, b.length);
    switch (m.kind) {
      case "flip": {
        b = Buffer.from(b);
        b[at] = m.byte;
        break;
      }
      case "insert":
        b = Buffer.concat([b.subarray(0, at), Buffer.from(m.text), b.subarray(at)]);
        break;
      case "delete":
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.len)]);
        break;
      case "truncate":
        b = b.subarray(0, at);
        break;
      case "duplicate":
        b = Buffer.concat([b.subarray(0, at + m.len), b.subarray(at)]);
        break;
    }
  }
  return b;
}

describe("property: mutated torture messages", () => {
  it("never throw anything but the typed parse error", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: corpus.length - 1 }),
        fc.array(mutation, { minLength: 1, maxLength: 6 }),
        (i, muts) => {
          exercise(mutate(corpus[i]!, muts));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("random bytes never crash the parser", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        exercise(Buffer.from(bytes));
      }),
      { numRuns: 2000 },
    );
  });
});
