/**
 * Headless Chromium (Debian `chromium`, driven by playwright-core, which never
 * downloads a browser) as a real WebRTC media endpoint. Its microphone is a
 * tone WAV (--use-file-for-fake-audio-capture); the page is served from a local
 * HTTP server on 127.0.0.1 (about:blank has no mediaDevices). The signalling is
 * the test's business: createOffer() gives the full offer (ICE gathering
 * complete, PCMU preferred), setAnswer() applies the answer; stats() and
 * peakFrequency() tell whether audio came in (getStats inbound-rtp; an
 * AnalyserNode FFT on the remote track).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { writeToneWav } from "./baresip.js";
import { findCommand, requirePeer } from "./sipp.js";

/** True when Debian's chromium is installed; throws under CI=true when it is not. */
export function hasChromium(): boolean {
  return requirePeer("chromium");
}

export interface BrowserStats {
  codec: string | undefined;
  packetsReceived: number;
  packetsLost: number;
  packetsSent: number;
  totalAudioEnergy: number;
  jitter: number;
}

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>dsip peer</title></head><body><audio id="out" autoplay></audio>
<script>
let pc, analyser, ctx;
const mic = () => navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
const preferPcmu = (tr) => {
  const caps = RTCRtpReceiver.getCapabilities("audio").codecs;
  const pcmu = caps.filter((c) => c.mimeType.toLowerCase() === "audio/pcmu");
  const te = caps.filter((c) => c.mimeType.toLowerCase() === "audio/telephone-event" && c.clockRate === 8000);
  tr.setCodecPreferences([...pcmu, ...te]);
};
const gathered = () => new Promise((resolve) => {
  if (pc.iceGatheringState === "complete") return resolve();
  pc.addEventListener("icegatheringstatechange", () => { if (pc.iceGatheringState === "complete") resolve(); });
  setTimeout(resolve, 5000);
});
const newPc = () => {
  pc = new RTCPeerConnection({ iceServers: [] });
  pc.ontrack = (ev) => {
    const stream = ev.streams[0] ?? new MediaStream([ev.track]);
    const el = document.getElementById("out");
    el.srcObject = stream;
    el.play().catch(() => {});
    ctx = new AudioContext();
    const src = ctx.createMediaStreamSource(stream);
    analyser = ctx.createAnalyser();
    analyser.fftSize = 8192;
    analyser.smoothingTimeConstant = 0;
    src.connect(analyser);
    ctx.resume();
  };
};
window.createOffer = async () => {
  const stream = await mic();
  newPc();
  const tr = pc.addTransceiver(stream.getAudioTracks()[0], { direction: "sendrecv", streams: [stream] });
  preferPcmu(tr);
  await pc.setLocalDescription(await pc.createOffer());
  await gathered();
  return pc.localDescription.sdp;
};
window.answerOffer = async (sdp) => {
  const stream = await mic();
  newPc();
  await pc.setRemoteDescription({ type: "offer", sdp });
  const tr = pc.getTransceivers()[0];
  await tr.sender.replaceTrack(stream.getAudioTracks()[0]);
  tr.sender.setStreams(stream);
  tr.direction = "sendrecv";
  preferPcmu(tr);
  await pc.setLocalDescription(await pc.createAnswer());
  await gathered();
  return pc.localDescription.sdp;
};
window.setAnswer = async (sdp) => { await pc.setRemoteDescription({ type: "answer", sdp }); };
window.connectionState = () => pc ? pc.connectionState : "none";
window.peerStats = async () => {
  const out = { codec: undefined, packetsReceived: 0, packetsLost: 0, packetsSent: 0, totalAudioEnergy: 0, jitter: 0 };
  const report = await pc.getStats();
  const codecs = new Map();
  report.forEach((s) => { if (s.type === "codec") codecs.set(s.id, s.mimeType); });
  report.forEach((s) => {
    if (s.type === "inbound-rtp" && s.kind === "audio") {
      out.packetsReceived = s.packetsReceived ?? 0;
      out.packetsLost = s.packetsLost ?? 0;
      out.totalAudioEnergy = s.totalAudioEnergy ?? 0;
      out.jitter = s.jitter ?? 0;
      out.codec = codecs.get(s.codecId);
    }
    if (s.type === "outbound-rtp" && s.kind === "audio") out.packetsSent = s.packetsSent ?? 0;
  });
  return out;
};
window.peakFrequency = () => {
  if (!analyser) return -1;
  const bins = new Float32Array(analyser.frequencyBinCount);
  analyser.getFloatFrequencyData(bins);
  let best = 0;
  for (let i = 1; i < bins.length; i++) if (bins[i] > bins[best]) best = i;
  return (best * ctx.sampleRate) / analyser.fftSize;
};
window.closePeer = () => { pc?.close(); ctx?.close(); };
</script></body></html>`;

export class ChromiumPeer {
  private constructor(
    private readonly browser: Browser,
    private readonly page: Page,
    private readonly server: Server,
    private readonly dir: string,
  ) {}

  static async launch(options: { tone: number }): Promise<ChromiumPeer> {
    const dir = mkdtempSync(join(tmpdir(), "chromium-peer-"));
    const wav = writeToneWav(join(dir, `tone${options.tone}.wav`), options.tone, 60, 48_000);
    writeFileSync(join(dir, "index.html"), PAGE);
    const server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(PAGE);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const port = (server.address() as AddressInfo).port;
    let browser: Browser | undefined;
    try {
      browser = await chromium.launch({
        executablePath: findCommand("chromium") ?? "/usr/bin/chromium",
        headless: true,
        args: [
          "--no-sandbox",
          "--use-fake-ui-for-media-stream",
          "--use-fake-device-for-media-stream",
          `--use-file-for-fake-audio-capture=${wav}`,
          "--allow-loopback-in-peer-connection",
          "--autoplay-policy=no-user-gesture-required",
          "--disable-features=WebRtcHideLocalIpsWithMdns",
        ],
      });
      const context = await browser.newContext({ permissions: ["microphone"] });
      const page = await context.newPage();
      await page.goto(`http://127.0.0.1:${port}/`);
      return new ChromiumPeer(browser, page, server, dir);
    } catch (err) {
      await browser?.close();
      server.close();
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** The full offer (gathering complete), PCMU first. */
  createOffer(): Promise<string> {
    return this.page.evaluate(() =>
      (globalThis as unknown as { createOffer(): Promise<string> }).createOffer(),
    );
  }

  /** Answers an offer (sending and receiving, PCMU preferred); the answer has every candidate. */
  answer(offer: string): Promise<string> {
    return this.page.evaluate(
      (s) => (globalThis as unknown as { answerOffer(x: string): Promise<string> }).answerOffer(s),
      offer,
    );
  }

  setAnswer(sdp: string): Promise<void> {
    return this.page.evaluate(
      (s) => (globalThis as unknown as { setAnswer(x: string): Promise<void> }).setAnswer(s),
      sdp,
    );
  }

  connectionState(): Promise<string> {
    return this.page.evaluate(() =>
      (globalThis as unknown as { connectionState(): string }).connectionState(),
    );
  }

  async waitConnected(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const state = await this.connectionState();
      if (state === "connected") return;
      if (state === "failed" || Date.now() > deadline)
        throw new Error(`Chromium peer connection: ${state} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  stats(): Promise<BrowserStats> {
    return this.page.evaluate(() =>
      (globalThis as unknown as { peerStats(): Promise<BrowserStats> }).peerStats(),
    );
  }

  /** The strongest FFT bin of the remote audio (Hz; fftSize 8192 ≈ 5.9 Hz a bin at 48 kHz). */
  peakFrequency(): Promise<number> {
    return this.page.evaluate(() => (globalThis as unknown as { peakFrequency(): number }).peakFrequency());
  }

  async close(): Promise<void> {
    await this.page
      .evaluate(() => (globalThis as unknown as { closePeer(): void }).closePeer())
      .catch(() => undefined);
    await this.browser.close();
    await new Promise<void>((r) => this.server.close(() => r()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
