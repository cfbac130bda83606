/**
 * A SIP caller ringing a DSIP user (ARCHITECTURE §3, SIP → DSIP): the RTP
 * offer goes through the media engine to become a WebRTC offer, the mapping
 * makes it a dsip.invite the gateway signs (as the caller's tn DID), and the
 * callee's progress / answer / error / bye come back as 18x / 200 / final
 * failure / BYE. CANCEL and the no-answer timer become dsip.cancel. Whatever
 * happens, the call ends once through its ledger (one CDR with both ids).
 */
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { type DsipMessage, type MessageOf, unixNow } from "../agent/index.js";
import {
  dsipAnswerToSip,
  dsipByeToSip,
  dsipErrorToSip,
  dsipProgressToSip,
  MappingError,
  sipByeToDsipBye,
  sipCancelToDsipCancel,
  sipInviteToDsipInvite,
} from "../mapping/index.js";
import { type MediaEngine, MediaEngineError } from "../media/index.js";
import type { DestroyInfo, Srf, SrfRequest, SrfResponse } from "../sip/index.js";
import { CallLedger, type LedgerDeps } from "./call-ledger.js";
import type { CallContext } from "./call-session.js";
import { CallRecordBuilder, type CdrLeg, type HangupBy } from "./cdr.js";
import { DsipCallLeg } from "./dsip-call-leg.js";
import type { DsipCallRegistry, DsipPort } from "./dsip-port.js";
import { Renegotiation } from "./renegotiation.js";

export interface SipToDsipDeps extends LedgerDeps {
  srf: Srf;
  port: DsipPort;
  media: MediaEngine;
  registry: DsipCallRegistry;
  logger: Logger;
  /** Seconds the DSIP callee may ring. */
  noAnswerTimeout: number;
  onEnd?: ((call: SipToDsipCall) => void) | undefined;
}

/** What routing decided: the DSIP user the called number reaches, and the caller as E.164. */
export interface DsipCallee {
  did: string;
  callerNumber?: string | undefined;
}

const CALLER_CANCEL_REASON = "Caller Cancelled";

export class SipToDsipCall extends DsipCallLeg {
  /** The dsip.invite's id: the DSIP call id in logs and the CDR. */
  readonly dsipId = randomUUID();
  readonly callId: string;
  state: "trying" | "connected" | "ended" = "trying";
  protected log: Logger;
  private readonly ledger: CallLedger;
  private readonly bLeg: CdrLeg;
  /** Who the gateway signs as on this call (the caller's tn DID, or the gateway). */
  protected as: string;
  private noAnswer: NodeJS.Timeout | undefined;
  /** The WebRTC answer already applied from early media, and the RTP SDP A got for it. */
  private early: { webrtc: string; rtp: string } | undefined;
  private answering = false;
  /** The WebRTC offer the callee got in the dsip.invite. */
  private webrtcOffer: string | undefined;
  /** Hold, resume and codec changes once connected (either side's re-offer). */
  private renegotiation: Renegotiation | undefined;

  constructor(
    private readonly req: SrfRequest,
    private readonly res: SrfResponse,
    private readonly ctx: Pick<CallContext, "inbound" | "permit" | "emergency"> & { callee: DsipCallee },
    protected readonly deps: SipToDsipDeps,
  ) {
    super();
    this.callId = req.callId;
    this.as = deps.port.did;
    this.log = deps.logger.child({ callId: this.callId, dsipId: this.dsipId });
    const fromHeader = req.get("from") ?? "";
    const record = new CallRecordBuilder(
      this.dsipId,
      /<([^>]*)>/.exec(fromHeader)?.[1] ?? fromHeader,
      req.uri,
    );
    if (ctx.emergency) record.markEmergency();
    record.leg({
      role: "a",
      callId: this.callId,
      trunk: ctx.inbound?.name,
      remote: `${req.source.host}:${req.source.port}`,
    });
    this.bLeg = record.leg({ role: "b", callId: this.dsipId, trunk: "dsip", remote: ctx.callee.did });
    this.ledger = new CallLedger(record, ctx.permit, this.dsipId, ctx.inbound?.name ?? "", deps);
  }

  get peer(): string {
    return this.ctx.callee.did;
  }

  protected byePeer(reason: string): void {
    this.sendToCallee("bye", reason);
  }

  get isEnded(): boolean {
    return this.ledger.isEnded;
  }

  /** Sends the dsip.invite; the rest happens in onDsip / on the SIP side's events. Never rejects. */
  async connect(): Promise<void> {
    const callee = this.ctx.callee;
    this.log.info({ to: this.req.uri, did: callee.did }, "call start (SIP → DSIP)");
    this.req.on("cancel", () => this.onSipCancel());
    if (!this.deps.port.isOnline(callee.did)) {
      this.failA(480, "Temporarily Unavailable", "callee offline");
      return;
    }
    let webrtcOffer: string;
    try {
      webrtcOffer = await this.deps.media.offer({
        callId: this.dsipId,
        sdp: this.req.body,
        from: "rtp",
        to: "webrtc",
      });
    } catch (err) {
      this.failOnError(err, "media offer");
      return;
    }
    if (this.isEnded) return;
    this.webrtcOffer = webrtcOffer;
    let invite: ReturnType<typeof sipInviteToDsipInvite>;
    try {
      const from = this.req.msg.from;
      const now = unixNow();
      invite = sipInviteToDsipInvite({
        id: this.dsipId,
        ts: now,
        exp: now + this.deps.noAnswerTimeout + 5,
        gatewayDid: this.deps.port.did,
        calleeDid: callee.did,
        ...(callee.callerNumber !== undefined ? { callerNumber: callee.callerNumber } : {}),
        ...(from?.displayName ? { callerDisplay: from.displayName } : {}),
        callerPrivacy: /\bid\b/i.test(this.req.get("privacy") ?? ""),
        sdp: webrtcOffer,
        ...(this.req.get("priority") !== undefined ? { priority: this.req.get("priority")! } : {}),
      });
    } catch (err) {
      this.failOnError(err, "mapping the INVITE");
      return;
    }
    this.as = invite.from;
    this.deps.registry.add(this.dsipId, this);
    try {
      await this.deps.port.send(this.as, invite);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, "dsip.invite could not be delivered");
      this.failA(480, "Temporarily Unavailable", "callee unreachable");
      return;
    }
    this.log.info({ as: this.as }, "dsip.invite sent");
    this.noAnswer = setTimeout(() => this.onNoAnswer(), this.deps.noAnswerTimeout * 1000);
  }

  /** A verified DSIP message from the callee about this call. */
  onDsip(m: DsipMessage): void {
    if (this.isEnded) return;
    this.log.debug({ type: m.type, id: m.id }, "dsip in");
    switch (m.type) {
      case "dsip.progress":
        void this.onProgress(m);
        return;
      case "dsip.answer":
        void this.onAnswer(m);
        return;
      case "dsip.error": {
        const st = dsipErrorToSip(m);
        this.bLeg.status = st.status;
        this.log.info({ code: m.code, reason: m.reason }, "callee refused");
        this.failA(st.status, st.reasonPhrase, `${m.code} ${m.reason}`, st.reasonHeader, "callee");
        return;
      }
      case "dsip.bye":
        this.onDsipBye(m);
        return;
      case "dsip.ice":
        void this.deps.media.ice?.(this.dsipId, m.candidate).catch((err: unknown) => {
          this.log.debug({ err: (err as Error).message }, "trickled candidate refused");
        });
        return;
      case "dsip.update":
        // Before the answer there is no SIP dialog to re-offer in: refused (488).
        (this.renegotiation ?? new Renegotiation(this.renegotiationHost(false), "", undefined)).onDsipUpdate(
          m,
          this.renegotiation ? this.dialog : undefined,
        );
        return;
      default:
        this.log.info({ type: m.type }, "dsip message ignored on this call");
    }
  }

  private async onProgress(m: MessageOf<"dsip.progress">): Promise<void> {
    let out: ReturnType<typeof dsipProgressToSip>;
    try {
      out = dsipProgressToSip(m);
    } catch (err) {
      this.log.info({ err: (err as Error).message }, "progress not mappable, ignored");
      return;
    }
    if (!out || this.res.finalSent) return;
    let body: string | undefined;
    if (out.body !== undefined) {
      try {
        body = await this.mediaAnswer(out.body);
      } catch (err) {
        this.failOnError(err, "early media");
        return;
      }
    }
    if (this.isEnded || this.res.finalSent) return;
    await this.deps.srf
      .inviteOf(this.req)
      .provisional(out.status, body !== undefined ? { body } : {})
      .catch(() => {});
  }

  /** The callee's WebRTC SDP → the RTP SDP for A (once: werift takes a single answer). */
  private async mediaAnswer(webrtc: string): Promise<string> {
    if (this.early) return this.early.rtp;
    const rtp = await this.deps.media.answer({ callId: this.dsipId, sdp: webrtc, from: "webrtc", to: "rtp" });
    this.early = { webrtc, rtp };
    return rtp;
  }

  private async onAnswer(m: MessageOf<"dsip.answer">): Promise<void> {
    if (this.answering) return;
    this.answering = true;
    clearTimeout(this.noAnswer);
    let rtp: string;
    try {
      rtp = await this.mediaAnswer(dsipAnswerToSip(m).body!);
    } catch (err) {
      this.failOnError(err, "answer");
      this.sendToCallee("bye", "error");
      return;
    }
    if (this.isEnded) return;
    try {
      this.dialog = await this.deps.srf.createUAS(this.req, this.res, { localSdp: rtp });
    } catch (err) {
      // A gave up (CANCEL) while we answered: the callee already answered, so it gets a bye.
      this.log.info({ err: (err as Error).message }, "caller gone before the answer");
      this.sendToCallee("bye", "hangup");
      this.finish(487, "caller", "CANCEL");
      return;
    }
    this.bLeg.status = 200;
    this.ledger.record.answered();
    this.state = "connected";
    this.log.info("call connected");
    this.dialog.on("destroy", (info: DestroyInfo) => this.onSipEnded(info));
    this.renegotiation = new Renegotiation(
      this.renegotiationHost(false),
      this.early!.webrtc,
      this.webrtcOffer,
    );
    this.renegotiation.attach(this.dialog);
  }

  private onSipEnded(info: DestroyInfo): void {
    if (this.isEnded) return;
    const by: HangupBy = info.reason === "shutdown" ? "gateway" : "caller";
    const reasons = info.req?.headerValues("reason") ?? [];
    this.send(sipByeToDsipBye(this.envelope(), reasons));
    this.finish(200, by, info.reason === "bye" ? "BYE" : info.reason);
  }

  private onDsipBye(m: MessageOf<"dsip.bye">): void {
    const headers = dsipByeToSip(m).headers;
    if (this.dialog) {
      this.finish(200, "callee", "BYE");
      void this.dialog.destroy({ headers }).catch(() => {});
      return;
    }
    // A bye before the answer is the callee giving up on the call.
    this.failA(
      480,
      "Temporarily Unavailable",
      `bye before answer: ${m.reason ?? "hangup"}`,
      undefined,
      "callee",
    );
  }

  private onSipCancel(): void {
    if (this.isEnded || this.dialog) return;
    clearTimeout(this.noAnswer);
    const reasons = this.req.msg.headerValues("reason");
    if (this.deps.registry.has(this.peer, this.dsipId))
      this.send(
        sipCancelToDsipCancel(
          this.envelope(),
          reasons.length ? reasons : [`SIP;cause=487;text="${CALLER_CANCEL_REASON}"`],
        ),
      );
    this.bLeg.status = 487;
    this.finish(487, "caller", "CANCEL");
  }

  private onNoAnswer(): void {
    if (this.isEnded || this.dialog || this.answering) return;
    this.log.info({ seconds: this.deps.noAnswerTimeout }, "no answer");
    this.sendToCallee("cancel", "no-answer");
    this.bLeg.status = 408;
    this.failA(408, "Request Timeout", "no answer", undefined, "gateway");
  }

  /** Gateway shutdown: BYE both sides when up, else 503 to A and a cancel to the callee. */
  async hangup(reason = "shutdown"): Promise<void> {
    if (this.isEnded) return;
    if (this.dialog) {
      this.sendToCallee("bye", "hangup");
      this.finish(200, "gateway", reason);
      await this.dialog
        .destroy({ headers: [["Reason", 'SIP;cause=500;text="Gateway Shutdown"']] })
        .catch(() => {});
      return;
    }
    this.sendToCallee("cancel", "error");
    this.failA(503, "Service Unavailable", reason, undefined, "gateway");
  }

  // ---- helpers -----------------------------------------------------------------

  private sendToCallee(kind: "bye" | "cancel", reason: string): void {
    if (!this.deps.registry.has(this.peer, this.dsipId)) return;
    this.send({ type: `dsip.${kind}`, ...this.envelope(), reason });
  }

  /** A MediaEngineError or MappingError (or anything else) → A's final status. */
  private failOnError(err: unknown, during: string): void {
    if (err instanceof MediaEngineError) {
      this.log.error({ code: err.code, reason: err.reason }, `media engine failed (${during})`);
      this.failA(503, "Service Unavailable", `media: ${err.code}`, undefined, "gateway");
      return;
    }
    if (err instanceof MappingError) {
      this.log.info({ err: err.message }, `cannot map (${during})`);
      this.failA(err.status, undefined, err.message, undefined, "gateway");
      return;
    }
    this.log.error({ err }, `call failed (${during})`);
    this.failA(500, "Server Internal Error", (err as Error).message, undefined, "gateway");
  }

  /** A final failure to A (unless it already has one), then the end of the call. */
  private failA(
    status: number,
    reasonPhrase: string | undefined,
    why: string,
    reasonHeader?: string,
    by: HangupBy = "gateway",
  ): void {
    if (this.isEnded) return;
    clearTimeout(this.noAnswer);
    if (!this.res.finalSent) {
      const headers: [string, string][] = reasonHeader ? [["Reason", reasonHeader]] : [];
      this.deps.srf.inviteOf(this.req).reject(status, reasonPhrase, { headers });
    }
    this.finish(status, by, why);
  }

  protected finish(status: number, hangupBy: HangupBy | null, reason: string): void {
    clearTimeout(this.noAnswer);
    if (!this.ledger.finish({ status, hangupBy, reason }, this.log)) return;
    this.state = "ended";
    this.deps.registry.delete(this.dsipId, this.peer);
    this.deps.onEnd?.(this);
  }
}
