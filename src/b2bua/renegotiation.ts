/**
 * Mid-call re-offers on a connected SIP ⇄ DSIP call (issue #6: hold, resume,
 * codec change), shared by SipToDsipCall and DsipToSipCall. The media engine
 * anchors both legs, so each side's renegotiation ends at the engine:
 *
 * * SIP re-INVITE / UPDATE with an offer → the engine re-offers it towards its
 *   WebRTC leg and is answered there with the DSIP peer's SDP as it stands
 *   (`localWebrtcAnswer`); the SIP side gets the engine's answer (recvonly to
 *   a sendonly hold, RFC 3264), and the DSIP peer a signed dsip.update carrying
 *   the gateway's new WebRTC-side SDP, whose direction says hold or resume.
 *   No offer (session refresh, offerless re-INVITE): the current SDP, nothing
 *   to DSIP.
 * * dsip.update → the engine re-offers towards SIP (a hold: sendonly), a
 *   re-INVITE to the SIP leg, its answer back into the engine. Failures go
 *   back as a dsip.error correlating the update.
 *
 * Re-offers of one call run one after the other.
 */
import type { Logger } from "pino";
import type { MessageOf } from "../agent/index.js";
import {
  type DialogEnvelope,
  dsipUpdateToSip,
  MappingError,
  sipFailureToDsipError,
  sipReofferToDsipUpdate,
} from "../mapping/index.js";
import { type MediaEngine, MediaEngineError } from "../media/index.js";
import { type Dialog, isSipStatusError, type SrfRequest, type SrfResponse } from "../sip/index.js";
import { localWebrtcAnswer, offeredDirection, withDirection } from "./reoffer.js";

export interface RenegotiationHost {
  /** The media engine's call id (the DSIP call id). */
  callId: string;
  media: MediaEngine;
  log: () => Logger;
  /** True on a DSIP → SIP call: the SIP side is the original answerer (`reverse` for its offers). */
  sipIsCallee: boolean;
  envelope(): DialogEnvelope;
  send(message: object): void;
  isEnded(): boolean;
  /** The engine failed and freed the call's media: the call must end. */
  mediaFailed(during: string, err: unknown): void;
}

export class Renegotiation {
  private queue: Promise<void> = Promise.resolve();

  /**
   * @param peerSdp the DSIP peer's SDP as it stands (its offer or answer)
   * @param ours the WebRTC SDP the gateway last gave the DSIP peer in an offer/answer
   */
  constructor(
    private readonly host: RenegotiationHost,
    private peerSdp: string,
    private ours: string | undefined,
  ) {}

  /** Takes over the SIP dialog's re-INVITEs and UPDATEs. */
  attach(dialog: Dialog): void {
    dialog.on("modify", (req: SrfRequest, res: SrfResponse) =>
      this.run(() => this.onSipReoffer("INVITE", dialog, req, res)),
    );
    dialog.on("update", (req: SrfRequest, res: SrfResponse) =>
      this.run(() => this.onSipReoffer("UPDATE", dialog, req, res)),
    );
  }

  /** Resolves when every re-offer queued so far is done (tests). */
  idle(): Promise<void> {
    return this.queue;
  }

  private run(f: () => Promise<void>): void {
    this.queue = this.queue.then(f).catch((err: unknown) => {
      this.host.log().error({ err }, "re-offer failed");
    });
  }

  private async onSipReoffer(
    method: "INVITE" | "UPDATE",
    dialog: Dialog,
    req: SrfRequest,
    res: SrfResponse,
  ): Promise<void> {
    const h = this.host;
    if (h.isEnded()) {
      res.send(481, "Call/Transaction Does Not Exist");
      return;
    }
    const offer = req.body;
    let kind: ReturnType<typeof sipReofferToDsipUpdate>["kind"];
    try {
      kind = sipReofferToDsipUpdate(h.envelope(), { method, sdp: offer }).kind;
    } catch (err) {
      const status = err instanceof MappingError ? err.status : 500;
      h.log().info({ err: (err as Error).message, method }, "re-offer refused");
      res.send(status);
      return;
    }
    if (kind === "refresh") {
      // RFC 4028 refresh or an offerless re-INVITE: the session stays as it is.
      res.send(200, method === "INVITE" ? { body: dialog.local.sdp } : {});
      return;
    }
    const reverse = h.sipIsCallee;
    let webrtc: string;
    let rtp: string;
    try {
      webrtc = await h.media.offer({ callId: h.callId, sdp: offer, from: "rtp", to: "webrtc", reverse });
      rtp = await h.media.answer({
        callId: h.callId,
        sdp: localWebrtcAnswer(this.peerSdp, webrtc, this.ours),
        from: "webrtc",
        to: "rtp",
        reverse,
      });
    } catch (err) {
      if (!res.finalSent) res.send(err instanceof MediaEngineError ? 503 : 500);
      h.mediaFailed(`${method} re-offer`, err);
      return;
    }
    if (h.isEnded()) {
      if (!res.finalSent) res.send(481, "Call/Transaction Does Not Exist");
      return;
    }
    res.send(200, { body: rtp });
    // The DSIP peer hears what the gateway's WebRTC side now does; hold is read from its direction.
    const sdp = withDirection(webrtc, offeredDirection(offer));
    const mapped = sipReofferToDsipUpdate(h.envelope(), { method, sdp });
    if (mapped.kind !== "update") return;
    h.log().info({ method, hold: mapped.message.changes.hold }, "SIP re-offer → dsip.update");
    h.send(mapped.message);
  }

  /** A dsip.update from the DSIP peer. */
  onDsipUpdate(m: MessageOf<"dsip.update">, dialog: Dialog | undefined): void {
    this.run(() => this.dsipUpdate(m, dialog));
  }

  private refuse(m: MessageOf<"dsip.update">, msg: object): void {
    this.host.send({ ...msg, correlates: m.id });
  }

  private async dsipUpdate(m: MessageOf<"dsip.update">, dialog: Dialog | undefined): Promise<void> {
    const h = this.host;
    if (h.isEnded()) return;
    let out: ReturnType<typeof dsipUpdateToSip>;
    try {
      // Until the SIP leg answers there is no dialog here to send an UPDATE in.
      out = dsipUpdateToSip(m, {
        dialogState: dialog ? "confirmed" : "early",
        peerAllowsUpdate: false,
      });
    } catch (err) {
      if (!(err instanceof MappingError)) throw err;
      h.log().info({ err: err.message }, "dsip.update refused");
      this.refuse(m, {
        type: "dsip.error",
        ...h.envelope(),
        code: err.code,
        reason: err.reason,
        detail: err.message.slice(0, 512),
      });
      return;
    }
    if (!dialog) return;
    const reverse = !h.sipIsCallee;
    let rtp: string;
    try {
      rtp = await h.media.offer({ callId: h.callId, sdp: out.body, from: "webrtc", to: "rtp", reverse });
    } catch (err) {
      this.refuse(m, sipFailureToDsipError(h.envelope(), 503, "Media Failure"));
      h.mediaFailed("dsip.update offer", err);
      return;
    }
    if (h.isEnded()) return;
    let answer: string;
    try {
      answer = await dialog.modify(rtp);
    } catch (err) {
      const status = isSipStatusError(err) ? err.status : 500;
      const reason = isSipStatusError(err) ? err.reason : (err as Error).message;
      h.log().info({ status, reason }, "re-INVITE for dsip.update refused");
      if (h.isEnded()) return;
      this.refuse(m, sipFailureToDsipError(h.envelope(), status, reason));
      // The engine's offer still wants an answer: the SIP side's SDP as it stands closes the exchange.
      try {
        const sdp = dialog.remote.sdp;
        if (sdp) await h.media.answer({ callId: h.callId, sdp, from: "rtp", to: "webrtc", reverse });
      } catch (e) {
        h.mediaFailed("dsip.update rollback", e);
      }
      return;
    }
    if (h.isEnded()) return;
    try {
      const webrtc = await h.media.answer({
        callId: h.callId,
        sdp: answer,
        from: "rtp",
        to: "webrtc",
        reverse,
      });
      // dsip.update has no answer on the wire: the peer keeps its session; remember both sides.
      this.peerSdp = out.body;
      this.ours = webrtc;
    } catch (err) {
      this.refuse(m, sipFailureToDsipError(h.envelope(), 503, "Media Failure"));
      h.mediaFailed("dsip.update answer", err);
      return;
    }
    h.log().info({ hold: out.hold }, "dsip.update → re-INVITE done");
  }
}
