/**
 * The seam where media anchoring will plug in (rtpengine's ng protocol shape:
 * offer / answer / delete per call). For now the gateway does not touch media:
 * the pass-through engine returns each SDP unchanged, so the endpoints send RTP
 * to each other directly.
 */

export interface MediaEngine {
  /** A's offer → the offer B receives. */
  offer(callId: string, sdp: string): Promise<string>;
  /** B's answer (or early-media SDP) → what A receives. */
  answer(callId: string, sdp: string): Promise<string>;
  /** The call ended: free whatever was allocated for it. Never throws. */
  delete(callId: string): Promise<void>;
}

export class PassThroughMediaEngine implements MediaEngine {
  offer(_callId: string, sdp: string): Promise<string> {
    return Promise.resolve(sdp);
  }
  answer(_callId: string, sdp: string): Promise<string> {
    return Promise.resolve(sdp);
  }
  delete(_callId: string): Promise<void> {
    return Promise.resolve();
  }
}
