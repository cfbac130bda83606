/**
 * The media load generator (a child of bench/dsip/run.ts): one DSIP softphone
 * (werift: ICE, DTLS-SRTP, a 20 ms PCMU tone) placing N concurrent calls to a
 * tel: number that the gateway bridges to plain RTP. It lives in its own
 * process because werift's per-packet crypto would otherwise be billed to
 * the embedded engine, which shares the gateway's process.
 *
 * The SIP side's audio is a reflector here too: SIPp answers the calls with an
 * SDP naming the reflector's port, and the reflector returns each RTP packet
 * to where it came from under a different SSRC. An echo that kept the SSRC
 * would hand the softphone packets bearing its own sender SSRC, which werift
 * drops; a phone never does that.
 */
import { createSocket, type Socket } from "node:dgram";
import { setMaxListeners } from "node:events";
import { didKeyIdentity } from "../../src/agent/index.js";
import { generateSeed } from "../../src/agent/wallet.js";
import { type CallEvent, type CallResult, Softphone } from "../../src/softphone/softphone.js";
import type { FromMedia, ToMedia } from "./protocol.js";

let phone: Softphone | undefined;
let abort: AbortController | undefined;
let results: Promise<CallResult>[] = [];
let reflector: Socket | undefined;
let reflected = 0;

async function startReflector(port: number): Promise<void> {
  const s = createSocket("udp4");
  s.on("message", (msg, from) => {
    // Version 2 RTP only (the engines may send RTCP to this port + 1, never here).
    if (msg.length < 12 || msg[0]! >> 6 !== 2) return;
    msg.writeUInt32BE((msg.readUInt32BE(8) ^ 0x5a5a5a5a) >>> 0, 8);
    reflected++;
    s.send(msg, from.port, from.address);
  });
  await new Promise<void>((resolve, reject) => {
    s.once("error", reject);
    s.bind(port, "127.0.0.1", () => resolve());
  });
  reflector = s;
}

function reply(m: FromMedia): void {
  process.send?.(m);
}

async function calls(m: Extract<ToMedia, { type: "calls" }>): Promise<void> {
  const p = phone!;
  abort = new AbortController();
  // Every call of the batch listens on this one signal; that is by design, not a leak.
  setMaxListeners(0, abort.signal);
  const answered = new Set<string>();
  const connected = new Set<string>();
  let failed = 0;
  const onCall = (e: CallEvent): void => {
    if (e.type === "answered") answered.add(e.call);
    else if (e.type === "media" && e.connected) connected.add(e.call);
  };
  p.on("call", onCall);
  const started = Date.now();
  results = [];
  for (let i = 0; i < m.count; i++) {
    const to = `tel:+${m.number.slice(0, -3)}${String(i % 1000).padStart(3, "0")}`;
    const r = p.call(to, { tone: 700, signal: abort.signal, ringTimeoutS: m.upTimeoutMs / 1000 });
    void r.then((res) => {
      if (!res.answered || res.status === "failed") failed++;
    });
    results.push(r);
    // Staggered like real arrivals; 50 DTLS handshakes in one instant only measure werift's start-up.
    await new Promise((r) => setTimeout(r, 40));
  }
  const deadline = Date.now() + m.upTimeoutMs;
  while (connected.size + failed < m.count && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 100));
  p.off("call", onCall);
  reply({
    type: "up",
    answered: answered.size,
    connected: connected.size,
    failed,
    setupMs: Date.now() - started,
  });
}

async function hangup(): Promise<void> {
  abort?.abort();
  const done = await Promise.all(results);
  reply({
    type: "down",
    completed: done.filter((r) => r.status === "completed").length,
    packetsSent: done.reduce((n, r) => n + r.packetsSent, 0),
    packetsReceived: done.reduce((n, r) => n + r.packetsReceived, 0),
    answeredSeconds: done.reduce((n, r) => n + r.durationS, 0),
    reflected,
  });
  reflected = 0;
}

process.on("message", (m: ToMedia) => {
  const run = async (): Promise<void> => {
    switch (m.type) {
      case "setup":
        await startReflector(m.reflectorPort);
        phone = await Softphone.connect({
          url: m.url,
          key: didKeyIdentity(generateSeed()),
          softphone: { media: { iceAdditionalHostAddresses: ["127.0.0.1"] }, connectTimeoutMs: 30_000 },
        });
        reply({ type: "ready" });
        return;
      case "calls":
        await calls(m);
        return;
      case "hangup":
        await hangup();
        return;
      case "close":
        await phone?.close();
        reflector?.close();
        process.exit(0);
        return;
    }
  };
  run().catch((err: unknown) => reply({ type: "error", message: (err as Error).stack ?? String(err) }));
});
