/**
 * Media for SIP ⇄ SIP calls that are not anchored (`media.anchorSip: false`,
 * the default): each SDP passes unchanged, so the phones send RTP to each
 * other directly, as through a proxy. Calls to and from DSIP always go through
 * the configured engine (src/media), which bridges WebRTC and RTP.
 */
import type { MediaEngine, MediaRequest, MediaStats } from "../media/index.js";

export type { MediaEngine } from "../media/index.js";

export class PassThroughMediaEngine implements MediaEngine {
  readonly name = "pass-through";
  offer(req: MediaRequest): Promise<string> {
    return Promise.resolve(req.sdp);
  }
  answer(req: MediaRequest): Promise<string> {
    return Promise.resolve(req.sdp);
  }
  delete(_callId: string): Promise<void> {
    return Promise.resolve();
  }
  sessions(): number {
    return 0;
  }
  stats(_callId: string): MediaStats | undefined {
    return undefined;
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}
