/**
 * What both kinds of DSIP call (SIP → DSIP, DSIP → SIP) do the same way on
 * their DSIP leg: in-call envelopes signed as the identity the gateway speaks
 * as on this call, fire-and-log sending, the hooks hold/resume renegotiation
 * needs, and ending both legs when a re-offer broke the media.
 */
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { unixNow } from "../agent/index.js";
import type { DialogEnvelope } from "../mapping/index.js";
import type { MediaEngine } from "../media/index.js";
import type { Dialog } from "../sip/index.js";
import type { HangupBy } from "./cdr.js";
import type { DsipPort } from "./dsip-port.js";
import type { RenegotiationHost } from "./renegotiation.js";

export abstract class DsipCallLeg {
  /** The dsip.invite's id: the DSIP call id, `correlates` of every in-call message. */
  abstract readonly dsipId: string;
  /** The DID at the other end of the DSIP leg. */
  abstract readonly peer: string;
  /** The SIP leg once it is a dialog. */
  protected dialog: Dialog | undefined;
  protected abstract log: Logger;
  /** Who the gateway signs as on this call (the gateway, or a tn DID). */
  protected abstract as: string;
  protected abstract readonly deps: { port: DsipPort; media: MediaEngine };
  abstract get isEnded(): boolean;
  protected abstract finish(status: number, hangupBy: HangupBy | null, reason: string): void;
  /** Tells the DSIP peer the call is over (dsip.bye), when the peer still knows the call. */
  protected abstract byePeer(reason: string): void;

  protected envelope(): DialogEnvelope {
    return { id: randomUUID(), ts: unixNow(), from: this.as, to: this.peer, correlates: this.dsipId };
  }

  /** Sends without waiting: a peer gone is logged, the call's own events decide what follows. */
  protected send(message: object): void {
    this.deps.port.send(this.as, message).catch((err: unknown) => {
      this.log.warn(
        { err: (err as Error).message, type: (message as { type?: string }).type },
        "dsip send failed",
      );
    });
  }

  protected renegotiationHost(sipIsCallee: boolean): RenegotiationHost {
    return {
      callId: this.dsipId,
      media: this.deps.media,
      log: () => this.log,
      sipIsCallee,
      envelope: () => this.envelope(),
      send: (m) => this.send(m),
      isEnded: () => this.isEnded,
      mediaFailed: (during, err) => this.mediaFailed(during, err),
    };
  }

  /** A re-offer broke the call's media (the engine already freed it): BYE both sides. */
  protected mediaFailed(during: string, err: unknown): void {
    if (this.isEnded) return;
    this.log.error({ err: (err as Error).message }, `media engine failed (${during}); ending the call`);
    this.byePeer("error");
    this.finish(200, "gateway", `media: ${during}`);
    void this.dialog
      ?.destroy({ headers: [["Reason", 'SIP;cause=503;text="Media Failure"']] })
      .catch(() => {});
  }
}
