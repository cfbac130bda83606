/**
 * The gateway's pipeline with in-process peers (our own Srf as caller and
 * callee, real UDP on loopback): digest-authenticated trunk, emergency calls
 * never challenged, 403 for unknown sources, PAI/Privacy policy, OPTIONS, and
 * the pure helpers of the CallSession.
 */
import { afterEach, describe, expect, it } from "vitest";
import { headerRules, isFailoverStatus, trunkUri } from "../../src/b2bua/call-session.js";
import type { TrunkConfig } from "../../src/config/index.js";
import {
  type Dialog,
  DigestClient,
  isSipStatusError,
  type SipRequest,
  SipStack,
  Srf,
} from "../../src/sip/index.js";
import { SDP_A, SDP_B } from "../support/dialog-peers.js";
import {
  GW_TIMERS,
  sqliteRecords,
  startTestGateway,
  type TestGateway,
  waitDrained,
} from "../support/gateway.js";

const GW = 26260;

interface Peer {
  stack: SipStack;
  srf: Srf;
  port: number;
}

async function peer(): Promise<Peer> {
  const stack = new SipStack({
    transports: [{ protocol: "UDP", host: "127.0.0.1", port: 0 }],
    timers: GW_TIMERS,
  });
  await stack.start();
  return { stack, srf: new Srf(stack), port: stack.transport("UDP")!.local.port };
}

let t: TestGateway | undefined;
let peers: Peer[] = [];

afterEach(async () => {
  const current = t;
  t = undefined;
  try {
    if (current) await waitDrained(current.gw);
  } finally {
    await current?.stop();
    for (const p of peers) await p.stack.close();
    peers = [];
  }
}, 30_000);

/** A caller, a callee that answers (recording the INVITEs it got), and a gateway between them. */
async function setup(trunks: (calleePort: number) => string): Promise<{ a: Peer; invites: SipRequest[] }> {
  const a = await peer();
  const c = await peer();
  peers.push(a, c);
  const invites: SipRequest[] = [];
  c.srf.invite(async (req, res) => {
    invites.push(req.msg);
    await c.srf.createUAS(req, res, { localSdp: SDP_B });
  });
  t = await startTestGateway(GW, trunks(c.port));
  return { a, invites };
}

function call(a: Peer, user: string, opts: Parameters<Srf["createUAC"]>[1] = {}): Promise<Dialog> {
  return a.srf.createUAC(`sip:${user}@127.0.0.1:${GW}`, { localSdp: SDP_A, ...opts });
}

async function statusOf(p: Promise<Dialog>): Promise<number> {
  try {
    const d = await p;
    await d.destroy();
    return 200;
  } catch (err) {
    return isSipStatusError(err) ? err.status : -1;
  }
}

const authTrunks = (port: number) => `trunks:
  - name: pbx
    address: "127.0.0.1:5999"
    inbound:
      acl: ["127.0.0.1/32"]
      auth: { username: alice, password: s3cret, realm: gw.test }
  - name: carrier
    address: "127.0.0.1:${port}"
routes:
  - match: ".*"
    to: "trunk:carrier"`;

describe("gateway pipeline", () => {
  it("challenges a trunk with inbound credentials and connects the authenticated call", async () => {
    const { a, invites } = await setup(authTrunks);
    expect(await statusOf(call(a, "12015550123"))).toBe(401);
    const client = new DigestClient((realm) =>
      realm === "gw.test" ? { username: "alice", password: "s3cret" } : undefined,
    );
    const dialog = await call(a, "12015550123", {
      auth: (res, req) =>
        client.answer(
          {
            status: res.status,
            wwwAuthenticate: res.wwwAuthenticate,
            proxyAuthenticate: res.proxyAuthenticate,
          },
          { method: req.method, uri: req.uriText, body: req.body },
        ),
    });
    expect(dialog.remote.sdp).toBe(SDP_B);
    expect(invites).toHaveLength(1);
    // Our credentials stay on A's leg.
    expect(invites[0]!.hasHeader("authorization")).toBe(false);
    await dialog.destroy();
    await waitDrained(t!.gw);
    t!.gw.cdr!.flush();
    // The challenged attempt is not a call; the authenticated one is.
    expect(sqliteRecords(t!.sqlite).map((r) => r.status)).toEqual([200]);
  });

  it("never challenges an emergency call", async () => {
    const { a, invites } = await setup(authTrunks);
    expect(await statusOf(call(a, "911"))).toBe(200);
    expect(invites[0]!.uriText).toContain("sip:911@");
  });

  it("refuses an unknown source with 403", async () => {
    const { a, invites } = await setup(
      (port) => `trunks:
  - name: far
    address: "10.0.0.1:5060"
    inbound:
      acl: ["10.0.0.0/8"]
  - name: carrier
    address: "127.0.0.1:${port}"
routes:
  - match: ".*"
    to: "trunk:carrier"`,
    );
    expect(await statusOf(call(a, "12015550123"))).toBe(403);
    expect(invites).toHaveLength(0);
  });

  it.each([
    [true, false, true, true],
    [false, true, false, false],
  ])(
    "trustPai %s, stripPrivacy %s → PAI crosses %s, Privacy crosses %s",
    async (trust, strip, pai, privacy) => {
      const { a, invites } = await setup(
        (port) => `trunks:
  - name: pbx
    address: "127.0.0.1:5999"
    inbound:
      acl: ["127.0.0.1/32"]
    headers: { trustPai: ${trust} }
  - name: carrier
    address: "127.0.0.1:${port}"
    headers: { stripPrivacy: ${strip} }
routes:
  - match: ".*"
    to: "trunk:carrier"`,
      );
      const d = await call(a, "12015550123", {
        headers: [
          ["P-Asserted-Identity", "<sip:+12015550100@pbx.example>"],
          ["Privacy", "id"],
          ["X-Internal", "secret"],
        ],
      });
      await d.destroy();
      const inv = invites[0]!;
      expect(inv.hasHeader("p-asserted-identity")).toBe(pai);
      expect(inv.hasHeader("privacy")).toBe(privacy);
      expect(inv.hasHeader("x-internal")).toBe(false);
    },
  );

  it("answers OPTIONS with 200", async () => {
    const { a } = await setup(authTrunks);
    const res = await a.srf.request(`sip:127.0.0.1:${GW}`, { method: "OPTIONS" });
    expect(res.status).toBe(200);
  });
});

describe("CallSession helpers", () => {
  const trunk = (over: Partial<TrunkConfig>): TrunkConfig => ({
    name: "t",
    address: { host: "192.0.2.1", port: 5080 },
    addressText: "192.0.2.1:5080",
    transport: "udp",
    inbound: { acl: [] },
    outbound: {},
    numbers: { format: "e164" },
    headers: { trustPai: false, stripPrivacy: false, topologyHiding: true },
    limits: {},
    noAnswerTimeout: 60,
    ...over,
  });

  it("fails over on 408 and 5xx only", () => {
    expect([408, 500, 503, 599].every(isFailoverStatus)).toBe(true);
    expect([404, 486, 487, 603, 200].some(isFailoverStatus)).toBe(false);
  });

  it("builds the B-leg URI with the trunk's number format and transport", () => {
    const number = { number: "+12015550123", kind: "e164" as const, dialled: "+12015550123" };
    expect(trunkUri(trunk({}), number)).toBe("sip:+12015550123@192.0.2.1:5080");
    expect(
      trunkUri(
        trunk({
          transport: "tcp",
          numbers: { format: "national", defaultCountry: "US" },
          address: { host: "::1" },
        }),
        number,
      ),
    ).toBe("sip:2015550123@[::1];transport=tcp");
    expect(trunkUri(trunk({}), { number: "*21#", kind: "dialled", dialled: "*21#" })).toBe(
      "sip:*21%23@192.0.2.1:5080",
    );
  });

  it("lets PAI cross only from a trusted trunk", () => {
    expect(
      headerRules(
        trunk({ headers: { trustPai: true, stripPrivacy: false, topologyHiding: true } }),
        trunk({}),
      ),
    ).toEqual(["P-Asserted-Identity", "Privacy"]);
    expect(
      headerRules(
        undefined,
        trunk({ headers: { trustPai: false, stripPrivacy: true, topologyHiding: true } }),
      ),
    ).toEqual([]);
  });
});
