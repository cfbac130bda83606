/**
 * The two kinds of media endpoint the embedded engine anchors a call leg
 * with: a plain UDP RTP socket pair (SIP side) and a werift peer connection
 * (WebRTC side). A session wires two of them back to back.
 */
import { randomInt } from "node:crypto";
import type { RemoteInfo } from "node:dgram";
import {
  MediaStreamTrack,
  type RTCIceCandidate,
  RTCPeerConnection,
  RTCRtpCodecParameters,
  type RTCRtpTransceiver,
} from "werift";
import { type LegKind, MediaEngineError } from "./engine.js";
import type { PortPair } from "./ports.js";
import { buildRtp, isRtp } from "./rtp.js";
import {
  type AudioInfo,
  buildRtpSdp,
  type Codec,
  type Direction,
  fullRtcpAttribute,
  isG711,
  isTelephoneEvent8k,
  keepCandidates,
  parseAudio,
  rewriteRtpSdp,
  SdpError,
} from "./sdp.js";

/** What one side's SDP says that the other side's endpoint needs to describe. */
export interface MediaDesc {
  codecs: Codec[];
  direction: Direction;
  /** The peer's own SDP when it is plain RTP: passed through (rewritten) to an RTP far side. */
  rtpSdp?: string;
}

export interface Endpoint {
  readonly kind: LegKind;
  /** Set by the session: RTP from this endpoint's peer. */
  onRtp: (pkt: Buffer) => void;
  /** Set by the session: RTCP from this endpoint's peer (plain RTP only). */
  onRtcp: (pkt: Buffer) => void;
  sendRtp(pkt: Buffer): void;
  sendRtcp(pkt: Buffer): void;
  remoteOffer(sdp: string): Promise<void>;
  remoteAnswer(sdp: string): Promise<void>;
  remoteMedia(): MediaDesc;
  localOffer(far: MediaDesc): Promise<string>;
  localAnswer(far: MediaDesc): Promise<string>;
  addIceCandidate(candidate: string | null): Promise<void>;
  close(): Promise<void>;
}

function parse(sdp: string): AudioInfo {
  try {
    return parseAudio(sdp);
  } catch (e) {
    throw new MediaEngineError("bad-sdp", e instanceof SdpError ? e.message : String(e), { cause: e });
  }
}

/** Codecs that cross WebRTC ⇄ RTP without transcoding: G.711 and 8 kHz telephone-event. */
export function passThroughCodecs(codecs: Codec[]): Codec[] {
  const kept = codecs.filter((c) => isG711(c) || isTelephoneEvent8k(c));
  if (!kept.some(isG711))
    throw new MediaEngineError(
      "codec-mismatch",
      `no PCMU/PCMA offered (${codecs.map((c) => c.name).join(", ") || "none"}); the embedded engine does not transcode`,
    );
  return kept;
}

interface Target {
  address: string;
  port: number;
}

export class RtpEndpoint implements Endpoint {
  readonly kind = "rtp";
  onRtp: (pkt: Buffer) => void = () => {};
  onRtcp: (pkt: Buffer) => void = () => {};
  private rtpTarget: Target | undefined;
  private rtcpTarget: Target | undefined;
  private rtpLatched = false;
  private rtcpLatched = false;
  private info: AudioInfo | undefined;
  private sdp: string | undefined;
  private version = 1;
  private readonly sessionId = String(randomInt(1, 2 ** 47));

  constructor(
    private readonly pair: PortPair,
    private readonly host: string,
  ) {
    pair.rtp.on("message", (msg: Buffer, from: RemoteInfo) => {
      // Symmetric RTP: once the peer is heard, answer where it really is (NAT), not where its SDP says.
      if (!this.rtpLatched) {
        this.rtpTarget = { address: from.address, port: from.port };
        this.rtpLatched = true;
      }
      if (isRtp(msg)) this.onRtp(msg);
      else this.onRtcp(msg);
    });
    pair.rtcp.on("message", (msg: Buffer, from: RemoteInfo) => {
      if (!this.rtcpLatched) {
        this.rtcpTarget = { address: from.address, port: from.port };
        this.rtcpLatched = true;
      }
      this.onRtcp(msg);
    });
  }

  get port(): number {
    return this.pair.rtpPort;
  }

  private setRemote(sdp: string): void {
    const info = parse(sdp);
    const changed =
      !this.info || this.info.address !== info.address || this.info.port !== info.port || !this.rtpLatched;
    this.info = info;
    this.sdp = sdp;
    if (!changed) return;
    // A new address in the SDP (or a hold with 0.0.0.0) starts latching over.
    const hold = info.address === "0.0.0.0" || info.port === 0;
    this.rtpTarget = hold ? undefined : { address: info.address, port: info.port };
    this.rtcpTarget = hold
      ? undefined
      : { address: info.address, port: info.rtcpMux ? info.port : info.rtcpPort };
    this.rtpLatched = false;
    this.rtcpLatched = false;
  }

  async remoteOffer(sdp: string): Promise<void> {
    this.setRemote(sdp);
  }

  async remoteAnswer(sdp: string): Promise<void> {
    this.setRemote(sdp);
  }

  remoteMedia(): MediaDesc {
    if (!this.info || !this.sdp) throw new MediaEngineError("bad-sdp", "no SDP from the RTP peer yet");
    return { codecs: this.info.codecs, direction: this.info.direction, rtpSdp: this.sdp };
  }

  private lastDesc: { key: string; sdp: string } | undefined;

  private describe(far: MediaDesc): string {
    if (far.rtpSdp) return rewriteRtpSdp(far.rtpSdp, this.host, this.port, this.port + 1);
    // The same answer again (183 then 200) must be the same SDP, version included (RFC 3264 §8).
    const key = JSON.stringify([far.codecs, far.direction]);
    if (this.lastDesc?.key === key) return this.lastDesc.sdp;
    const sdp = buildRtpSdp({
      host: this.host,
      port: this.port,
      rtcpPort: this.port + 1,
      codecs: far.codecs,
      direction: far.direction,
      sessionId: this.sessionId,
      version: this.version++,
    });
    this.lastDesc = { key, sdp };
    return sdp;
  }

  async localOffer(far: MediaDesc): Promise<string> {
    return this.describe(far);
  }

  async localAnswer(far: MediaDesc): Promise<string> {
    return this.describe(far);
  }

  sendRtp(pkt: Buffer): void {
    const t = this.rtpTarget;
    if (t) this.pair.rtp.send(pkt, t.port, t.address, () => {});
  }

  sendRtcp(pkt: Buffer): void {
    const t = this.rtcpTarget;
    if (!t) return;
    const sock = this.info?.rtcpMux ? this.pair.rtp : this.pair.rtcp;
    sock.send(pkt, t.port, t.address, () => {});
  }

  async addIceCandidate(): Promise<void> {}

  async close(): Promise<void> {
    this.pair.release();
  }
}

export interface WebRtcOptions {
  host: string;
  portRange: [number, number];
  gatherTimeoutMs: number;
}

/**
 * The gateway's WebRTC endpoint toward a DSIP client. The peer connection is
 * created when the far side's codecs are known (at the first answer for a
 * WebRTC offerer, at the offer for a WebRTC answerer), so that werift
 * negotiates exactly the codec the RTP side uses and payloads pass through.
 */
export class WebRtcEndpoint implements Endpoint {
  readonly kind = "webrtc";
  onRtp: (pkt: Buffer) => void = () => {};
  onRtcp: (pkt: Buffer) => void = () => {};
  private pc: RTCPeerConnection | undefined;
  private transceiver: RTCRtpTransceiver | undefined;
  private readonly track = new MediaStreamTrack({ kind: "audio" });
  private pendingOffer: string | undefined;
  private lastAnswer: string | undefined;
  private remoteSdp: string | undefined;
  private readonly candidates: Array<string | null> = [];
  private audioPt = -1;
  private dtmfCodec: RTCRtpCodecParameters | undefined;
  private closed = false;

  /** Sockets are bound to the configured address, so only its candidates are real. */
  private readonly pinnedHost: boolean;

  constructor(private readonly opts: WebRtcOptions) {
    this.pinnedHost = opts.host !== "0.0.0.0" && opts.host !== "::";
  }

  private ensurePc(codecs: Codec[]): RTCPeerConnection {
    if (this.pc) return this.pc;
    const audio = passThroughCodecs(codecs).map(
      (c) =>
        new RTCRtpCodecParameters({
          mimeType: `audio/${c.name}`,
          clockRate: c.clock,
          channels: c.channels ?? 1,
          payloadType: c.pt,
          ...(c.fmtp !== undefined ? { parameters: c.fmtp } : {}),
        }),
    );
    const pc = new RTCPeerConnection({
      codecs: { audio },
      iceUseIpv6: false,
      icePortRange: this.opts.portRange,
      // werift skips loopback when gathering; the relay's own address must be a candidate.
      iceAdditionalHostAddresses: [this.opts.host],
      ...(this.pinnedHost ? { iceInterfaceAddresses: { udp4: this.opts.host } } : {}),
    });
    // Subscribed before any setRemoteDescription, which is when werift fires onTrack.
    pc.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe((rtp) => {
        // Re-serialise without the WebRTC header extensions, which mean nothing to a SIP phone.
        this.onRtp(
          buildRtp({
            payloadType: rtp.header.payloadType,
            sequenceNumber: rtp.header.sequenceNumber,
            timestamp: rtp.header.timestamp,
            ssrc: rtp.header.ssrc,
            marker: rtp.header.marker,
            payload: rtp.payload,
          }),
        );
      });
    });
    this.pc = pc;
    return pc;
  }

  private async gathered(pc: RTCPeerConnection): Promise<string> {
    if (pc.iceGatheringState !== "complete") {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          sub.unSubscribe();
          reject(new MediaEngineError("webrtc-failure", "ICE gathering did not complete"));
        }, this.opts.gatherTimeoutMs);
        const sub = pc.iceGatheringStateChange.subscribe((state) => {
          if (state === "complete") {
            clearTimeout(timer);
            sub.unSubscribe();
            resolve();
          }
        });
      });
    }
    const sdp = pc.localDescription?.sdp;
    if (!sdp) throw new MediaEngineError("webrtc-failure", "werift produced no local description");
    return this.pinnedHost ? keepCandidates(sdp, this.opts.host) : sdp;
  }

  /** After negotiation: which PT carries audio and which codec object to borrow for DTMF. */
  private learnCodecs(): void {
    const codecs = this.transceiver?.codecs ?? [];
    const audio = codecs.find((c) => /\/(PCMU|PCMA)$/i.test(c.mimeType));
    this.audioPt = audio?.payloadType ?? -1;
    this.dtmfCodec = codecs.find((c) => /telephone-event$/i.test(c.mimeType) && c.clockRate === 8000);
    const sender = this.transceiver?.sender;
    // werift sends with the first negotiated codec; make sure that is the voice codec.
    if (sender && audio && sender.codec?.payloadType !== audio.payloadType) sender.codec = audio;
    if (audio) this.track.codec = audio;
  }

  private async flushCandidates(): Promise<void> {
    const pc = this.pc;
    if (!pc?.remoteDescription) return;
    for (const c of this.candidates.splice(0)) await this.applyCandidate(pc, c);
  }

  private async applyCandidate(pc: RTCPeerConnection, c: string | null): Promise<void> {
    if (c === null) return; // werift needs no end-of-candidates signal to finish checks
    const candidate = c.startsWith("a=") ? c.slice(2) : c;
    try {
      await pc.addIceCandidate({ candidate, sdpMLineIndex: 0 } as RTCIceCandidate);
    } catch {
      // A candidate werift cannot use (e.g. mDNS, TCP) is not fatal: others may work.
    }
  }

  async remoteOffer(sdp: string): Promise<void> {
    parse(sdp);
    this.pendingOffer = fullRtcpAttribute(sdp);
    this.remoteSdp = sdp;
  }

  async remoteAnswer(sdp: string): Promise<void> {
    const pc = this.pc;
    if (!pc) throw new MediaEngineError("webrtc-failure", "answer from the WebRTC peer before any offer");
    parse(sdp);
    // A second answer to the same offer (early media, then the final answer): JSEP has no
    // place for it once stable, and the first one already set up ICE/DTLS.
    if (pc.signalingState === "stable" && pc.remoteDescription) return;
    this.remoteSdp = sdp;
    await this.guard(() => pc.setRemoteDescription({ type: "answer", sdp: fullRtcpAttribute(sdp) }));
    this.learnCodecs();
    await this.flushCandidates();
  }

  remoteMedia(): MediaDesc {
    if (!this.remoteSdp) throw new MediaEngineError("bad-sdp", "no SDP from the WebRTC peer yet");
    const info = parse(this.remoteSdp);
    return { codecs: passThroughCodecs(info.codecs), direction: info.direction };
  }

  async localAnswer(far: MediaDesc): Promise<string> {
    const offer = this.pendingOffer;
    // Answered already (183 with SDP, then 200): the WebRTC peer gets the same answer again.
    if (!offer && this.lastAnswer) return this.lastAnswer;
    if (!offer) throw new MediaEngineError("webrtc-failure", "no offer from the WebRTC peer to answer");
    const pc = this.ensurePc(far.codecs);
    await this.guard(() => pc.setRemoteDescription({ type: "offer", sdp: offer }));
    this.pendingOffer = undefined;
    const t = pc.getTransceivers().find((x) => x.kind === "audio");
    if (!t) throw new MediaEngineError("webrtc-failure", "the WebRTC offer has no audio transceiver");
    this.transceiver = t;
    // werift answers recvonly unless told otherwise, and sends nothing without a track.
    t.setDirection(far.direction);
    await t.sender.replaceTrack(this.track);
    await this.flushCandidates();
    const answer = await this.guard(() => pc.createAnswer());
    await this.guard(() => pc.setLocalDescription(answer));
    this.learnCodecs();
    this.lastAnswer = await this.gathered(pc);
    return this.lastAnswer;
  }

  async localOffer(far: MediaDesc): Promise<string> {
    const pc = this.ensurePc(far.codecs);
    if (!this.transceiver) this.transceiver = pc.addTransceiver(this.track, { direction: far.direction });
    else this.transceiver.setDirection(far.direction);
    const offer = await this.guard(() => pc.createOffer());
    await this.guard(() => pc.setLocalDescription(offer));
    return this.gathered(pc);
  }

  private async guard<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      if (e instanceof MediaEngineError) throw e;
      throw new MediaEngineError("webrtc-failure", `werift: ${e instanceof Error ? e.message : String(e)}`, {
        cause: e,
      });
    }
  }

  sendRtp(pkt: Buffer): void {
    const sender = this.transceiver?.sender;
    if (!sender || this.closed) return;
    const pt = pkt.length >= 2 ? pkt[1]! & 0x7f : -1;
    if (pt === this.audioPt) {
      this.track.writeRtp(pkt);
    } else if (this.dtmfCodec && pt === this.dtmfCodec.payloadType) {
      // werift stamps every packet with the sender's codec PT (no DTMF API): borrow the
      // telephone-event codec for this one synchronous write so the PT survives.
      const voice = sender.codec;
      const trackCodec = this.track.codec;
      sender.codec = this.dtmfCodec;
      this.track.codec = this.dtmfCodec;
      try {
        this.track.writeRtp(pkt);
      } finally {
        sender.codec = voice;
        this.track.codec = trackCodec;
      }
    }
    // Anything else (CN, a codec the WebRTC side did not accept) would be mislabelled: drop it.
  }

  sendRtcp(): void {
    // werift runs its own RTCP toward the WebRTC peer.
  }

  async addIceCandidate(candidate: string | null): Promise<void> {
    const pc = this.pc;
    if (pc?.remoteDescription && !this.pendingOffer) await this.applyCandidate(pc, candidate);
    else this.candidates.push(candidate);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.track.stop();
    try {
      await this.pc?.close();
    } catch {
      // closing a half-negotiated peer can throw; the sockets are gone either way
    }
  }
}
