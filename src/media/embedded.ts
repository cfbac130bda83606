/**
 * The zero-install engine: an in-process UDP relay for plain RTP legs and a
 * werift peer connection for WebRTC legs, wired back to back per call.
 */

import { type Endpoint, RtpEndpoint, WebRtcEndpoint } from "./endpoints.js";
import {
  type EmbeddedConfig,
  type LegKind,
  type MediaEngine,
  MediaEngineError,
  type MediaLogger,
  type MediaRequest,
  type MediaStats,
} from "./engine.js";
import { PortAllocator } from "./ports.js";

interface Session {
  callId: string;
  /** Faces the original offerer (caller). */
  a: Endpoint;
  /** Faces the original answerer (callee). */
  b: Endpoint;
  stats: MediaStats;
  /** Serialises offer/answer/ice/delete per call: werift is not re-entrant. */
  queue: Promise<unknown>;
}

const GATHER_TIMEOUT_MS = 5000;

export class EmbeddedEngine implements MediaEngine {
  readonly name = "embedded";
  private readonly ports: PortAllocator;
  private readonly calls = new Map<string, Session>();
  /** Sessions being built (ports bound, peers created): a second offer or a delete waits for it. */
  private readonly creating = new Map<string, Promise<Session>>();
  private closed = false;

  constructor(
    private readonly config: EmbeddedConfig,
    private readonly log: MediaLogger,
  ) {
    this.ports = new PortAllocator(config.host, config.portMin, config.portMax);
  }

  private async endpoint(kind: LegKind): Promise<Endpoint> {
    if (kind === "rtp") return new RtpEndpoint(await this.ports.allocate(), this.config.host);
    return new WebRtcEndpoint({
      host: this.config.host,
      portRange: [this.config.portMin, this.config.portMax],
      gatherTimeoutMs: GATHER_TIMEOUT_MS,
    });
  }

  private async create(req: MediaRequest): Promise<Session> {
    const a = await this.endpoint(req.reverse ? req.to : req.from);
    let b: Endpoint;
    try {
      b = await this.endpoint(req.reverse ? req.from : req.to);
    } catch (e) {
      await a.close();
      throw e;
    }
    const s: Session = {
      callId: req.callId,
      a,
      b,
      stats: { packetsAtoB: 0, packetsBtoA: 0 },
      queue: Promise.resolve(),
    };
    a.onRtp = (pkt) => {
      s.stats.packetsAtoB++;
      b.sendRtp(pkt);
    };
    b.onRtp = (pkt) => {
      s.stats.packetsBtoA++;
      a.sendRtp(pkt);
    };
    a.onRtcp = (pkt) => b.sendRtcp(pkt);
    b.onRtcp = (pkt) => a.sendRtcp(pkt);
    return s;
  }

  /** Runs `f` after anything already in flight for the call; any failure frees the whole call. */
  private async run<T>(callId: string, op: string, s: Session, f: () => Promise<T>): Promise<T> {
    const next = s.queue.then(f);
    s.queue = next.catch(() => {});
    try {
      return await next;
    } catch (e) {
      const err =
        e instanceof MediaEngineError
          ? e
          : new MediaEngineError("webrtc-failure", e instanceof Error ? e.message : String(e), { cause: e });
      this.log.error(
        { callId, op, code: err.code, err: err.reason },
        "media: embedded engine failed; call freed",
      );
      await this.free(callId);
      throw err;
    }
  }

  async offer(req: MediaRequest): Promise<string> {
    if (this.closed) throw new MediaEngineError("closed", "media engine is closed");
    // No await between the lookups and creating.set: a second offer must see the first one's build.
    const inflight = this.calls.has(req.callId) ? undefined : this.creating.get(req.callId);
    let s = this.calls.get(req.callId) ?? (inflight ? await inflight.catch(() => undefined) : undefined);
    if (!s) {
      const building = this.create(req);
      this.creating.set(req.callId, building);
      try {
        s = await building;
      } catch (e) {
        if (e instanceof MediaEngineError)
          this.log.error(
            { callId: req.callId, op: "offer", code: e.code, err: e.reason },
            "media: offer failed",
          );
        throw e;
      } finally {
        this.creating.delete(req.callId);
      }
      this.calls.set(req.callId, s);
    }
    const sess = s;
    return this.run(req.callId, "offer", sess, async () => {
      const [src, dst] = req.reverse ? [sess.b, sess.a] : [sess.a, sess.b];
      this.checkKinds(req, src, dst);
      await src.remoteOffer(req.sdp);
      return dst.localOffer(src.remoteMedia());
    });
  }

  async answer(req: MediaRequest): Promise<string> {
    const s = this.calls.get(req.callId);
    if (!s) {
      const err = new MediaEngineError("no-session", `answer for unknown call ${req.callId}`);
      this.log.error({ callId: req.callId, op: "answer", code: err.code }, "media: answer without offer");
      throw err;
    }
    return this.run(req.callId, "answer", s, async () => {
      // The answerer is the side the offer went to.
      const [answerer, offerer] = req.reverse ? [s.a, s.b] : [s.b, s.a];
      this.checkKinds(req, answerer, offerer);
      await answerer.remoteAnswer(req.sdp);
      return offerer.localAnswer(answerer.remoteMedia());
    });
  }

  private checkKinds(req: MediaRequest, src: Endpoint, dst: Endpoint): void {
    if (src.kind !== req.from || dst.kind !== req.to)
      throw new MediaEngineError(
        "unsupported",
        `call ${req.callId} has legs ${src.kind}→${dst.kind}, request says ${req.from}→${req.to}`,
      );
  }

  async ice(callId: string, candidate: string | null): Promise<void> {
    const s = this.calls.get(callId);
    if (!s) return;
    const ep = s.a.kind === "webrtc" ? s.a : s.b.kind === "webrtc" ? s.b : undefined;
    if (!ep) return;
    await this.run(callId, "ice", s, () => ep.addIceCandidate(candidate));
  }

  private async free(callId: string): Promise<void> {
    await this.creating.get(callId)?.catch(() => {});
    const s = this.calls.get(callId);
    if (!s) return;
    this.calls.delete(callId);
    s.a.onRtp = s.b.onRtp = () => {};
    await Promise.allSettled([s.a.close(), s.b.close()]);
  }

  async delete(callId: string): Promise<void> {
    try {
      await this.free(callId);
    } catch (e) {
      this.log.warn({ callId, err: String(e) }, "media: delete failed");
    }
  }

  sessions(): number {
    return this.calls.size;
  }

  stats(callId: string): MediaStats | undefined {
    const s = this.calls.get(callId);
    return s ? { ...s.stats } : undefined;
  }

  /** Port pairs currently bound by plain RTP legs (tests check they are all freed). */
  portsInUse(): number {
    return this.ports.inUse;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.calls.keys()].map((id) => this.delete(id)));
  }
}
