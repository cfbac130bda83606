import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { MessageOf } from "../../src/agent/messages.js";
import type { Arrival } from "../../src/agent/ws-client.js";
import { parseWav, rms, toneRatio } from "../../src/softphone/audio.js";
import { AudioLeg } from "../../src/softphone/media.js";
import { type CallEvent, Softphone } from "../../src/softphone/softphone.js";
import { clientFor, removeDir, startTestGateway, type TestGateway } from "../agent/gateway-fixture.js";
import { identity } from "../agent/helpers.js";

// Two softphones through a real gateway agent over loopback: DSIP signalling on
// the /dsip WebSocket, WebRTC media (ICE, DTLS-SRTP) directly between them.
let gw: TestGateway;
let dir: string;
const phones: Softphone[] = [];

async function phone(n: number): Promise<Softphone> {
  const client = clientFor(gw, identity(n));
  await client.start();
  const p = new Softphone(client);
  phones.push(p);
  return p;
}

function events(p: Softphone): CallEvent[] {
  const seen: CallEvent[] = [];
  p.on("call", (e) => seen.push(e));
  return seen;
}

/** The last second of a recording, with its tone ratio against the other tone. */
function lastSecond(
  file: string,
  hz: number,
  other: number,
): { ratio: number; level: number; seconds: number } {
  const wav = parseWav(readFileSync(file));
  expect(wav).toMatchObject({ sampleRate: 8000, channels: 1, bitsPerSample: 16 });
  const tail = wav.samples.subarray(Math.max(0, wav.samples.length - 8000));
  return { ratio: toneRatio(tail, hz, other), level: rms(tail), seconds: wav.samples.length / 8000 };
}

beforeAll(async () => {
  gw = await startTestGateway();
  dir = mkdtempSync(join(tmpdir(), "softphone-"));
});

afterEach(async () => {
  await Promise.all(phones.splice(0).map((p) => p.close()));
});

afterAll(async () => {
  await gw.stop();
  removeDir(gw.dataDir);
  rmSync(dir, { recursive: true, force: true });
});

describe("softphone ⇄ softphone through the gateway", () => {
  it("3 s call, caller hangs up: each side hears the other's tone", async () => {
    const a = await phone(11);
    const b = await phone(12);
    const aEvents = events(a);
    const bEvents = events(b);
    b.listen({ answer: true, tone: 1300, record: join(dir, "b1.wav") });
    const result = await a.call(b.did, { tone: 700, record: join(dir, "a1.wav"), durationS: 3 });
    await expect.poll(() => bEvents.some((e) => e.type === "ended"), { timeout: 5000 }).toBe(true);

    expect(result).toMatchObject({ status: "completed", answered: true, endedBy: "local", peer: b.did });
    expect(result.durationS).toBeGreaterThanOrEqual(2.9);
    expect(result.packetsSent).toBeGreaterThanOrEqual(100);
    expect(result.packetsReceived).toBeGreaterThanOrEqual(100);
    expect(aEvents.map((e) => e.type)).toEqual(["ringing", "answered", "media", "ended"]);

    const bResult = bEvents.find((e) => e.type === "ended") as Extract<CallEvent, { type: "ended" }>;
    expect(bResult.result).toMatchObject({ status: "completed", endedBy: "remote", direction: "incoming" });
    expect(bResult.result.packetsSent).toBeGreaterThanOrEqual(100);
    expect(bResult.result.packetsReceived).toBeGreaterThanOrEqual(100);

    const heardByA = lastSecond(join(dir, "a1.wav"), 1300, 700);
    const heardByB = lastSecond(join(dir, "b1.wav"), 700, 1300);
    expect(heardByA.ratio).toBeGreaterThanOrEqual(100);
    expect(heardByB.ratio).toBeGreaterThanOrEqual(100);
    expect(heardByA.level).toBeGreaterThan(0.1);
    expect(heardByB.level).toBeGreaterThan(0.1);
    expect(heardByA.seconds).toBeGreaterThan(2);
  });

  it("callee hangs up: the caller's call completes with endedBy remote", async () => {
    const a = await phone(13);
    const b = await phone(14);
    b.listen({ answer: true, tone: 1300, durationS: 2 });
    const result = await a.call(b.did, { tone: 700, record: join(dir, "a2.wav"), durationS: 30 });
    expect(result).toMatchObject({
      status: "completed",
      answered: true,
      endedBy: "remote",
      reason: "hangup",
    });
    expect(result.durationS).toBeGreaterThanOrEqual(1.8);
    expect(result.durationS).toBeLessThan(5);
    expect(result.packetsReceived).toBeGreaterThanOrEqual(60);
    expect(lastSecond(join(dir, "a2.wav"), 1300, 700).ratio).toBeGreaterThanOrEqual(100);
  });

  it("a DID the gateway cannot reach: the call is rejected with the gateway's dsip.error", async () => {
    const a = await phone(15);
    const result = await a.call("did:key:z6MkNotAKey", { tone: 700, durationS: 1, ringTimeoutS: 5 });
    expect(result).toMatchObject({ status: "rejected", answered: false });
    expect(result.error).toMatchObject({
      code: 503,
      reason: "callee:unavailable",
      from: gw.agent.identity.did,
    });
  });

  it("never answered: the caller gives up with dsip.cancel, the callee stops ringing", async () => {
    const a = await phone(16);
    const b = await phone(17);
    const bEvents = events(b);
    const cancels: Arrival[] = [];
    b.client.on("message", (m) => {
      if (m.message.type === "dsip.cancel") cancels.push(m);
    });
    b.listen({ answer: false });
    const result = await a.call(b.did, { tone: 700, ringTimeoutS: 1.5 });
    expect(result).toMatchObject({ status: "cancelled", answered: false, endedBy: "local" });
    await expect.poll(() => cancels.length, { timeout: 3000 }).toBe(1);
    expect(cancels[0]!.message).toMatchObject({ correlates: result.id, reason: "timeout" });
    expect(bEvents.map((e) => e.type)).toEqual(["incoming", "ringing", "ended"]);
    expect(bEvents.at(-1)).toMatchObject({ result: { status: "cancelled", endedBy: "remote" } });
  });

  it("aborting an unanswered call cancels it", async () => {
    const a = await phone(18);
    const b = await phone(19);
    b.listen({ answer: false });
    const abort = new AbortController();
    const seen = events(a);
    a.on("call", (e) => {
      if (e.type === "ringing") abort.abort();
    });
    const result = await a.call(b.did, { signal: abort.signal });
    expect(result).toMatchObject({ status: "cancelled", reason: "aborted" });
    expect(seen.map((e) => e.type)).toEqual(["ringing", "ended"]);
  });

  it("a hand-rolled callee (as the gateway's DSIP→SIP leg will be): trying, early media, answer, BYE", async () => {
    const a = await phone(20);
    const endpoint = clientFor(gw, identity(21));
    await endpoint.start();
    const legs: AudioLeg[] = [];
    const byes: MessageOf<"dsip.bye">[] = [];
    endpoint.on("message", ({ message: m }) => {
      if (m.type === "dsip.bye") byes.push(m);
      if (m.type !== "dsip.invite") return;
      void (async () => {
        const reply = { to: m.from, correlates: m.id };
        endpoint.send({ type: "dsip.progress", ...reply, stage: "trying" });
        const { leg, sdp } = await AudioLeg.answer(m.media.sdp, { toneHz: 1300 });
        legs.push(leg);
        // SIP 183 with SDP, then 200 with the same SDP.
        endpoint.send({ type: "dsip.progress", ...reply, stage: "early-media", media: { sdp } });
        await new Promise((r) => setTimeout(r, 1200));
        endpoint.send({ type: "dsip.answer", ...reply, cap: { ver: "1.0", features: [] }, media: { sdp } });
      })();
    });
    const seen = events(a);
    const result = await a.call(endpoint.did, { tone: 700, record: join(dir, "a3.wav"), durationS: 1.5 });
    expect(result).toMatchObject({ status: "completed", answered: true, endedBy: "local" });
    expect(seen.map((e) => e.type)).toEqual(["trying", "early-media", "media", "answered", "ended"]);
    // Early media is heard too: more than the 1.5 s after the answer was recorded.
    expect(parseWav(readFileSync(join(dir, "a3.wav"))).samples.length / 8000).toBeGreaterThan(2);
    expect(lastSecond(join(dir, "a3.wav"), 1300, 700).ratio).toBeGreaterThanOrEqual(100);
    await expect.poll(() => byes.length, { timeout: 3000 }).toBe(1);
    expect(byes[0]).toMatchObject({ correlates: result.id, to: endpoint.did, reason: "hangup" });
    expect(legs[0]!.packetsReceived).toBeGreaterThanOrEqual(100);
    await Promise.all(legs.map((l) => l.close()));
    await endpoint.close();
  });

  it("a callee's dsip.error (486 busy) ends the call rejected with that code (Softphone.connect)", async () => {
    // connect() fetches the gateway's document from the gateway, as the CLI does.
    const a = await Softphone.connect({ url: gw.url, key: identity(22) });
    phones.push(a);
    expect(a.did).toBe(identity(22).did);
    const endpoint = clientFor(gw, identity(23));
    await endpoint.start();
    endpoint.on("message", ({ message: m }) => {
      if (m.type === "dsip.invite")
        endpoint.send({ type: "dsip.error", to: m.from, correlates: m.id, code: 486, reason: "callee:busy" });
    });
    const result = await a.call(endpoint.did, { durationS: 1 });
    expect(result).toMatchObject({
      status: "rejected",
      error: { code: 486, reason: "callee:busy", from: endpoint.did },
    });
    await endpoint.close();
  });
});
