/**
 * Session timers (RFC 4028): negotiation (pure), 422 and the retry, refresh
 * at half the interval by the refresher, BYE at expiry − min(32 s, interval/3)
 * by the other side. Long intervals run on the fake clock.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createRequest } from "../../src/sip/builder.js";
import type { Dialog } from "../../src/sip/dialog/dialog.js";
import type { SrfRequest, SrfResponse } from "../../src/sip/dialog/request-response.js";
import { expiryDelayMs, negotiateAsUas } from "../../src/sip/dialog/session-timer.js";
import type { FakeClock } from "../../src/sip/timers.js";
import { newClock, type Peer, SDP_A, SDP_B, settle, startPeer } from "../support/dialog-peers.js";
import { waitFor } from "../support/wait.js";

function invite(headers: Array<[string, string]>) {
  return createRequest({
    method: "INVITE",
    uri: "sip:b@127.0.0.1",
    headers: [["Via", "SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKx"], ["CSeq", "1 INVITE"], ...headers],
  });
}

describe("negotiation as UAS", () => {
  const cfg = { sessionExpires: 1800, minSE: 90 };
  it("no Session-Expires → no timer", () => {
    expect(negotiateAsUas(invite([]), cfg).kind).toBe("none");
  });
  it("below our Min-SE → 422 with our Min-SE", () => {
    expect(negotiateAsUas(invite([["Session-Expires", "60"]]), cfg)).toEqual({ kind: "reject", minSE: 90 });
    expect(negotiateAsUas(invite([["Session-Expires", "100"]]), { ...cfg, minSE: 120 })).toEqual({
      kind: "reject",
      minSE: 120,
    });
  });
  it("refresher: as named, else uac when it supports timer, else uas; Require: timer only if supported", () => {
    const named = negotiateAsUas(invite([["Session-Expires", "300;refresher=uas"], ["Supported", "timer"]]), cfg);
    expect(named).toMatchObject({ kind: "accept", terms: { interval: 300, refresher: "uas" } });
    const sup = negotiateAsUas(invite([["Session-Expires", "300"], ["Supported", "timer"]]), cfg);
    expect(sup).toMatchObject({ terms: { refresher: "uac" } });
    expect(sup.kind === "accept" && sup.responseHeaders).toContainEqual(["Require", "timer"]);
    const none = negotiateAsUas(invite([["Session-Expires", "300"]]), cfg);
    expect(none).toMatchObject({ terms: { refresher: "uas" } });
    expect(none.kind === "accept" && none.responseHeaders.some(([n]) => n === "Require")).toBe(false);
  });
  it("lowers a long interval to our preference, never below the request's Min-SE", () => {
    const r = negotiateAsUas(invite([["Session-Expires", "7200"], ["Min-SE", "2000"]]), cfg);
    expect(r).toMatchObject({ terms: { interval: 2000 } });
    const r2 = negotiateAsUas(invite([["Session-Expires", "7200"]]), cfg);
    expect(r2).toMatchObject({ terms: { interval: 1800 } });
  });
  it("expiry on the non-refresher side: interval − min(32 s, interval/3)", () => {
    expect(expiryDelayMs(90)).toBe(60_000);
    expect(expiryDelayMs(1800)).toBe(1_768_000);
  });
});

describe("session timer between two of our stacks", () => {
  let clock: FakeClock;
  let a: Peer;
  let b: Peer;
  let uas: Dialog | undefined;

  beforeEach(async () => {
    clock = newClock();
    a = await startPeer(clock);
    b = await startPeer(clock, { sessionTimer: { minSE: 120 } });
    uas = undefined;
    b.srf.invite(async (req, res) => {
      uas = await b.srf.createUAS(req, res, { localSdp: SDP_B });
    });
  });
  /** The UAS dialog exists and our ACK reached it (before fake time jumps past 64·T1). */
  async function established(): Promise<void> {
    await waitFor(() => uas !== undefined && b.stack.counts().pending2xx === 0, 1000, "ACKed dialog");
  }

  afterEach(async () => {
    await a.stack.close();
    await b.stack.close();
  });

  it("422 with Min-SE, retried once with the larger interval", async () => {
    const uac = await a.srf.createUAC(b.uri(), { localSdp: SDP_A, sessionTimer: 90 });
    expect(uac.sessionTerms).toEqual({ interval: 120, refresher: "uac" });
    await established();
    expect(uas!.sessionTerms).toEqual({ interval: 120, refresher: "uac" });
    expect(uac.isRefresher).toBe(true);
    expect(uas!.isRefresher).toBe(false);
  });

  it("the refresher refreshes at half the interval (UPDATE when allowed), again and again", async () => {
    const uac = await a.srf.createUAC(b.uri(), { localSdp: SDP_A, sessionTimer: 1800 });
    await established();
    const updates: number[] = [];
    uas!.on("update", (req: SrfRequest, res: SrfResponse) => {
      updates.push(clock.now());
      expect(req.msg.sessionExpires?.seconds).toBe(1800);
      res.send(200);
    });
    clock.advance(899_999);
    await settle();
    expect(updates).toHaveLength(0);
    clock.advance(1);
    await waitFor(() => updates.length === 1, 1000, "first refresh");
    await settle();
    clock.advance(900_000);
    await waitFor(() => updates.length === 2, 1000, "second refresh");
    expect(updates).toEqual([900_000, 1_800_000]);
    // the non-refresher never expired, because each refresh restarted its timer
    expect(uas!.state).toBe("confirmed");
    expect(uac.state).toBe("confirmed");
  });

  it("refreshes by re-INVITE when the peer does not allow UPDATE", async () => {
    const uac = await a.srf.createUAC(b.uri(), { localSdp: SDP_A, sessionTimer: 300 });
    await established();
    uac.peerAllowsUpdate = false;
    let reinvites = 0;
    uas!.on("modify", (req: SrfRequest, res: SrfResponse) => {
      reinvites++;
      expect(req.body).toBe(SDP_A);
      res.send(200, { body: SDP_B });
    });
    clock.advance(150_000);
    await waitFor(() => reinvites === 1, 1000);
  });

  it("the other side BYEs at expiry − min(32 s, interval/3) when no refresh comes", async () => {
    const uac = await a.srf.createUAC(b.uri(), { localSdp: SDP_A, sessionTimer: 1800 });
    await established();
    let reason = "";
    uas!.on("destroy", (i: { reason: string }) => {
      reason = i.reason;
    });
    let byeAt = -1;
    uac.on("destroy", () => {
      byeAt = clock.now();
    });
    // the refresher goes silent (it crashed): stop its timer without a BYE
    (uac as unknown as { timer: { stop(): void } }).timer.stop();
    clock.advance(1_768_000 - 1);
    await settle();
    expect(uas!.state).toBe("confirmed");
    clock.advance(1);
    await waitFor(() => reason === "session-expired", 1000);
    await waitFor(() => byeAt >= 0, 1000, "BYE at the UAC");
    expect(byeAt).toBe(1_768_000);
    expect(b.srf.counts().dialogs.total).toBe(0);
  });

  it("the UAS refreshes when it is the refresher (refresher=uas asked by the UAC)", async () => {
    const uac = await a.srf.createUAC(b.uri(), {
      localSdp: SDP_A,
      headers: [
        ["Session-Expires", "600;refresher=uas"],
        ["Min-SE", "120"],
      ],
    });
    await established();
    expect(uac.sessionTerms).toEqual({ interval: 600, refresher: "uas" });
    expect(uas!.isRefresher).toBe(true);
    let refreshed = 0;
    uac.on("refresh", () => refreshed++);
    clock.advance(300_000);
    await waitFor(() => refreshed === 1, 1000);
  });
});
