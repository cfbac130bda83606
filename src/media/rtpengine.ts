/**
 * The production engine: Sipwise rtpengine (Debian `rtpengine-daemon`) driven
 * over the ng protocol. Flag sets follow docs/media.md: options on `offer`
 * describe the SDP going to the answerer, options on `answer` the SDP going
 * back to the offerer, so both depend on the kind of the side receiving it.
 */
import { randomBytes } from "node:crypto";
import type { BValue } from "./bencode.js";
import {
  type LegKind,
  type MediaEngine,
  MediaEngineError,
  type MediaLogger,
  type MediaRequest,
  type MediaStats,
  type RtpengineConfig,
} from "./engine.js";
import { NgClient, type NgDict, type NgReply } from "./ng.js";
import { isG711, parseAudio } from "./sdp.js";

interface Call {
  /** Tag of the original offerer (caller) and answerer (callee). */
  aTag: string;
  bTag: string;
  stats: MediaStats;
}

const REPLACE = ["origin", "session-connection"];

/** Codec names in `sdp` that are neither G.711 nor telephone-event/8000. */
function nonPassThrough(sdp: string): { strip: string[]; hasG711: boolean } {
  try {
    const info = parseAudio(sdp);
    const strip = new Set<string>();
    for (const c of info.codecs) {
      if (isG711(c)) continue;
      if (c.name.toLowerCase() === "telephone-event") {
        if (c.clock !== 8000) strip.add(`telephone-event/${c.clock}`);
        continue;
      }
      strip.add(c.name);
    }
    return { strip: [...strip], hasG711: info.codecs.some(isG711) };
  } catch {
    return { strip: [], hasG711: true };
  }
}

/** ng options for an SDP that came from a `from` peer and goes to a `to` peer. */
export function ngFlags(op: "offer" | "answer", from: LegKind, to: LegKind, sdp: string): NgDict {
  if (from === "rtp" && to === "rtp") return { replace: REPLACE, flags: ["port-latching"] };
  if (to === "rtp") {
    const d: NgDict = {
      "transport-protocol": "RTP/AVP",
      ICE: "remove",
      DTLS: "off",
      SDES: "off",
      "rtcp-mux": ["demux"],
      replace: REPLACE,
      flags: ["port-latching", "strip-extmap"],
    };
    if (op === "offer") {
      // Pass G.711 through when the WebRTC side offers it; transcode Opus only when it does not.
      const { strip, hasG711 } = nonPassThrough(sdp);
      d.codec = hasG711
        ? { strip, transcode: ["PCMU", "PCMA"] }
        : {
            mask: strip.filter((n) => !n.startsWith("telephone-event")),
            transcode: ["PCMU", "PCMA", "telephone-event"],
          };
    }
    return d;
  }
  // To a WebRTC peer. full-rtcp-attribute: werift cannot parse the short a=rtcp:PORT form.
  const d: NgDict = {
    "transport-protocol": "UDP/TLS/RTP/SAVPF",
    ICE: "force",
    SDES: "off",
    "rtcp-mux": [op === "offer" ? "offer" : "require"],
    replace: REPLACE,
    flags: ["generate-mid", "port-latching", "full-rtcp-attribute", "SDES-no"],
  };
  if (op === "offer" && !nonPassThrough(sdp).hasG711) d.codec = { transcode: ["PCMU", "PCMA"] };
  return d;
}

function num(v: BValue | undefined): number {
  return typeof v === "number" ? v : 0;
}

function dict(v: BValue | undefined): { [k: string]: BValue } | undefined {
  return v && typeof v === "object" && !Array.isArray(v) ? v : undefined;
}

/** RTP packets rtpengine received from the peer behind `tag` (first stream of each media = RTP). */
export function packetsFrom(reply: NgReply, tag: string): number {
  const t = dict(dict(reply.tags)?.[tag]);
  const medias = t?.medias;
  if (!Array.isArray(medias)) return 0;
  let n = 0;
  for (const m of medias) {
    const streams = dict(m)?.streams;
    if (Array.isArray(streams) && streams.length > 0) n += num(dict(dict(streams[0])?.stats)?.packets);
  }
  return n;
}

export class RtpengineEngine implements MediaEngine {
  readonly name = "rtpengine";
  private readonly calls = new Map<string, Call>();
  private readonly ng: NgClient;

  private constructor(
    readonly config: RtpengineConfig,
    private readonly log: MediaLogger,
  ) {
    this.ng = new NgClient(config.host, config.port, config.timeoutMs);
  }

  /** Does not ping: a daemon that starts after the gateway is fine; the first offer fails cleanly if it is not there. */
  static async create(config: RtpengineConfig, log: MediaLogger): Promise<RtpengineEngine> {
    return new RtpengineEngine(config, log);
  }

  async ping(): Promise<boolean> {
    try {
      return await this.ng.ping();
    } catch {
      return false;
    }
  }

  private async call(op: string, callId: string, args: NgDict): Promise<NgReply> {
    let reply: NgReply;
    try {
      reply = await this.ng.request(op, { ...args, "call-id": callId });
    } catch (e) {
      const err =
        e instanceof MediaEngineError ? e : new MediaEngineError("unreachable", String(e), { cause: e });
      throw err;
    }
    if (reply.result !== "ok") {
      const why = typeof reply["error-reason"] === "string" ? reply["error-reason"] : reply.result;
      throw new MediaEngineError("engine-error", `rtpengine ${op}: ${why}`);
    }
    return reply;
  }

  private fail(callId: string, op: string, e: unknown): never {
    const err =
      e instanceof MediaEngineError ? e : new MediaEngineError("engine-error", String(e), { cause: e });
    this.log.error({ callId, op, code: err.code, err: err.reason }, "media: rtpengine failed; call freed");
    this.calls.delete(callId);
    // Best effort: if rtpengine is up but refused, drop what it holds; if it is down this times out quietly.
    this.ng.request("delete", { "call-id": callId }).catch(() => {});
    throw err;
  }

  private sdpOf(reply: NgReply, op: string): string {
    if (typeof reply.sdp !== "string")
      throw new MediaEngineError("engine-error", `rtpengine ${op}: reply has no SDP`);
    return reply.sdp;
  }

  async offer(req: MediaRequest): Promise<string> {
    let c = this.calls.get(req.callId);
    const fresh = !c;
    if (!c) {
      c = {
        aTag: randomBytes(6).toString("hex"),
        bTag: randomBytes(6).toString("hex"),
        stats: { packetsAtoB: 0, packetsBtoA: 0 },
      };
      this.calls.set(req.callId, c);
    }
    const [fromTag, toTag] = req.reverse ? [c.bTag, c.aTag] : [c.aTag, c.bTag];
    try {
      const args: NgDict = {
        ...ngFlags("offer", req.from, req.to, req.sdp),
        sdp: req.sdp,
        "from-tag": fromTag,
      };
      // On a re-offer rtpengine needs both tags to find the existing monologues.
      if (!fresh) args["to-tag"] = toTag;
      return this.sdpOf(await this.call("offer", req.callId, args), "offer");
    } catch (e) {
      return this.fail(req.callId, "offer", e);
    }
  }

  async answer(req: MediaRequest): Promise<string> {
    const c = this.calls.get(req.callId);
    if (!c) {
      const err = new MediaEngineError("no-session", `answer for unknown call ${req.callId}`);
      this.log.error({ callId: req.callId, op: "answer", code: err.code }, "media: answer without offer");
      throw err;
    }
    const [fromTag, toTag] = req.reverse ? [c.bTag, c.aTag] : [c.aTag, c.bTag];
    try {
      const args: NgDict = {
        ...ngFlags("answer", req.from, req.to, req.sdp),
        sdp: req.sdp,
        "from-tag": fromTag,
        "to-tag": toTag,
      };
      return this.sdpOf(await this.call("answer", req.callId, args), "answer");
    } catch (e) {
      return this.fail(req.callId, "answer", e);
    }
  }

  async delete(callId: string): Promise<void> {
    if (!this.calls.delete(callId)) return;
    try {
      await this.call("delete", callId, {});
    } catch (e) {
      this.log.warn(
        { callId, err: e instanceof Error ? e.message : String(e) },
        "media: rtpengine delete failed",
      );
    }
  }

  sessions(): number {
    return this.calls.size;
  }

  stats(callId: string): MediaStats | undefined {
    const c = this.calls.get(callId);
    return c ? { ...c.stats } : undefined;
  }

  async refreshStats(callId: string): Promise<MediaStats | undefined> {
    const c = this.calls.get(callId);
    if (!c) return undefined;
    try {
      const r = await this.call("query", callId, {});
      c.stats = { packetsAtoB: packetsFrom(r, c.aTag), packetsBtoA: packetsFrom(r, c.bTag) };
    } catch (e) {
      this.log.warn(
        { callId, err: e instanceof Error ? e.message : String(e) },
        "media: rtpengine query failed",
      );
    }
    return { ...c.stats };
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.calls.keys()].map((id) => this.delete(id)));
    this.ng.close();
  }
}
