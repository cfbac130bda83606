/**
 * One call's audio over WebRTC (werift): PCMU + telephone-event, non-trickle
 * (the SDP carries every candidate), a real-time paced tone or silence out, and
 * what arrives decoded into a recording.
 */
import {
  MediaStreamTrack,
  RTCPeerConnection,
  RTCRtpCodecParameters,
  type RTCRtpTransceiver,
  RtpHeader,
  RtpPacket,
} from "werift";
import { decodeUlaw, encodeUlaw, FRAME_SAMPLES, SAMPLE_RATE, SineSource, ULAW_SILENCE } from "./audio.js";

export const PCMU_PT = 0;
export const TELEPHONE_EVENT_PT = 101;
const FRAME_MS = 20;

export interface MediaOptions {
  /** Send this tone (Hz); silence when absent. */
  toneHz?: number | undefined;
  /** Extra host candidates; 127.0.0.1 by default so two peers on one box always find a pair. */
  iceAdditionalHostAddresses?: string[];
  /** STUN server, e.g. `stun:stun.example:3478`, for a peer behind NAT. */
  stunServer?: string | undefined;
  /** Give up gathering after this long and offer what was found. */
  gatherTimeoutMs?: number;
}

/**
 * werift throws on `a=rtcp:PORT` without an address (the short form rtpengine
 * emits). With rtcp-mux the line carries nothing we need, so it is dropped.
 */
export function remoteSdpForWerift(sdp: string): string {
  return sdp.replace(/^a=rtcp:\d+[ \t]*\r?\n/gm, "");
}

function peerConnection(options: MediaOptions): RTCPeerConnection {
  return new RTCPeerConnection({
    codecs: {
      audio: [
        new RTCRtpCodecParameters({
          mimeType: "audio/PCMU",
          clockRate: 8000,
          payloadType: PCMU_PT,
          channels: 1,
        }),
        new RTCRtpCodecParameters({
          mimeType: "audio/telephone-event",
          clockRate: 8000,
          payloadType: TELEPHONE_EVENT_PT,
          channels: 1,
          parameters: "0-16",
        }),
      ],
      video: [],
    },
    iceAdditionalHostAddresses: options.iceAdditionalHostAddresses ?? ["127.0.0.1"],
    // werift offers link-local IPv6 host candidates that never pair on loopback and slow ICE down.
    iceUseIpv6: false,
    ...(options.stunServer ? { iceServers: [{ urls: options.stunServer }] } : {}),
  });
}

/** Resolves once gathering is complete, so the local SDP can go out whole (DSIP invites are non-trickle). */
function gathered(pc: RTCPeerConnection, timeoutMs: number): Promise<void> {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, timeoutMs);
    const sub = pc.iceGatheringStateChange.subscribe((state) => {
      if (state === "complete") done();
    });
    function done() {
      clearTimeout(timer);
      sub.unSubscribe();
      resolve();
    }
  });
}

/** The parts of werift 0.24's internal RTP router and receiver that latchUnsignalledSsrc touches. */
interface WeriftRouter {
  ssrcTable: Record<number, unknown>;
  routeRtp(packet: RtpPacket): void;
  registerRtpReceiver(receiver: WeriftReceiver, ssrc: number): void;
}
interface WeriftReceiver {
  tracks: MediaStreamTrack[];
  trackBySSRC: Record<number, MediaStreamTrack>;
  defaultTrack: MediaStreamTrack;
}

export class AudioLeg {
  packetsSent = 0;
  packetsReceived = 0;
  /** RFC 4733 digits heard (one per event, on its end packet). */
  readonly digits: string[] = [];
  private readonly track = new MediaStreamTrack({ kind: "audio" });
  /** Remote tracks whose RTP this leg already counts and records. */
  private readonly heard = new WeakSet<MediaStreamTrack>();
  private readonly chunks: Int16Array[] = [];
  private lastTimestamp: number | undefined;
  private lastDigitTs: number | undefined;
  private pump: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly source: SineSource | undefined;

  private constructor(
    readonly pc: RTCPeerConnection,
    private readonly options: MediaOptions,
  ) {
    this.source = options.toneHz ? new SineSource(options.toneHz) : undefined;
    // Gotcha: subscribe before setRemoteDescription or the remote track is missed.
    pc.onTrack.subscribe((remote) => this.listenTo(remote));
    this.latchUnsignalledSsrc();
    pc.connectionStateChange.subscribe((state) => {
      if (state === "connected") this.startSending();
    });
  }

  /**
   * Behave like a browser with one audio m-line: RTP whose SSRC the far SDP
   * never named is this call's audio. werift drops such packets ("ssrcReceiver
   * not found"); rtpengine forwards a SIP phone's SSRC without signalling it.
   * Reaches into werift 0.24's router (no public hook); re-check on upgrade.
   */
  private latchUnsignalledSsrc(): void {
    const router = (this.pc as unknown as { router?: WeriftRouter }).router;
    if (!router || typeof router.routeRtp !== "function" || typeof router.registerRtpReceiver !== "function")
      return;
    const route = router.routeRtp;
    router.routeRtp = (packet: RtpPacket) => {
      const ssrc = packet.header.ssrc;
      if (!router.ssrcTable[ssrc]) {
        const audio = this.pc.getTransceivers().filter((t) => t.kind === "audio");
        const receiver = audio.length === 1 ? (audio[0]!.receiver as unknown as WeriftReceiver) : undefined;
        if (receiver) {
          router.registerRtpReceiver(receiver, ssrc);
          const track = receiver.tracks[0];
          if (track) receiver.trackBySSRC[ssrc] = track;
          else {
            // No signalled track at all: onTrack never fired, so listen on the receiver's default track.
            receiver.trackBySSRC[ssrc] = receiver.defaultTrack;
            this.listenTo(receiver.defaultTrack);
          }
        }
      }
      route(packet);
    };
  }

  /** Once per track: werift may later announce the default track through onTrack as well. */
  private listenTo(track: MediaStreamTrack): void {
    if (this.heard.has(track)) return;
    this.heard.add(track);
    track.onReceiveRtp.subscribe((rtp) => this.onRtp(rtp));
  }

  /** The caller side: an offer with every candidate in it. */
  static async offer(options: MediaOptions): Promise<{ leg: AudioLeg; sdp: string }> {
    const leg = new AudioLeg(peerConnection(options), options);
    leg.pc.addTransceiver(leg.track, { direction: "sendrecv" });
    await leg.pc.setLocalDescription(await leg.pc.createOffer());
    return { leg, sdp: await leg.localSdp() };
  }

  /** The callee side: answers `offer`, sending and receiving. */
  static async answer(offer: string, options: MediaOptions): Promise<{ leg: AudioLeg; sdp: string }> {
    const leg = new AudioLeg(peerConnection(options), options);
    try {
      await leg.pc.setRemoteDescription({ type: "offer", sdp: remoteSdpForWerift(offer) });
      const transceiver: RTCRtpTransceiver | undefined = leg.pc
        .getTransceivers()
        .find((t) => t.kind === "audio");
      if (!transceiver) throw new Error("the offer has no audio");
      if (
        !transceiver.codecs.some(
          (c) => c.payloadType === PCMU_PT || c.mimeType.toLowerCase() === "audio/pcmu",
        )
      )
        throw new Error("the offer has no PCMU");
      // Gotcha: werift answers recvonly unless the transceiver is told otherwise before createAnswer.
      transceiver.setDirection("sendrecv");
      await transceiver.sender.replaceTrack(leg.track);
      // Answer a=setup:passive (RFC 5763 lets the answerer pick): as the DTLS client werift failed
      // about 1 handshake in 10 against rtpengine 10.5's DTLS server (its second flight never
      // accepted), as the server it completes. Set through werift 0.24's transport: no public API.
      const dtls = (transceiver as unknown as { dtlsTransport?: { role: string } }).dtlsTransport;
      if (dtls && dtls.role === "auto") dtls.role = "server";
      await leg.pc.setLocalDescription(await leg.pc.createAnswer());
      return { leg, sdp: await leg.localSdp() };
    } catch (err) {
      await leg.close();
      throw err;
    }
  }

  /** On the caller: the answer (or an early-media SDP standing in for it). */
  async setAnswer(sdp: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: "answer", sdp: remoteSdpForWerift(sdp) });
  }

  get hasRemote(): boolean {
    return this.pc.remoteDescription !== undefined && this.pc.remoteDescription !== null;
  }

  async addCandidate(candidate: string | null): Promise<void> {
    if (candidate === null || !this.hasRemote) return;
    await this.pc.addIceCandidate({ candidate, sdpMLineIndex: 0, sdpMid: "0" });
  }

  get connected(): boolean {
    return this.pc.connectionState === "connected";
  }

  /** Resolves true once ICE and DTLS are up, false on failure or timeout. */
  waitConnected(timeoutMs: number): Promise<boolean> {
    if (this.connected) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(false), timeoutMs);
      const sub = this.pc.connectionStateChange.subscribe((state) => {
        if (state === "connected") finish(true);
        else if (state === "failed" || state === "closed") finish(false);
      });
      function finish(ok: boolean) {
        clearTimeout(timer);
        sub.unSubscribe();
        resolve(ok);
      }
    });
  }

  /** Everything heard so far, decoded, with gaps (lost or late packets) filled with silence. */
  recording(): Int16Array {
    const total = this.chunks.reduce((n, c) => n + c.length, 0);
    const out = new Int16Array(total);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }

  get recordedSeconds(): number {
    return this.chunks.reduce((n, c) => n + c.length, 0) / SAMPLE_RATE;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.pump);
    this.track.stop();
    await this.pc.close().catch(() => undefined);
  }

  private async localSdp(): Promise<string> {
    await gathered(this.pc, this.options.gatherTimeoutMs ?? 5000);
    const sdp = this.pc.localDescription?.sdp;
    if (!sdp) throw new Error("no local description");
    return sdp;
  }

  /**
   * Paced against a fixed start so timer lateness does not accumulate: each
   * tick sends every frame that is due (at most a few, so a stalled loop does
   * not turn into a burst) and sleeps until the next one.
   */
  private startSending(): void {
    if (this.pump || this.closed) return;
    const start = performance.now();
    const ssrc = (Math.random() * 0xffffffff) >>> 0;
    const seq0 = (Math.random() * 0xffff) >>> 0;
    const ts0 = (Math.random() * 0xffffffff) >>> 0;
    let n = 0;
    const tick = () => {
      if (this.closed) return;
      const due = Math.floor((performance.now() - start) / FRAME_MS) + 1;
      if (due - n > 5) n = due - 5;
      for (; n < due; n++) {
        const payload = this.source
          ? encodeUlaw(this.source.frame())
          : Buffer.alloc(FRAME_SAMPLES, ULAW_SILENCE);
        const header = new RtpHeader({
          payloadType: PCMU_PT,
          sequenceNumber: (seq0 + n) & 0xffff,
          timestamp: (ts0 + n * FRAME_SAMPLES) >>> 0,
          ssrc,
          marker: n === 0,
        });
        this.track.writeRtp(new RtpPacket(header, payload));
        this.packetsSent++;
      }
      this.pump = setTimeout(tick, Math.max(0, start + n * FRAME_MS - performance.now()));
    };
    tick();
  }

  private onRtp(rtp: RtpPacket): void {
    const pt = rtp.header.payloadType;
    if (pt === PCMU_PT) {
      this.packetsReceived++;
      const ts = rtp.header.timestamp;
      if (this.lastTimestamp !== undefined) {
        const gap = (ts - this.lastTimestamp - rtp.payload.length) >>> 0;
        // Up to 2 s of missing audio is kept as silence so the recording stays in real time;
        // anything larger is a timestamp jump or reordering, not a gap.
        if (gap > 0 && gap <= 2 * SAMPLE_RATE) this.chunks.push(new Int16Array(gap));
        if (((ts - this.lastTimestamp) | 0) < 0) return; // late packet: its slot was already filled
      }
      this.lastTimestamp = ts;
      this.chunks.push(decodeUlaw(rtp.payload));
    } else if (rtp.payload.length >= 4) {
      // RFC 4733: the end bit repeats on the last packets of an event; count each event once.
      const end = (rtp.payload[1]! & 0x80) !== 0;
      if (end && this.lastDigitTs !== rtp.header.timestamp) {
        this.lastDigitTs = rtp.header.timestamp;
        this.digits.push("0123456789*#ABCD"[rtp.payload[0]!] ?? "?");
      }
    }
  }
}
