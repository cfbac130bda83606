/**
 * DSIP ⇄ SIP through the whole gateway in process (agent, media engine, B2BUA,
 * HTTP): the DSIP softphone (werift, real ICE + DTLS-SRTP) on one side, SIPp
 * on the other, for both media engines. SIPp streams a 1000 Hz tone that must
 * show up in the softphone's recording; the engine's packet counters prove the
 * softphone's audio reached SIPp. Also the failure paths: busy, unknown number, offline DSIP callee,
 * CANCEL before answer, and a replayed or forged invite that must never make a
 * SIP leg. After each test: no call, dialog, transaction or media session left.
 */
import { randomUUID } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { DsipMessage } from "../../src/agent/index.js";
import { encodeUlaw, parseWav, toneRatio } from "../../src/softphone/audio.js";
import type { CallEvent } from "../../src/softphone/softphone.js";
import { identity } from "../agent/helpers.js";
import { DSIP_USER_NUMBER, DsipSippHarness, type Engine, ended, NUMBER, ok } from "../support/dsip-sipp.js";
import { scenario, sqliteRecords, waitDrained } from "../support/gateway.js";
import { hasRtpengine } from "../support/rtpengine.js";
import { requirePeer } from "../support/sipp.js";
import { waitFor } from "../support/wait.js";

const hasSipp = requirePeer("sipp");
const rtpengineOk = hasRtpengine();

const caller = identity(61);
const callee = identity(62);
// Ports of this file only.
const h = new DsipSippHarness(
  {
    gw: 28060,
    http: 28080,
    uac: 28061,
    uas: 28062,
    uasMedia: 28100,
    uacMedia: 28110,
    mediaMin: 28200,
    mediaMax: 28599,
    deadNg: 28119,
  },
  callee,
);
const start = (engine: Engine) => h.start(engine);
const phone = (who: typeof caller) => h.phone(who);
const sippUas = (file?: string, calls?: number) => h.sippUas(file, calls);
const sippUac = (file: string, service: string, extra?: string[]) => h.sippUac(file, service, extra);

afterEach(() => h.cleanup(), 40_000);

/** A copy of a tone scenario streaming a μ-law WAV of `hz` (SIPp takes the file from the scenario). */
function withTone(file: string, hz: number): string {
  const dir = h.rt.dir;
  const wav = join(dir, `tone-${hz}.ulaw.wav`);
  const samples = new Int16Array(8000 * 10);
  for (let i = 0; i < samples.length; i++)
    samples[i] = Math.round(12000 * Math.sin((2 * Math.PI * hz * i) / 8000));
  writeFileSync(wav, ulawWav(encodeUlaw(samples)));
  const out = join(dir, file);
  writeFileSync(out, readFileSync(scenario(file), "utf8").replaceAll("TONE_FILE", wav));
  return out;
}

/** A WAV of G.711 μ-law (format 7), as SIPp's rtp_stream reads it. */
function ulawWav(data: Buffer): Buffer {
  const h = Buffer.alloc(44);
  h.write("RIFF", 0);
  h.writeUInt32LE(36 + data.length, 4);
  h.write("WAVE", 8);
  h.write("fmt ", 12);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(7, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(8000, 24);
  h.writeUInt32LE(8000, 28);
  h.writeUInt16LE(1, 32);
  h.writeUInt16LE(8, 34);
  h.write("data", 36);
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

/**
 * The engine's packet counters of the one call, sampled until it ends (they go
 * with the session): the largest values seen.
 */
async function sampleStats(): Promise<{ packetsAtoB: number; packetsBtoA: number }> {
  const media = h.rt.runtime.media;
  const best = { packetsAtoB: 0, packetsBtoA: 0 };
  const seen = () => [
    ...(h.rt.gw.dsipCalls as unknown as { calls: Map<string, { dsipId: string }> }).calls.values(),
  ];
  const deadline = Date.now() + 20_000;
  let started = false;
  while (Date.now() < deadline && h.t) {
    const calls = seen();
    if (calls.length > 0) started = true;
    else if (started) break;
    for (const c of calls) {
      const s = (await media.refreshStats?.(c.dsipId!)) ?? media.stats(c.dsipId!);
      if (s) {
        best.packetsAtoB = Math.max(best.packetsAtoB, s.packetsAtoB);
        best.packetsBtoA = Math.max(best.packetsBtoA, s.packetsBtoA);
      }
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return best;
}

/** Tone ratio of `hz` against `other` over the last second of a recording. */
function heard(file: string, hz: number, other: number): number {
  const wav = parseWav(readFileSync(file));
  return toneRatio(wav.samples.subarray(Math.max(0, wav.samples.length - 8000)), hz, other);
}

const engines = (["embedded", "rtpengine"] as const).filter((e) => e === "embedded" || rtpengineOk);

describe.skipIf(!hasSipp)("DSIP ⇄ SIP calls through the gateway, with media", () => {
  describe.each(engines)("media engine: %s", (engine) => {
    it("DSIP softphone (700 Hz) → gateway → SIPp streaming 1000 Hz: each side's audio crosses", async () => {
      await start(engine);
      const uas = sippUas(withTone("uas-tone.xml", 1000));
      const a = await phone(caller);
      const rec = join(h.rt.dir, "dsip-to-sip.wav");
      const stats = sampleStats();
      // 5 s: call setup (ICE, DTLS) eats into it on a loaded machine, and 100 packets are 2 s of audio.
      const result = await a.call(`tel:${NUMBER}`, { tone: 700, record: rec, durationS: 5 });
      expect(result).toMatchObject({ status: "completed", answered: true, endedBy: "local" });
      expect(result.packetsSent).toBeGreaterThanOrEqual(100);
      expect(result.packetsReceived).toBeGreaterThanOrEqual(100);
      // SIP → DSIP: SIPp's tone in the softphone's recording.
      expect(heard(rec, 1000, 700)).toBeGreaterThanOrEqual(100);
      // DSIP → SIP: the engine's own count of packets relayed towards SIPp.
      expect((await stats).packetsAtoB).toBeGreaterThanOrEqual(100);
      ok(await uas);
      await waitDrained(h.rt.gw);
      h.rt.gw.cdr!.flush();
      const [cdr] = sqliteRecords(h.rt.sqlite);
      expect(cdr).toMatchObject({ status: 200, hangupBy: "caller", from: caller.did });
      expect(cdr!.legs.map((l) => [l.role, l.trunk, l.status])).toEqual([
        ["a", "dsip", undefined],
        ["b", "carrier", 200],
      ]);
    }, 60_000);

    it("SIPp from a number, streaming 1000 Hz → gateway → DSIP softphone answering with 1300 Hz", async () => {
      await start(engine);
      const b = await phone(callee);
      const events: CallEvent[] = [];
      b.on("call", (e) => events.push(e));
      const rec = join(h.rt.dir, "sip-to-dsip.wav");
      b.listen({ answer: true, tone: 1300, record: rec });
      const stats = sampleStats();
      ok(await sippUac(withTone("uac-tone.xml", 1000), DSIP_USER_NUMBER));
      await waitFor(() => ended(events) !== undefined, 10_000, "the softphone's call to end");
      const result = ended(events)!.result;
      expect(result).toMatchObject({ direction: "incoming", answered: true, endedBy: "remote" });
      // The caller's number reaches the DSIP user as the gateway's tn DID for it.
      expect(result.peer).toBe(`${h.rt.runtime.agent.identity.did}:tn:12015550100`);
      expect(result.packetsReceived).toBeGreaterThanOrEqual(100);
      expect(heard(rec, 1000, 1300)).toBeGreaterThanOrEqual(100);
      // DSIP → SIP: packets the engine relayed from the softphone towards SIPp.
      expect((await stats).packetsBtoA).toBeGreaterThanOrEqual(100);
      await waitDrained(h.rt.gw);
      h.rt.gw.cdr!.flush();
      const [cdr] = sqliteRecords(h.rt.sqlite);
      expect(cdr).toMatchObject({ status: 200, hangupBy: "caller" });
      expect(cdr!.legs.map((l) => [l.role, l.trunk, l.remote ?? ""])).toEqual([
        ["a", "pbx", `127.0.0.1:${h.ports.uac}`],
        ["b", "dsip", callee.did],
      ]);
    }, 60_000);
  });

  it("BYE from the DSIP side ends the SIP call", async () => {
    await start("embedded");
    const b = await phone(callee);
    b.listen({ answer: true, tone: 1300, durationS: 2 });
    ok(await sippUac("uac-recv-bye.xml", DSIP_USER_NUMBER));
    await waitDrained(h.rt.gw);
    h.rt.gw.cdr!.flush();
    expect(sqliteRecords(h.rt.sqlite)[0]).toMatchObject({ status: 200, hangupBy: "callee" });
  }, 60_000);

  it("BYE from the SIP side of a DSIP call: SIPp hangs up, the softphone's call ends", async () => {
    await start("embedded");
    const uas = sippUas("uas-send-bye.xml");
    const a = await phone(caller);
    const result = await a.call(`tel:${NUMBER}`, { tone: 700, durationS: 20 });
    expect(result).toMatchObject({ status: "completed", answered: true, endedBy: "remote" });
    ok(await uas);
  }, 60_000);

  it("callee busy: SIP 486 reaches the DSIP caller as dsip.error 486", async () => {
    await start("embedded");
    const uas = sippUas("uas-486.xml");
    const a = await phone(caller);
    const result = await a.call(`tel:${NUMBER}`, { tone: 700, durationS: 2 });
    expect(result).toMatchObject({ status: "rejected", answered: false });
    expect(result.error?.code).toBe(486);
    ok(await uas);
  }, 60_000);

  it("DSIP callee busy: dsip.error 486 reaches the SIP caller as 486", async () => {
    await start("embedded");
    const b = await phone(callee);
    // Not listening: this callee refuses every invite itself, as a busy client would.
    b.client.on("message", ({ message }: { message: DsipMessage }) => {
      if (message.type === "dsip.invite")
        b.client.send({
          type: "dsip.error",
          to: message.from,
          correlates: message.id,
          code: 486,
          reason: "busy",
        });
    });
    ok(await sippUac("uac-expect-486.xml", DSIP_USER_NUMBER));
    await waitDrained(h.rt.gw);
    h.rt.gw.cdr!.flush();
    expect(sqliteRecords(h.rt.sqlite)[0]).toMatchObject({ status: 486, hangupBy: "callee" });
  }, 60_000);

  it("a media engine that does not answer: 503 / dsip.error 503, nothing held", async () => {
    await start("dead-rtpengine");
    const b = await phone(callee);
    b.listen({ answer: true });
    // SIP → DSIP: the RTP offer cannot become a WebRTC one.
    const file = join(h.rt.dir, "uac-expect-503.xml");
    writeFileSync(file, readFileSync(scenario("uac-expect-486.xml"), "utf8").replaceAll("486", "503"));
    ok(await sippUac(file, DSIP_USER_NUMBER));
    // DSIP → SIP: the WebRTC offer cannot become an RTP one; no SIP leg is tried.
    const a = await phone(caller);
    const result = await a.call(`tel:${NUMBER}`, { durationS: 1 });
    expect(result).toMatchObject({ status: "rejected", answered: false });
    expect(result.error?.code).toBeGreaterThanOrEqual(500);
    await waitDrained(h.rt.gw);
    h.rt.gw.cdr!.flush();
    const records = sqliteRecords(h.rt.sqlite);
    expect(records.map((r) => r.status).sort()).toEqual([503, 503]);
    expect(
      records.every((r) => r.legs.filter((l) => l.role === "b" && l.trunk === "carrier").length === 0),
    ).toBe(true);
  }, 60_000);

  it("an unknown number gets dsip.error 404, and no SIP leg", async () => {
    await start("embedded");
    const a = await phone(caller);
    const result = await a.call("tel:+4930123456", { durationS: 1 });
    expect(result).toMatchObject({ status: "rejected", answered: false });
    expect(result.error?.code).toBe(404);
  }, 30_000);

  it("an offline DSIP callee: the SIP caller gets 480", async () => {
    await start("embedded");
    const file = join(h.rt.dir, "uac-expect-480.xml");
    const text = readFileSync(scenario("uac-expect-486.xml"), "utf8").replaceAll("486", "480");
    writeFileSync(file, text);
    ok(await sippUac(file, DSIP_USER_NUMBER));
    h.rt.gw.cdr!.flush();
    await waitDrained(h.rt.gw);
    expect(sqliteRecords(h.rt.sqlite)[0]).toMatchObject({ status: 480 });
  }, 60_000);

  it("CANCEL before answer reaches the DSIP callee as dsip.cancel; the SIP caller gets 487", async () => {
    await start("embedded");
    const b = await phone(callee);
    const events: CallEvent[] = [];
    b.on("call", (e) => events.push(e));
    b.listen({ answer: false });
    ok(await sippUac("uac-cancel-ringing.xml", DSIP_USER_NUMBER));
    await waitFor(() => ended(events) !== undefined, 10_000, "the softphone to see the cancel");
    expect(ended(events)!.result.status).toBe("cancelled");
  }, 60_000);

  it("a replayed or forged dsip.invite is refused by the agent and never becomes a SIP call", async () => {
    await start("embedded");
    const uas = sippUas("uas", 1);
    const a = await phone(caller);
    // Keep the signed invite the softphone sends, to send the same bytes again later.
    let invite: DsipMessage | undefined;
    const send = a.client.send.bind(a.client);
    a.client.send = (m) => {
      const signed = send(m);
      if (signed.type === "dsip.invite") invite = signed;
      return signed;
    };
    const refused: DsipMessage[] = [];
    a.client.on("refused", (e: DsipMessage) => refused.push(e));
    expect((await a.call(`tel:${NUMBER}`, { tone: 700, durationS: 2 })).status).toBe("completed");
    ok(await uas);
    await waitDrained(h.rt.gw);

    a.client.sendRaw(JSON.stringify(invite)); // replay
    a.client.sendRaw(JSON.stringify({ ...invite, id: randomUUID() })); // forged: the signature covers the id
    await waitFor(() => refused.length === 2, 5000, "both refusals");
    expect(refused.map((e) => (e as { code: number }).code).sort()).toEqual([401, 409]);
    expect(h.rt.gw.sessions.size).toBe(0);
    h.rt.gw.cdr!.flush();
    expect(sqliteRecords(h.rt.sqlite)).toHaveLength(1);
  }, 60_000);
});
