/**
 * createB2BUA between three of our stacks (A → M → C) on a fake clock:
 * topology hiding, SDP hooks, 18x and failure pass-through, CANCEL, BYE from
 * either side, re-INVITE relay, and no dialog or transaction left behind.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { B2buaOptions } from "../../src/sip/app/b2bua.js";
import { createResponse } from "../../src/sip/builder.js";
import type { Dialog } from "../../src/sip/dialog/dialog.js";
import type { SrfRequest, SrfResponse } from "../../src/sip/dialog/request-response.js";
import type { UacInvite } from "../../src/sip/dialog/uac-invite.js";
import type { SipRequest } from "../../src/sip/message.js";
import type { FakeClock } from "../../src/sip/timers.js";
import {
  newClock,
  type Peer,
  RawPeer,
  SDP_A,
  SDP_B,
  SDP_C,
  settle,
  startPeer,
} from "../support/dialog-peers.js";
import { waitFor } from "../support/wait.js";

let clock: FakeClock;
let a: Peer;
let m: Peer;
let c: Peer;
let legs: { uas: Dialog; uac: Dialog } | undefined;
let b2buaError: unknown;
let options: B2buaOptions;
let cInvites: SipRequest[];
let cBehaviour: (req: SrfRequest, res: SrfResponse) => Promise<void> | void;
let cDialog: Dialog | undefined;

beforeEach(async () => {
  clock = newClock();
  a = await startPeer(clock);
  m = await startPeer(clock);
  c = await startPeer(clock);
  legs = undefined;
  b2buaError = undefined;
  cDialog = undefined;
  cInvites = [];
  options = {};
  m.srf.invite(async (req, res) => {
    try {
      legs = await m.srf.createB2BUA(req, res, c.uri("carol"), options);
    } catch (err) {
      b2buaError = err;
    }
  });
  cBehaviour = async (req, res) => {
    cDialog = await c.srf.createUAS(req, res, { localSdp: SDP_B });
  };
  c.srf.invite((req, res) => {
    cInvites.push(req.msg);
    return cBehaviour(req, res);
  });
});

afterEach(async () => {
  await a.stack.close();
  await m.stack.close();
  await c.stack.close();
});

async function drained(): Promise<void> {
  for (const p of [a, m, c]) {
    await waitFor(() => p.srf.counts().dialogs.total === 0, 2000, "dialogs to end");
  }
  clock.advance(64 * 500 + 5000); // Timers J, K, L, M … run out
  await settle();
  for (const p of [a, m, c]) expect(p.stack.counts().total).toBe(0);
}

describe("createB2BUA", () => {
  it("bridges a call with topology hiding and the SDP hooks; BYE from A ends B once", async () => {
    options = {
      proxyRequestHeaders: ["all", "-X-Secret"],
      localSdpB: (sdpA) => sdpA.replace("40000", "50000"),
      localSdpA: async (sdpB) => sdpB.replace("40002", "50002"),
    };
    const uac = await a.srf.createUAC(m.uri("bob"), {
      localSdp: SDP_A,
      headers: [
        ["X-Pass", "yes"],
        ["X-Secret", "no"],
        ["Record-Route", `<sip:127.0.0.1:${m.port};lr>`],
      ],
    });
    await waitFor(() => legs !== undefined, 1000);
    const inv = cInvites[0]!;
    const aInvite = { callId: uac.sip.callId };
    expect(inv.callId).not.toBe(aInvite.callId);
    expect(inv.via).toHaveLength(1);
    expect(inv.topVia!.port).toBe(m.port);
    expect(inv.header("contact")).toContain(`:${m.port}`);
    expect(inv.hasHeader("record-route")).toBe(false);
    expect(inv.header("x-pass")).toBe("yes");
    expect(inv.hasHeader("x-secret")).toBe(false);
    expect(inv.body.toString()).toContain("50000");
    expect(uac.remote.sdp).toContain("50002");
    expect(legs!.uas.other).toBe(legs!.uac);
    expect(legs!.uac.other).toBe(legs!.uas);

    let cEnded = 0;
    await waitFor(() => cDialog !== undefined, 1000);
    cDialog!.on("destroy", () => cEnded++);
    await uac.destroy();
    await waitFor(() => cEnded === 1, 1000);
    await drained();
    expect(cEnded).toBe(1);
  });

  it("BYE from B ends A", async () => {
    const uac = await a.srf.createUAC(m.uri(), { localSdp: SDP_A });
    await waitFor(() => cDialog !== undefined && legs !== undefined, 1000);
    let aEnded = 0;
    uac.on("destroy", () => aEnded++);
    await cDialog!.destroy();
    await waitFor(() => aEnded === 1, 1000);
    await drained();
  });

  it("passes a 486 from B to A", async () => {
    cBehaviour = (_req, res) => {
      res.send(486, { headers: [["X-Why", "busy"]] });
    };
    options = { proxyResponseHeaders: ["X-Why"] };
    const err = await a.srf.createUAC(m.uri(), { localSdp: SDP_A }).catch((e) => e);
    expect(err).toMatchObject({ status: 486 });
    expect(err.response.header("x-why")).toBe("busy");
    await waitFor(() => b2buaError !== undefined, 1000);
    await drained();
  });

  it("relays 180 and 183 with the localSdpA hook applied to early media", async () => {
    cBehaviour = async (req, res) => {
      res.send(180);
      res.send(183, { body: SDP_B });
      cDialog = await c.srf.createUAS(req, res, { localSdp: SDP_B });
    };
    options = { localSdpA: (sdp) => sdp.replace("40002", "60002") };
    const seen: Array<[number, string]> = [];
    const uac = await a.srf.createUAC(
      m.uri(),
      { localSdp: SDP_A },
      { cbProvisional: (r) => seen.push([r.status, r.body.toString()]) },
    );
    expect(seen.map(([s]) => s)).toEqual([180, 183]);
    expect(seen[1]![1]).toContain("60002");
    await uac.destroy();
    await drained();
  });

  it("CANCEL on A: 487 to A and CANCEL with Reason to B", async () => {
    let cCancel: SipRequest | undefined;
    cBehaviour = (req, res) => {
      req.on("cancel", (cancel: SipRequest) => {
        cCancel = cancel;
      });
      res.send(180);
    };
    let invite: UacInvite | undefined;
    const p = a.srf.createUAC(
      m.uri(),
      { localSdp: SDP_A },
      {
        cbRequest: (_r, inv) => {
          invite = inv;
        },
      },
    );
    const outcome = p.catch((e) => e);
    await waitFor(() => a.srf.counts().dialogs.early === 1, 1000, "180 at A");
    invite!.cancel();
    expect(await outcome).toMatchObject({ status: 487 });
    await waitFor(() => cCancel !== undefined, 1000);
    expect(cCancel!.header("reason")).toContain("cause=487");
    await waitFor(() => b2buaError !== undefined, 1000);
    expect(b2buaError).toMatchObject({ status: 487 });
    await drained();
  });

  it("relays a re-INVITE from A to B and the answer back", async () => {
    const uac = await a.srf.createUAC(m.uri(), { localSdp: SDP_A });
    await waitFor(() => cDialog !== undefined && legs !== undefined, 1000);
    let offerAtC = "";
    cDialog!.on("modify", (req: SrfRequest, res: SrfResponse) => {
      offerAtC = req.body;
      res.send(200, { body: SDP_C });
    });
    const answer = await uac.modify(SDP_C.replace("40004", "41004"));
    expect(offerAtC).toContain("41004");
    expect(answer).toBe(SDP_C);
    await uac.destroy();
    await drained();
  });

  it("relays an UPDATE with an offer; answers a bodiless UPDATE (refresh) on its own leg", async () => {
    const uac = await a.srf.createUAC(m.uri(), { localSdp: SDP_A });
    await waitFor(() => cDialog !== undefined && legs !== undefined, 1000);
    let updatesAtC = 0;
    cDialog!.on("update", (req: SrfRequest, res: SrfResponse) => {
      updatesAtC++;
      expect(req.body).toBe(SDP_C);
      res.send(200, { body: SDP_B });
    });
    const r = await uac.request({ method: "UPDATE", body: SDP_C });
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe(SDP_B);
    const refresh = await uac.request({ method: "UPDATE" });
    expect(refresh.status).toBe(200);
    expect(updatesAtC).toBe(1);
    await uac.destroy();
    await drained();
  });

  it("CANCEL racing B's 200: B gets ACK then BYE, A gets 487, nothing left", async () => {
    const raw = await RawPeer.start();
    try {
      const mm = await startPeer(clock);
      let err: unknown;
      mm.srf.invite(async (req, res) => {
        await mm.srf.createB2BUA(req, res, raw.uri).catch((e) => {
          err = e;
        });
      });
      let invite: UacInvite | undefined;
      const outcome = a.srf
        .createUAC(mm.uri(), { localSdp: SDP_A }, { cbRequest: (_r, inv) => (invite = inv) })
        .catch((e) => e);
      const bInvite = await raw.waitForRequest("INVITE");
      raw.send(createResponse(bInvite, 180, { toTag: "rawB" }), mm.port);
      await waitFor(() => a.srf.counts().dialogs.early === 1, 1000, "180 at A");
      invite!.cancel();
      const cancel = await raw.waitForRequest("CANCEL");
      // the far end answered before it saw the CANCEL: 200 to the CANCEL and 200 to the INVITE
      raw.send(createResponse(cancel, 200, { toTag: "rawB" }), mm.port);
      raw.send(
        createResponse(bInvite, 200, {
          toTag: "rawB",
          headers: [
            ["Contact", `<${raw.uri}>`],
            ["Content-Type", "application/sdp"],
          ],
          body: SDP_B,
        }),
        mm.port,
      );
      expect(await outcome).toMatchObject({ status: 487 });
      await raw.waitForRequest("ACK");
      const bye = await raw.waitForRequest("BYE");
      expect(bye.to!.params.tag).toBe("rawB");
      raw.send(createResponse(bye, 200), mm.port);
      await waitFor(() => err !== undefined, 1000);
      expect(err).toMatchObject({ status: 487 });
      await waitFor(() => mm.srf.counts().dialogs.total === 0, 1000, "no dialog at the B2BUA");
      clock.advance(64 * 500 + 5000);
      await settle();
      expect(mm.stack.counts().total).toBe(0);
      await mm.stack.close();
    } finally {
      raw.close();
    }
  });

  it("takes the server transaction instead of (req, res): createB2BUA(tx, uri, opts)", async () => {
    const mm = await startPeer(clock);
    mm.srf.invite(async (req) => {
      legs = await mm.srf.createB2BUA(req.tx, c.uri("carol"), { proxyRequestHeaders: ["X-Pass"] });
    });
    const uac = await a.srf.createUAC(mm.uri(), { localSdp: SDP_A, headers: [["X-Pass", "1"]] });
    await waitFor(() => legs !== undefined, 1000);
    expect(cInvites[0]!.header("x-pass")).toBe("1");
    expect(uac.remote.sdp).toBe(SDP_B);
    await uac.destroy();
    await waitFor(() => mm.srf.counts().dialogs.total === 0 && c.srf.counts().dialogs.total === 0, 1000);
    await mm.stack.close();
  });
});
