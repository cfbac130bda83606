/**
 * Hold and resume across the gateway (issue #6), whole gateway in process, for
 * both media engines: (a) SIPp as the SIP caller re-INVITEs hold (sendonly,
 * must get recvonly) and resume (sendrecv) → the DSIP callee gets two signed
 * dsip.update, hold true then false; (b) the DSIP caller sends dsip.update hold
 * and resume → SIPp as the SIP callee gets re-INVITEs offering sendonly then
 * sendrecv; a malformed dsip.update is refused with a dsip.error correlating
 * it; a re-INVITE the SIP side refuses comes back as dsip.error and the audio
 * goes on; (c) the SIP callee's own hold/resume re-INVITEs (`reverse` in the
 * engine) reach the DSIP caller as dsip.update. After each test: no call,
 * dialog, transaction or media session left.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { DsipMessage } from "../../src/agent/index.js";
import type { CallEvent } from "../../src/softphone/softphone.js";
import { identity } from "../agent/helpers.js";
import { DSIP_USER_NUMBER, DsipSippHarness, type Engine, ended, NUMBER, ok } from "../support/dsip-sipp.js";
import { sqliteRecords, waitDrained } from "../support/gateway.js";
import { hasRtpengine } from "../support/rtpengine.js";
import { requirePeer } from "../support/sipp.js";
import { waitFor } from "../support/wait.js";

const hasSipp = requirePeer("sipp");
const rtpengineOk = hasRtpengine();

const caller = identity(71);
const callee = identity(72);
// Ports of this file only.
const h = new DsipSippHarness(
  {
    gw: 29060,
    http: 29080,
    uac: 29061,
    uas: 29062,
    uasMedia: 29100,
    uacMedia: 29110,
    mediaMin: 29200,
    mediaMax: 29599,
    deadNg: 29119,
  },
  callee,
);
const start = (engine: Engine) => h.start(engine);
const phone = (who: typeof caller) => h.phone(who);
const sippUas = (file?: string, calls?: number) => h.sippUas(file, calls);
const sippUac = (file: string, service: string, extra?: string[]) => h.sippUac(file, service, extra);

afterEach(() => h.cleanup(), 40_000);

type Update = DsipMessage & { correlates: string; changes: { media: { sdp: string }; hold: boolean } };

function direction(sdp: string): string | undefined {
  return /^a=(sendrecv|sendonly|recvonly|inactive)\s*$/m.exec(sdp)?.[1];
}

const engines = (["embedded", "rtpengine"] as const).filter((e) => e === "embedded" || rtpengineOk);

describe.skipIf(!hasSipp)("hold and resume across the gateway (dsip.update ⇄ re-INVITE)", () => {
  describe.each(engines)("media engine: %s", (engine) => {
    it("SIPp re-INVITEs hold then resume → the DSIP callee gets dsip.update hold true, then false", async () => {
      await start(engine);
      const b = await phone(callee);
      const updates: Update[] = [];
      let invite: DsipMessage | undefined;
      b.client.on("message", ({ message }: { message: DsipMessage }) => {
        if (message.type === "dsip.invite") invite = message;
        if (message.type === "dsip.update") updates.push(message as Update);
      });
      const events: CallEvent[] = [];
      b.on("call", (e) => events.push(e));
      b.listen({ answer: true, tone: 1300 });
      // The scenario itself checks a=recvonly in the 200 to the hold and a=sendrecv in the one to the resume.
      ok(await sippUac("uac-reinvite.xml", DSIP_USER_NUMBER));
      await waitFor(() => ended(events) !== undefined, 10_000, "the softphone's call to end");
      expect(ended(events)!.result).toMatchObject({ answered: true, endedBy: "remote" });
      expect(updates.map((u) => u.changes.hold)).toEqual([true, false]);
      expect(updates.map((u) => direction(u.changes.media.sdp))).toEqual(["sendonly", "sendrecv"]);
      for (const u of updates) {
        expect(u.correlates).toBe(invite!.id);
        expect(u.changes.media.sdp).toMatch(/^a=ice-ufrag:/m);
        // Signed as the caller the invite came from (the gateway itself: SIPp's From has no number).
        expect(u.from).toBe(invite!.from);
      }
      await waitDrained(h.rt.gw);
      h.rt.gw.cdr!.flush();
      expect(sqliteRecords(h.rt.sqlite)[0]).toMatchObject({ status: 200, hangupBy: "caller" });
    }, 60_000);

    it("the DSIP caller's dsip.update hold then resume → SIPp gets re-INVITEs offering sendonly, then sendrecv", async () => {
      await start(engine);
      const uas = sippUas("uas-reinvite.xml");
      const a = await phone(caller);
      let offer: string | undefined;
      const send = a.client.send.bind(a.client);
      a.client.send = (m) => {
        const signed = send(m);
        if (signed.type === "dsip.invite") offer = (signed as { media: { sdp: string } }).media.sdp;
        return signed;
      };
      const errors: DsipMessage[] = [];
      a.client.on("message", ({ message }: { message: DsipMessage }) => {
        if (message.type === "dsip.error") errors.push(message);
      });
      a.client.on("refused", (m: DsipMessage) => errors.push(m));
      const sent: string[] = [];
      let flow = -1;
      a.on("call", (e) => {
        if (e.type !== "answered") return;
        const update = (sdp: string | undefined, hold?: boolean) =>
          a.client.send({
            type: "dsip.update",
            to: e.from,
            correlates: e.call,
            changes:
              sdp === undefined
                ? { hold: true }
                : { media: { sdp }, ...(hold !== undefined ? { hold } : {}) },
          }).id;
        const withDir = (dir: string) =>
          offer!.replace(/^a=(sendrecv|sendonly|recvonly|inactive)(?=\r?$)/m, `a=${dir}`);
        void (async () => {
          await new Promise((r) => setTimeout(r, 500));
          sent.push(update(undefined)); // no SDP: refused, the call goes on
          sent.push(update(withDir("sendonly"), false)); // hold flag contradicting the SDP: refused
          sent.push(update(withDir("sendonly"), true));
          await new Promise((r) => setTimeout(r, 1000));
          sent.push(update(withDir("sendrecv"), false));
          // The softphone's audio still crosses the engine after both re-offers.
          await new Promise((r) => setTimeout(r, 1500));
          const media = h.rt.runtime.media;
          const before = (await media.refreshStats?.(e.call)) ?? media.stats(e.call);
          await new Promise((r) => setTimeout(r, 1000));
          const after = (await media.refreshStats?.(e.call)) ?? media.stats(e.call);
          flow = (after?.packetsAtoB ?? 0) - (before?.packetsAtoB ?? 0);
        })();
      });
      const result = await a.call(`tel:${NUMBER}`, { tone: 700, durationS: 5 });
      expect(result).toMatchObject({ status: "completed", answered: true, endedBy: "local" });
      ok(await uas);
      expect(sent).toHaveLength(4);
      // 50 packets a second from the softphone; at least half of them in that second.
      expect(flow).toBeGreaterThanOrEqual(25);
      const refusals = errors.map((m) => [
        (m as { correlates?: string }).correlates,
        (m as { code: number }).code,
      ]);
      expect(refusals).toEqual([
        [sent[0], 422],
        [sent[1], 422],
      ]);
      await waitDrained(h.rt.gw);
      h.rt.gw.cdr!.flush();
      expect(sqliteRecords(h.rt.sqlite)[0]).toMatchObject({ status: 200, hangupBy: "caller" });
    }, 60_000);

    it("a re-INVITE the SIP side refuses (488): dsip.error 488 correlating the update, the call and its audio go on", async () => {
      await start(engine);
      const uas = sippUas("uas-reinvite-refuse.xml");
      const a = await phone(caller);
      let offer: string | undefined;
      const send = a.client.send.bind(a.client);
      a.client.send = (m) => {
        const signed = send(m);
        if (signed.type === "dsip.invite") offer = (signed as { media: { sdp: string } }).media.sdp;
        return signed;
      };
      const errors: DsipMessage[] = [];
      a.client.on("message", ({ message }: { message: DsipMessage }) => {
        if (message.type === "dsip.error") errors.push(message);
      });
      a.client.on("refused", (m: DsipMessage) => errors.push(m));
      let sent: string | undefined;
      let flow = -1;
      a.on("call", (e) => {
        if (e.type !== "answered") return;
        void (async () => {
          await new Promise((r) => setTimeout(r, 500));
          sent = a.client.send({
            type: "dsip.update",
            to: e.from,
            correlates: e.call,
            changes: { media: { sdp: offer!.replace(/^a=sendrecv(?=\r?$)/m, "a=sendonly") }, hold: true },
          }).id;
          await new Promise((r) => setTimeout(r, 1000));
          const media = h.rt.runtime.media;
          const before = (await media.refreshStats?.(e.call)) ?? media.stats(e.call);
          await new Promise((r) => setTimeout(r, 1000));
          const after = (await media.refreshStats?.(e.call)) ?? media.stats(e.call);
          flow = (after?.packetsAtoB ?? 0) - (before?.packetsAtoB ?? 0);
        })();
      });
      const result = await a.call(`tel:${NUMBER}`, { tone: 700, durationS: 4 });
      expect(result).toMatchObject({ status: "completed", answered: true, endedBy: "local" });
      ok(await uas);
      expect(
        errors.map((m) => [(m as { correlates?: string }).correlates, (m as { code: number }).code]),
      ).toEqual([[sent, 488]]);
      expect(flow).toBeGreaterThanOrEqual(25);
    }, 60_000);

    it("a re-INVITE hold from the SIP callee reaches the DSIP caller as dsip.update; its BYE ends the call", async () => {
      // Covered above the other way round; here the SIP side is the original answerer (`reverse` in the engine).
      await start(engine);
      const uas = sippUas("uas-reinvite-hold.xml");
      const a = await phone(caller);
      const updates: Update[] = [];
      a.client.on("message", ({ message }: { message: DsipMessage }) => {
        if (message.type === "dsip.update") updates.push(message as Update);
      });
      const result = await a.call(`tel:${NUMBER}`, { tone: 700, durationS: 20 });
      expect(result).toMatchObject({ status: "completed", answered: true, endedBy: "remote" });
      ok(await uas);
      expect(updates.map((u) => u.changes.hold)).toEqual([true, false]);
    }, 60_000);
  });
});
