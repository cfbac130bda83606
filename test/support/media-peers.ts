/**
 * Two stand-in media peers for the media tests: a plain RTP/AVP socket (a SIP
 * phone) and a werift peer connection (a DSIP softphone). Each sends a PCMU
 * tone every 20 ms and keeps what it receives, for Goertzel checks.
 */
import { createSocket, type Socket } from "node:dgram";
import { MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters } from "werift";
import { buildRtp, parseRtp } from "../../src/media/rtp.js";
import { keepCandidates, parseAudio } from "../../src/media/sdp.js";
import { decodePcmuPayloads, ToneGenerator, toneRatio } from "../../src/media/tone.js";

export interface Received {
  /** PT 0 payloads, in arrival order. */
  pcmu: Buffer[];
  /** Packet count per payload type. */
  byPt: Map<number, number>;
  ssrcs: Set<number>;
}

function emptyReceived(): Received {
  return { pcmu: [], byPt: new Map(), ssrcs: new Set() };
}

function record(r: Received, pkt: { payloadType: number; ssrc: number; payload: Buffer }): void {
  r.byPt.set(pkt.payloadType, (r.byPt.get(pkt.payloadType) ?? 0) + 1);
  r.ssrcs.add(pkt.ssrc);
  if (pkt.payloadType === 0) r.pcmu.push(Buffer.from(pkt.payload));
}

/** Tone ratio over the last second (50 × 20 ms) of received PCMU. */
export function lastSecondRatio(r: Received, expected: number, other: number): number {
  return toneRatio(decodePcmuPayloads(r.pcmu.slice(-50)), expected, other);
}

/** Drives `send(frameIndex)` every 20 ms for `ms`. */
function pace(ms: number, send: (i: number) => void): Promise<void> {
  return new Promise((resolve) => {
    const frames = Math.floor(ms / 20);
    let i = 0;
    const start = Date.now();
    const tick = (): void => {
      // Catch up after a late timer (busy CI box) so the packet count matches wall time.
      while (i < frames && Date.now() - start >= i * 20) send(i++);
      if (i >= frames) resolve();
      else setTimeout(tick, 5);
    };
    tick();
  });
}

export class RtpPeer {
  readonly received = emptyReceived();
  readonly ssrc = (Math.random() * 2 ** 32) >>> 0;
  private target: { address: string; port: number } | undefined;
  private seq = Math.floor(Math.random() * 65535);
  private ts = Math.floor(Math.random() * 2 ** 31);
  /** Source addresses packets arrived from (to check the relay's symmetric RTP). */
  readonly sources = new Set<string>();

  private constructor(readonly socket: Socket) {
    socket.on("message", (msg, from) => {
      this.sources.add(`${from.address}:${from.port}`);
      const p = parseRtp(msg);
      if (p) record(this.received, p);
    });
  }

  static async open(): Promise<RtpPeer> {
    const s = createSocket("udp4");
    await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
    return new RtpPeer(s);
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** A SIP phone's SDP: PCMU + telephone-event 101 unless told otherwise. */
  sdp(opts: { port?: number; direction?: string; tePt?: number } = {}): string {
    const te = opts.tePt ?? 101;
    return [
      "v=0",
      `o=phone 1 1 IN IP4 127.0.0.1`,
      "s=-",
      "c=IN IP4 127.0.0.1",
      "t=0 0",
      `m=audio ${opts.port ?? this.port} RTP/AVP 0 ${te}`,
      "a=rtpmap:0 PCMU/8000",
      `a=rtpmap:${te} telephone-event/8000`,
      `a=fmtp:${te} 0-16`,
      "a=ptime:20",
      `a=${opts.direction ?? "sendrecv"}`,
      "",
    ].join("\r\n");
  }

  /** Where to send: the c=/m= of the SDP the engine gave us. */
  useRemote(sdp: string): void {
    const a = parseAudio(sdp);
    this.target = { address: a.address, port: a.port };
  }

  get remote(): { address: string; port: number } | undefined {
    return this.target;
  }

  sendPacket(payloadType: number, payload: Buffer, marker = false, tsAdvance = 160): void {
    if (!this.target) throw new Error("RtpPeer: no remote");
    const pkt = buildRtp({
      payloadType,
      sequenceNumber: this.seq++ & 0xffff,
      timestamp: this.ts,
      ssrc: this.ssrc,
      marker,
      payload,
    });
    this.ts = (this.ts + tsAdvance) >>> 0;
    this.socket.send(pkt, this.target.port, this.target.address);
  }

  /** A tone for `ms`; RFC 4733 events for `digit` (if any) halfway through. */
  async sendTone(freq: number, ms: number, dtmf?: { pt: number; event: number }): Promise<void> {
    const gen = new ToneGenerator(freq);
    const half = Math.floor(ms / 40);
    await pace(ms, (i) => {
      if (dtmf && i >= half && i < half + 5) {
        // One event of 5 packets, the last 3 ending (retransmitted end as RFC 4733 §2.5.1.4 asks).
        const end = i >= half + 2;
        const payload = Buffer.from([dtmf.event, (end ? 0x80 : 0) | 10, 0, 0]);
        payload.writeUInt16BE(Math.min(5, i - half + 1) * 160, 2);
        this.sendPacket(dtmf.pt, payload, i === half, i === half + 4 ? 5 * 160 : 0);
        gen.pcmuFrame();
        return;
      }
      this.sendPacket(0, gen.pcmuFrame());
    });
  }

  close(): void {
    this.socket.close();
  }
}

export class WebRtcPeer {
  readonly received = emptyReceived();
  readonly pc: RTCPeerConnection;
  private readonly track = new MediaStreamTrack({ kind: "audio" });
  private seq = 1;
  private ts = 1000;

  constructor() {
    this.pc = new RTCPeerConnection({
      codecs: {
        audio: [
          new RTCRtpCodecParameters({ mimeType: "audio/PCMU", clockRate: 8000, channels: 1, payloadType: 0 }),
          new RTCRtpCodecParameters({ mimeType: "audio/telephone-event", clockRate: 8000, payloadType: 126 }),
        ],
      },
      iceUseIpv6: false,
      iceAdditionalHostAddresses: ["127.0.0.1"],
      iceInterfaceAddresses: { udp4: "127.0.0.1" },
    });
    this.pc.onTrack.subscribe((t) => {
      t.onReceiveRtp.subscribe((rtp) =>
        record(this.received, {
          payloadType: rtp.header.payloadType,
          ssrc: rtp.header.ssrc,
          payload: rtp.payload,
        }),
      );
    });
  }

  private async gathered(): Promise<string> {
    if (this.pc.iceGatheringState !== "complete")
      await new Promise<void>((r) => {
        const sub = this.pc.iceGatheringStateChange.subscribe((s) => {
          if (s === "complete") {
            sub.unSubscribe();
            r();
          }
        });
      });
    return keepCandidates(this.pc.localDescription!.sdp, "127.0.0.1");
  }

  async createOffer(): Promise<string> {
    this.pc.addTransceiver(this.track, { direction: "sendrecv" });
    await this.pc.setLocalDescription(await this.pc.createOffer());
    return this.gathered();
  }

  async acceptAnswer(sdp: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: "answer", sdp });
  }

  async answer(offer: string): Promise<string> {
    await this.pc.setRemoteDescription({ type: "offer", sdp: offer });
    const t = this.pc.getTransceivers()[0]!;
    t.setDirection("sendrecv");
    await t.sender.replaceTrack(this.track);
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    return this.gathered();
  }

  async connected(timeoutMs = 10_000): Promise<void> {
    if (this.pc.connectionState === "connected") return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`WebRtcPeer: ${this.pc.connectionState} after ${timeoutMs} ms`)),
        timeoutMs,
      );
      const sub = this.pc.connectionStateChange.subscribe((s) => {
        if (s === "connected") {
          clearTimeout(timer);
          sub.unSubscribe();
          resolve();
        }
      });
    });
  }

  /** A tone for `ms`; with `dtmf`, one RFC 4733 event (5 packets) halfway through. */
  async sendTone(freq: number, ms: number, dtmf?: { event: number }): Promise<void> {
    const gen = new ToneGenerator(freq);
    const half = Math.floor(ms / 40);
    const t = this.pc.getTransceivers()[0]!;
    const te = t.codecs.find((c) => /telephone-event$/i.test(c.mimeType) && c.clockRate === 8000);
    await pace(ms, (i) => {
      if (dtmf && te && i >= half && i < half + 5) {
        const payload = Buffer.from([dtmf.event, (i >= half + 2 ? 0x80 : 0) | 10, 0, 0]);
        payload.writeUInt16BE((i - half + 1) * 160, 2);
        // Same borrowing of the sender's codec as the embedded engine (werift has no DTMF API).
        const voice = t.sender.codec;
        t.sender.codec = te;
        this.track.codec = te;
        try {
          this.track.writeRtp(
            buildRtp({
              payloadType: te.payloadType,
              sequenceNumber: this.seq++ & 0xffff,
              timestamp: this.ts,
              ssrc: 1,
              marker: i === half,
              payload,
            }),
          );
        } finally {
          t.sender.codec = voice;
          this.track.codec = voice;
        }
        if (i === half + 4) this.ts += 5 * 160;
        gen.pcmuFrame();
        return;
      }
      this.track.writeRtp(
        buildRtp({
          payloadType: 0,
          sequenceNumber: this.seq++ & 0xffff,
          timestamp: this.ts,
          ssrc: 1,
          marker: false,
          payload: gen.pcmuFrame(),
        }),
      );
      this.ts += 160;
    });
  }

  async close(): Promise<void> {
    this.track.stop();
    await this.pc.close();
  }
}
