/**
 * The gateway's media anchoring, modelled on rtpengine's ng protocol: one
 * session per call, `offer` when the first SDP arrives, `answer` when the
 * other side answers, `delete` on hang-up. See docs/media.md.
 */

export type LegKind = "rtp" | "webrtc";

export interface MediaRequest {
  callId: string;
  sdp: string;
  from: LegKind;
  to: LegKind;
  /**
   * True when this offer/answer exchange was started by the original answerer
   * (a re-INVITE from the callee). Pass the same value on the matching answer.
   */
  reverse?: boolean;
}

export interface MediaStats {
  /** Packets relayed from the original offerer (caller) toward the answerer. */
  packetsAtoB: number;
  packetsBtoA: number;
}

export interface MediaEngine {
  readonly name: string;
  /** The offerer's SDP (kind `from`) → the SDP to send to the answerer (kind `to`). */
  offer(req: MediaRequest): Promise<string>;
  /** The answerer's SDP (kind `from` = answerer's kind) → SDP for the offerer (kind `to`). */
  answer(req: MediaRequest): Promise<string>;
  /** Trickled ICE candidate from the WebRTC side (null = end of candidates). */
  ice?(callId: string, candidate: string | null): Promise<void>;
  /** Never throws; frees ports and peers. */
  delete(callId: string): Promise<void>;
  /** Live media sessions. */
  sessions(): number;
  /** Packet counters; for `rtpengine` the values as of the last `refreshStats`. */
  stats(callId: string): MediaStats | undefined;
  /** Fetches fresh counters where they live outside the process (rtpengine's `query`). */
  refreshStats?(callId: string): Promise<MediaStats | undefined>;
  close(): Promise<void>;
}

export type MediaErrorCode =
  | "unreachable" // rtpengine did not answer in time
  | "engine-error" // rtpengine answered result=error
  | "no-ports" // the embedded port range is exhausted
  | "bad-sdp"
  | "codec-mismatch" // no codec both sides can use without transcoding
  | "webrtc-failure" // werift refused the description or did not gather
  | "no-session"
  | "unsupported"
  | "closed";

/** Media could not be anchored; the call should fail with 503 (SIP) / a 5xx dsip.error. */
export class MediaEngineError extends Error {
  readonly status = 503;
  constructor(
    readonly code: MediaErrorCode,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`media: ${code}: ${reason}`, options);
    this.name = "MediaEngineError";
  }
}

/** The subset of a pino logger this module uses. */
export interface MediaLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export const silentLogger: MediaLogger = { info() {}, warn() {}, error() {}, debug() {} };

export interface RtpengineConfig {
  host: string;
  port: number;
  timeoutMs: number;
}

export interface EmbeddedConfig {
  /** Address the relay binds and writes into SDP (default 127.0.0.1). */
  host: string;
  portMin: number;
  portMax: number;
}

export interface MediaConfig {
  engine: "embedded" | "rtpengine";
  rtpengine?: Partial<RtpengineConfig>;
  embedded?: Partial<EmbeddedConfig>;
}

export const DEFAULT_RTPENGINE: RtpengineConfig = { host: "127.0.0.1", port: 22222, timeoutMs: 2000 };
export const DEFAULT_EMBEDDED: EmbeddedConfig = { host: "127.0.0.1", portMin: 30000, portMax: 30999 };

export async function createMediaEngine(
  config: MediaConfig,
  logger: MediaLogger = silentLogger,
): Promise<MediaEngine> {
  if (config.engine === "rtpengine") {
    const { RtpengineEngine } = await import("./rtpengine.js");
    return RtpengineEngine.create({ ...DEFAULT_RTPENGINE, ...config.rtpengine }, logger);
  }
  const { EmbeddedEngine } = await import("./embedded.js");
  const cfg = { ...DEFAULT_EMBEDDED, ...config.embedded };
  if (!(cfg.portMin > 0 && cfg.portMax <= 65535 && cfg.portMin < cfg.portMax))
    throw new MediaEngineError(
      "unsupported",
      `embedded port range ${cfg.portMin}-${cfg.portMax} is not valid`,
    );
  return new EmbeddedEngine(cfg, logger);
}
