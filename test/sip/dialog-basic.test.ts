/**
 * Dialog creation and matching between two of our stacks on loopback (fake
 * clock): INVITE/200/ACK, BYE from each side, route sets from Record-Route,
 * CSeq rules (500 lower, 481 no dialog), target refresh, in-dialog events.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Dialog } from "../../src/sip/dialog/dialog.js";
import type { SrfRequest, SrfResponse } from "../../src/sip/dialog/request-response.js";
import { isHoldOffer } from "../../src/sip/dialog/sdp-hold.js";
import type { FakeClock } from "../../src/sip/timers.js";
import { newClock, type Peer, SDP_A, SDP_B, SDP_C, settle, startPeer } from "../support/dialog-peers.js";
import { waitFor } from "../support/wait.js";

let clock: FakeClock;
let a: Peer;
let b: Peer;
let uasDialogs: Dialog[];

beforeEach(async () => {
  clock = newClock();
  a = await startPeer(clock);
  b = await startPeer(clock);
  uasDialogs = [];
  b.srf.invite(async (req, res) => {
    const d = await b.srf.createUAS(req, res, { localSdp: SDP_B });
    uasDialogs.push(d);
  });
});

afterEach(async () => {
  await a.stack.close();
  await b.stack.close();
});

async function call(headers?: Array<[string, string]>): Promise<{ uac: Dialog; uas: Dialog }> {
  const uac = await a.srf.createUAC(b.uri("bob"), { localSdp: SDP_A, headers });
  await waitFor(() => uasDialogs.length === 1, 2000, "UAS dialog");
  return { uac, uas: uasDialogs[0]! };
}

describe("dialog creation and matching", () => {
  it("creates matching UAC and UAS dialogs with swapped tags and exchanged SDP", async () => {
    const { uac, uas } = await call();
    expect(uac.type).toBe("uac");
    expect(uas.type).toBe("uas");
    expect(uac.sip.callId).toBe(uas.sip.callId);
    expect(uac.sip.localTag).toBe(uas.sip.remoteTag);
    expect(uac.sip.remoteTag).toBe(uas.sip.localTag);
    expect(uac.remote.sdp).toBe(SDP_B);
    expect(uas.remote.sdp).toBe(SDP_A);
    expect(uac.state).toBe("confirmed");
    expect(a.srf.counts().dialogs).toMatchObject({ total: 1, confirmed: 1, uac: 1 });
    expect(b.srf.counts().dialogs).toMatchObject({ total: 1, confirmed: 1, uas: 1 });
    // the ACK reaches the UAS dialog
    await new Promise<void>((resolve) => {
      if (b.stack.counts().pending2xx === 0) resolve();
      uas.once("ack", () => resolve());
    });
  });

  it("BYE from the UAC ends both dialogs; destroy fires only on the far side", async () => {
    const { uac, uas } = await call();
    const ended: string[] = [];
    uac.on("destroy", () => ended.push("uac"));
    uas.on("destroy", (info: { reason: string }) => ended.push(`uas:${info.reason}`));
    await uac.destroy();
    await waitFor(() => b.srf.counts().dialogs.total === 0, 2000, "UAS dialog gone");
    expect(a.srf.counts().dialogs.total).toBe(0);
    expect(ended).toEqual(["uas:bye"]);
  });

  it("BYE from the UAS ends both dialogs", async () => {
    const { uac, uas } = await call();
    let reason = "";
    uac.on("destroy", (info: { reason: string }) => {
      reason = info.reason;
    });
    await uas.destroy();
    await waitFor(() => a.srf.counts().dialogs.total === 0, 2000, "UAC dialog gone");
    expect(reason).toBe("bye");
  });

  it("keeps Record-Route in order at the UAS and reversed at the UAC", async () => {
    const rr1 = `<sip:127.0.0.1:${b.port};lr;n=1>`;
    const rr2 = `<sip:127.0.0.1:${b.port};lr;n=2>`;
    const { uac, uas } = await call([
      ["Record-Route", rr1],
      ["Record-Route", rr2],
    ]);
    expect(uas.state0.routeSet).toEqual([rr1, rr2]);
    expect(uac.state0.routeSet).toEqual([rr2, rr1]);
    // requests of the UAC carry the route set and reach the UAS through its first entry
    let routes: string[] = [];
    uas.on("info", (req: SrfRequest, res: SrfResponse) => {
      routes = req.msg.headerValues("route");
      res.send(200);
    });
    const r = await uac.request({ method: "INFO", headers: [["Content-Type", "text/plain"]], body: "x" });
    expect(r.status).toBe(200);
    expect(routes).toEqual([rr2, rr1]);
  });

  it("answers 500 to a request whose CSeq is below the remote sequence number", async () => {
    const { uac } = await call();
    uac.state0.localSeq = 0; // the next request carries CSeq 1, as the INVITE did
    const r = await uac.request({ method: "OPTIONS" });
    expect(r.status).toBe(500);
    expect(uac.state).toBe("confirmed");
  });

  it("answers 481 to a request in no dialog, and a 481 ends our dialog", async () => {
    const { uac, uas } = await call();
    uas.terminate(); // the far end forgets the dialog silently
    let reason = "";
    uac.on("destroy", (info: { reason: string }) => {
      reason = info.reason;
    });
    const r = await uac.request({ method: "INFO" });
    expect(r.status).toBe(481);
    expect(reason).toBe("request-failed");
    expect(a.srf.counts().dialogs.total).toBe(0);
  });

  it("routes in-dialog INFO, REFER, NOTIFY, OPTIONS and MESSAGE to events, with defaults", async () => {
    const { uac, uas } = await call();
    const seen: string[] = [];
    for (const ev of ["info", "refer", "notify", "options", "message"]) {
      uas.on(ev, (req: SrfRequest, res: SrfResponse) => {
        seen.push(`${ev}:${req.method}`);
        res.send(202);
      });
    }
    for (const m of ["INFO", "REFER", "NOTIFY", "OPTIONS", "MESSAGE"]) {
      const r = await uac.request({ method: m, headers: m === "REFER" ? [["Refer-To", "<sip:c@x>"]] : [] });
      expect(r.status).toBe(202);
    }
    expect(seen).toEqual(["info:INFO", "refer:REFER", "notify:NOTIFY", "options:OPTIONS", "message:MESSAGE"]);
    uas.removeAllListeners("refer");
    uas.removeAllListeners("info");
    expect((await uac.request({ method: "REFER", headers: [["Refer-To", "<sip:c@x>"]] })).status).toBe(403);
    expect((await uac.request({ method: "INFO" })).status).toBe(200);
  });

  it("re-INVITE: modify event, new SDP both ways, target refresh from Contact", async () => {
    const { uac, uas } = await call();
    uas.on("modify", (req: SrfRequest, res: SrfResponse) => {
      expect(req.body).toBe(SDP_C);
      res.send(200, { body: SDP_B });
    });
    uac.state0.localContact = `sip:moved@127.0.0.1:${a.port}`;
    const answer = await uac.modify(SDP_C);
    expect(answer).toBe(SDP_B);
    expect(uas.remote.sdp).toBe(SDP_C);
    expect(uas.state0.remoteTarget.raw).toBe(`sip:moved@127.0.0.1:${a.port}`);
    await settle();
  });

  it("createUAS accepts the server transaction itself", async () => {
    const c2 = await startPeer(clock);
    let d: Dialog | undefined;
    c2.srf.invite(async (req) => {
      d = await c2.srf.createUAS(req.tx, undefined, { localSdp: SDP_C });
    });
    const uac = await a.srf.createUAC(c2.uri(), { localSdp: SDP_A });
    expect(uac.remote.sdp).toBe(SDP_C);
    await waitFor(() => d !== undefined, 1000);
    await uac.destroy();
    await c2.stack.close();
  });

  it("close() hangs up live dialogs with BYE and leaves none", async () => {
    const { uas } = await call();
    let reason = "";
    uas.on("destroy", (i: { reason: string }) => {
      reason = i.reason;
    });
    await a.srf.close(1000);
    expect(a.srf.counts().dialogs.total).toBe(0);
    await waitFor(() => reason === "bye", 1000);
  });

  it("hold and unhold events from the direction of a re-INVITE's offer", async () => {
    const { uac, uas } = await call();
    const events: string[] = [];
    uas.on("hold", () => events.push("hold"));
    uas.on("unhold", () => events.push("unhold"));
    await uac.modify(`${SDP_A}a=sendonly\r\n`);
    expect(uas.onHold).toBe(true);
    await uac.modify(`${SDP_A}a=sendonly\r\n`); // still held: no second event
    await uac.modify(SDP_A);
    expect(events).toEqual(["hold", "unhold"]);
    expect(isHoldOffer(SDP_A.replace("c=IN IP4 127.0.0.1", "c=IN IP4 0.0.0.0"))).toBe(true);
    expect(isHoldOffer(`${SDP_A}a=inactive\r\n`)).toBe(true);
    expect(isHoldOffer(`v=0\r\na=sendonly\r\nm=audio 1 RTP/AVP 0\r\na=sendrecv\r\n`)).toBe(false);
  });

  it("re-INVITE without a modify listener is answered with the current SDP", async () => {
    const { uac } = await call();
    expect(await uac.modify(SDP_C)).toBe(SDP_B);
  });

  it("UPDATE (RFC 3311): update event, target refresh", async () => {
    const { uac, uas } = await call();
    let got = "";
    uas.on("update", (req: SrfRequest, res: SrfResponse) => {
      got = req.body;
      res.send(200, { body: SDP_B });
    });
    uac.state0.localContact = `sip:upd@127.0.0.1:${a.port}`;
    const r = await uac.request({ method: "UPDATE", body: SDP_C });
    expect(r.status).toBe(200);
    expect(got).toBe(SDP_C);
    expect(uas.state0.remoteTarget.raw).toBe(`sip:upd@127.0.0.1:${a.port}`);
  });

  it("a failed INVITE leaves no dialog, and the status reaches the caller", async () => {
    const c = newClock();
    const busy = await startPeer(c);
    busy.srf.invite((_req, res) => {
      res.send(486);
    });
    await expect(a.srf.createUAC(busy.uri(), { localSdp: SDP_A })).rejects.toMatchObject({ status: 486 });
    await waitFor(() => busy.srf.counts().dialogs.total === 0, 1000);
    expect(a.srf.counts().dialogs.total).toBe(0);
    await busy.stack.close();
  });
});
