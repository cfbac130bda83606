import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ConfigError, formatIssue, loadConfig, parseConfig } from "../../src/config/index.js";

function issues(text: string, env: Record<string, string> = {}): string[] {
  try {
    parseConfig(text, "test.yaml", { env });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues.map(formatIssue);
  }
  throw new Error("expected the configuration to be refused");
}

const MINIMAL = `
sip:
  listen: ["udp:127.0.0.1:5060", "tcp:127.0.0.1:5060"]
http:
  listen: "127.0.0.1:8080"
trunks:
  - name: carrier-a
    address: "127.0.0.1:5080"
    transport: udp
routes:
  - match: ".*"
    to: "trunk:carrier-a"
`;

describe("configuration", () => {
  it("accepts the issue's minimal shape and fills the defaults", () => {
    const c = parseConfig(MINIMAL, "min.yaml", { env: {} });
    expect(c.sip.listen).toEqual([
      { transport: "udp", host: "127.0.0.1", port: 5060 },
      { transport: "tcp", host: "127.0.0.1", port: 5060 },
    ]);
    expect(c.http.listen).toEqual({ host: "127.0.0.1", port: 8080 });
    expect(c.trunks[0]).toMatchObject({
      name: "carrier-a",
      address: { host: "127.0.0.1", port: 5080 },
      transport: "udp",
      headers: { trustPai: false, stripPrivacy: false, topologyHiding: true },
      numbers: { format: "e164" },
      inbound: { acl: [] },
      limits: {},
    });
    expect(c.routes[0]!.targets).toEqual(["carrier-a"]);
    expect(c.routes[0]!.regex.test("+15551234567")).toBe(true);
    expect(c.emergency.numbers).toEqual(["911", "112"]);
    expect(c.cdr).toEqual({ sqlite: "./data/cdr.sqlite", jsonl: "./data/cdr.jsonl" });
    expect(c.logging.level).toBe("info");
  });

  it("loads config/default.yaml and config/example.yaml", () => {
    const d = loadConfig(undefined, { env: {} });
    expect(d.http.listen).toEqual({ host: "127.0.0.1", port: 8080 });
    expect(d.sip.listen.every((l) => l.host === "127.0.0.1")).toBe(true);
    const e = loadConfig(fileURLToPath(new URL("../../config/example.yaml", import.meta.url)), { env: {} });
    expect(e.trunks.length).toBeGreaterThanOrEqual(2);
    expect(e.routes.some((r) => r.targets.length > 1)).toBe(true);
    expect(e.directory.length).toBeGreaterThanOrEqual(2);
  });

  it("compiles routes to whole-number matches with failover lists", () => {
    const c = parseConfig(
      `${MINIMAL}  - match: "911"\n    to: ["trunk:carrier-a", "trunk:carrier-a"]\n`,
      "r.yaml",
      { env: {} },
    );
    const r = c.routes[1]!;
    expect(r.regex.test("911")).toBe(true);
    expect(r.regex.test("19115")).toBe(false);
    expect(r.targets).toEqual(["carrier-a", "carrier-a"]);
  });

  it("inherits the global number format on trunks", () => {
    const c = parseConfig(
      `numbers: { format: national, defaultCountry: FR }\ntrunks:\n  - name: t\n    address: sip.example.net\n  - name: u\n    address: "[::1]:5070"\n    numbers: { format: e164 }\n`,
      "n.yaml",
      { env: {} },
    );
    expect(c.trunks[0]!.numbers).toEqual({ format: "national", defaultCountry: "FR" });
    expect(c.trunks[0]!.address).toEqual({ host: "sip.example.net" });
    expect(c.trunks[1]!.numbers).toEqual({ format: "e164", defaultCountry: "FR" });
    expect(c.trunks[1]!.address).toEqual({ host: "::1", port: 5070 });
  });

  it("names every error with its key path and fix", () => {
    const list = issues(`
sip: { listen: ["udp:127.0.0.1"] }
trunks:
  - name: a
    address: "bad address"
    transport: sctp
    inbound: { acl: ["10.0.0.0/33"] }
    numbers: { format: national }
  - name: a
    address: "h.example"
    limits: { maxCalls: 0, callsPerSecond: -1 }
routes:
  - match: "(+"
    to: ["trunk:zz", "trunk:a"]
  - match: ".*"
    to: 3
foo: 1
logging: { level: loud }
`);
    const expected = [
      'sip.listen[0]: expected "transport:host:port"',
      'trunks[0].address: expected "host:port" or a DNS name — e.g. "127.0.0.1:5080"',
      "trunks[0].transport: expected",
      "trunks[0].inbound.acl[0]: expected an IP address or CIDR block",
      'trunks[0].numbers.defaultCountry: required when format is "national"',
      'trunks[1].name: "a" is already the name of trunks[0]',
      "trunks[1].limits.maxCalls: expected at least 1",
      "trunks[1].limits.callsPerSecond: expected a rate above 0",
      "routes[0].match: invalid regular expression",
      'routes[0].to[0]: unknown trunk "zz" — define it under trunks or use one of: trunk:a',
      'routes[1].to: expected "trunk:NAME"',
      "foo: unknown key",
      "logging.level: expected one of",
    ];
    for (const e of expected)
      expect(
        list.some((l) => l.startsWith(e)),
        `${e}\n${list.join("\n")}`,
      ).toBe(true);
    expect(list.length).toBe(expected.length);
  });

  it("reads media and dsip settings, defaulting to the embedded engine", () => {
    const d = parseConfig(MINIMAL, "min.yaml", { env: {} });
    expect(d.media).toEqual({
      engine: "embedded",
      anchorSip: false,
      embedded: { host: "127.0.0.1", portMin: 30000, portMax: 30999 },
      rtpengine: { host: "127.0.0.1", port: 22222, timeoutMs: 2000 },
    });
    expect(d.dsip).toEqual({ noAnswerTimeout: 60 });
    const c = parseConfig(
      `${MINIMAL}
media:
  engine: rtpengine
  rtpengine: { address: "127.0.0.1:2223", timeoutMs: 500 }
dsip:
  noAnswerTimeout: 20`,
      "media.yaml",
      { env: {} },
    );
    expect(c.media.engine).toBe("rtpengine");
    expect(c.media.rtpengine).toEqual({ host: "127.0.0.1", port: 2223, timeoutMs: 500 });
    expect(c.dsip.noAnswerTimeout).toBe(20);
  });

  it("names bad media settings with their key and fix", () => {
    const list = issues(`${MINIMAL}
media:
  engine: freeswitch
  embedded: { portMin: 31000, portMax: 30000 }
  rtpengine: { address: "nowhere" }`);
    expect(list.some((l) => l.startsWith("media.engine:") && l.includes('"embedded"'))).toBe(true);
    expect(
      list.some((l) => l.startsWith("media.embedded:") && l.includes("portMin must be below portMax")),
    ).toBe(true);
    expect(list.some((l) => l.startsWith("media.rtpengine.address:") && l.includes("host:port"))).toBe(true);
  });

  it("refuses a route to an unknown trunk even when all else is valid", () => {
    expect(issues(MINIMAL.replace('to: "trunk:carrier-a"', 'to: "trunk:carrier-b"'))).toEqual([
      'routes[0].to: unknown trunk "carrier-b" — define it under trunks or use one of: trunk:carrier-a',
    ]);
  });

  it("refuses an unknown country and a bad emergency number", () => {
    const list = issues(
      `numbers: { format: national, defaultCountry: XX }\nemergency: { numbers: ["9-1-1"] }\n`,
    );
    expect(list[0]).toMatch(/^numbers\.defaultCountry: expected an ISO 3166-1 alpha-2/);
    expect(list[1]).toMatch(/^emergency\.numbers\[0\]: expected digits only/);
  });

  it("applies environment overrides and names the variable in errors", () => {
    const c = parseConfig(MINIMAL, "env.yaml", {
      env: {
        DSIP_GATEWAY_HTTP_LISTEN: "127.0.0.1:9090",
        DSIP_GATEWAY_SIP_LISTEN: "udp:127.0.0.1:6060, tls:[::1]:6061",
        DSIP_GATEWAY_LOG_LEVEL: "debug",
        DSIP_GATEWAY_CDR_JSONL: "off",
      },
    });
    expect(c.http.listen).toEqual({ host: "127.0.0.1", port: 9090 });
    expect(c.sip.listen).toEqual([
      { transport: "udp", host: "127.0.0.1", port: 6060 },
      { transport: "tls", host: "::1", port: 6061 },
    ]);
    expect(c.logging.level).toBe("debug");
    expect(c.cdr.jsonl).toBe(null);
    expect(issues(MINIMAL, { DSIP_GATEWAY_HTTP_LISTEN: "nope" })).toEqual([
      'http.listen (from DSIP_GATEWAY_HTTP_LISTEN): expected "host:port" — e.g. "127.0.0.1:8080"',
    ]);
  });

  it("reports YAML syntax errors with their position, and a missing file", () => {
    const list = issues("a: 1\na: 2\n");
    expect(list[0]).toMatch(/^line 2, column 1: YAML syntax: Map keys must be unique/);
    expect(issues("- 1")[0]).toMatch(/expected a YAML mapping/);
    const dir = mkdtempSync(join(tmpdir(), "dsip-config-"));
    try {
      expect(() => loadConfig(join(dir, "missing.yaml"), { env: {} })).toThrow(/cannot read .*ENOENT/);
      writeFileSync(join(dir, "ok.yaml"), MINIMAL);
      expect(loadConfig(join(dir, "ok.yaml"), { env: {} }).trunks).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("an empty file is the defaults", () => {
    const c = parseConfig("", "empty.yaml", { env: {} });
    expect(c.trunks).toEqual([]);
    expect(c.http.listen.port).toBe(8080);
  });

  it("compiles the directory: numbers to E.164, present defaulting to the number", () => {
    const c = parseConfig(
      `
numbers: { defaultCountry: US }
directory:
  - number: "+1 555 123 0001"
    did: "did:key:z6MkAlice"
    display: Alice
  - number: "(555) 123-0002"
    did: "did:web:bob.example:users:bob"
    present: "555-123-0009"
  - user: carol
    did: "did:key:z6MkCarol"
`,
      "dir.yaml",
      { env: {} },
    );
    expect(c.directory).toEqual([
      { number: "+15551230001", did: "did:key:z6MkAlice", present: "+15551230001", display: "Alice" },
      { number: "+15551230002", did: "did:web:bob.example:users:bob", present: "+15551230009" },
      { user: "carol", did: "did:key:z6MkCarol" },
    ]);
    expect(parseConfig("", "empty.yaml", { env: {} }).directory).toEqual([]);
  });

  it("names every directory error with its key path and fix", () => {
    const found = issues(`
directory:
  - number: "5551230001"
    did: "did:key:z6MkA"
  - number: "+1555"
    did: "did:key:z6MkB"
  - user: "alice@example.com"
    did: "did:key:z6MkC"
  - number: "+15551230003"
    user: bob
    did: "did:key:z6MkD"
  - did: "did:key:z6MkE"
  - number: "+15551230004"
    did: "did:key:z6MkF#key-1"
  - number: "+15551230004"
    did: "did:key:z6MkG"
  - user: dave
    did: "did:key:z6MkH"
  - user: dave
    did: "did:key:z6MkI"
  - number: "+15551230005"
    did: "did:key:z6MkJ"
  - number: "+15551230006"
    did: "did:key:z6MkJ"
  - number: 15551230007
    did: "did:key:z6MkK"
  - number: "+15551230008"
    did: "not-a-did"
    colour: red
`);
    expect(found).toEqual(
      expect.arrayContaining([
        'directory[0].number: "5551230001" has no country code — write it in E.164 (e.g. "+15551230001") or set numbers.defaultCountry',
        'directory[1].number: "+1555" is not a possible phone number — write it in E.164, e.g. "+15551230001"',
        expect.stringMatching(/^directory\[2\]\.user: use letters, digits/),
        "directory[3]: give either number: or user:, not both — use two entries for the same DID",
        'directory[4]: give number: (e.g. "+15551230001") or user: (e.g. "alice")',
        expect.stringMatching(/^directory\[5\]\.did: expected a DID without path, query or fragment/),
        "directory[6].number: +15551230004 is already in directory[5] — a number reaches one DID; remove one entry",
        'directory[8].user: "dave" is already in directory[7] — a user reaches one DID; remove one entry',
        'directory[10].present: this DID already presents +15551230005 in directory[9] — a DID shows one number on SIP: set present: "+15551230005" here too',
        'directory[11].number: expected a phone number as a string — e.g. "+15551230001" (quote it in YAML)',
        expect.stringMatching(/^directory\[12\]\.did: expected a DID/),
        "directory[12].colour: unknown key — remove it or check its spelling (see docs/configuration.md)",
      ]),
    );
  });

  it("accepts a DID on several numbers when they present the same number", () => {
    const c = parseConfig(
      `
directory:
  - { number: "+15551230001", did: "did:key:z6MkA" }
  - { number: "+15551230002", did: "did:key:z6MkA", present: "+15551230001" }
  - { user: "a", did: "did:key:z6MkA" }
`,
      "dir.yaml",
      { env: {} },
    );
    expect(c.directory.map((d) => d.present)).toEqual(["+15551230001", "+15551230001", undefined]);
  });
});
