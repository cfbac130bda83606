/**
 * A DSIP user calling a number (ARCHITECTURE §3, DSIP → SIP). The envelope was
 * verified by the agent before it got here (signature, freshness, replay), so
 * no SIP leg exists for a forged or replayed invite. The target (a tel: URI or
 * one of the gateway's tn DIDs) is routed through the same routing table as a
 * SIP call, the WebRTC offer becomes an RTP offer through the media engine,
 * and the trunks are tried in order with failover on 408/5xx/transport errors.
 * 18x / 200 / failures / BYE come back as dsip.progress / answer / error / bye.
 */
import type { Logger } from "pino";
import type { DsipMessage, MessageOf } from "../agent/index.js";
import type { GatewayConfig, TrunkConfig } from "../config/index.js";
import {
  type Directory,
  dsipByeToSip,
  dsipCancelToSip,
  dsipInviteToSipInvite,
  MappingError,
  type SipInviteOutput,
  sipAnswerToDsipAnswer,
  sipByeToDsipBye,
  sipFailureToDsipError,
  sipProvisionalToDsipProgress,
} from "../mapping/index.js";
import { type MediaEngine, MediaEngineError } from "../media/index.js";
import {
  type AuthenticateHook,
  type DestroyInfo,
  type Dialog,
  isSipStatusError,
  type SipResponse,
  type Srf,
  type UacInvite,
} from "../sip/index.js";
import { CallLedger, type LedgerDeps } from "./call-ledger.js";
import { isFailoverStatus, trunkUri } from "./call-session.js";
import { CallRecordBuilder, type HangupBy } from "./cdr.js";
import { DsipCallLeg } from "./dsip-call-leg.js";
import type { DsipCallRegistry, DsipPort } from "./dsip-port.js";
import type { OverloadController } from "./overload.js";
import { Renegotiation } from "./renegotiation.js";
import { normaliseNumber, RoutingError, routeNumber } from "./routing.js";

export interface DsipToSipDeps extends LedgerDeps {
  srf: Srf;
  port: DsipPort;
  media: MediaEngine;
  registry: DsipCallRegistry;
  directory: Directory;
  overload: OverloadController;
  config: GatewayConfig;
  logger: Logger;
  /** Host of the From URI the trunks see (the gateway's SIP address). */
  fromHost: string;
  authFor?: ((trunk: TrunkConfig) => AuthenticateHook | undefined) | undefined;
  onEnd?: ((call: DsipToSipCall) => void) | undefined;
}

const NO_ANSWER = 'SIP;cause=408;text="No Answer"';

export class DsipToSipCall extends DsipCallLeg {
  readonly dsipId: string;
  readonly peer: string;
  state: "trying" | "connected" | "ended" = "trying";
  protected log: Logger;
  private ledger: CallLedger | undefined;
  private readonly record: CallRecordBuilder;
  /** Who the gateway answers as: the tn DID called, or the gateway for a tel: target. */
  protected readonly as: string;
  private uacInvite: UacInvite | undefined;
  private cancelled = false;
  private early: string | undefined;
  private progressSent: Promise<void> = Promise.resolve();
  /** Hold, resume and codec changes once connected (either side's re-offer). */
  private renegotiation: Renegotiation | undefined;

  constructor(
    private readonly invite: MessageOf<"dsip.invite">,
    protected readonly deps: DsipToSipDeps,
  ) {
    super();
    this.dsipId = invite.id;
    this.peer = invite.from;
    this.as = invite.to.startsWith("did:") ? invite.to : deps.port.did;
    this.log = deps.logger.child({ dsipId: this.dsipId, from: invite.from });
    this.record = new CallRecordBuilder(this.dsipId, invite.from, invite.to);
    this.record.leg({ role: "a", callId: this.dsipId, trunk: "dsip", remote: invite.from });
  }

  get isEnded(): boolean {
    return this.ledger?.isEnded ?? false;
  }

  protected byePeer(reason: string): void {
    this.sendTo("dsip.bye", reason);
  }

  /** Routes and places the SIP call; never rejects (failures become dsip.error). */
  async start(): Promise<void> {
    const d = this.deps;
    this.log.info({ to: this.invite.to }, "call start (DSIP → SIP)");
    let sip: SipInviteOutput;
    try {
      sip = dsipInviteToSipInvite(this.invite, {
        gatewayDid: d.port.did,
        directory: d.directory,
        fromHost: d.fromHost,
        numbers: d.config.numbers,
      });
    } catch (err) {
      if (err instanceof MappingError) return this.refuse(err.code, err.reason, err.message);
      throw err;
    }
    const dialled = sip.target.kind === "number" ? sip.target.e164 : sip.target.digits;
    const emergency = sip.emergency || d.config.emergency.numbers.includes(dialled);
    if (emergency) this.record.markEmergency();
    const admitted = d.overload.admit({ trunks: [], emergency });
    if (!admitted.accepted)
      return this.refuse(429, "overload", `over the ${admitted.scope} ${admitted.limit}`);
    this.ledger = new CallLedger(this.record, admitted.permit, this.dsipId, "dsip", d);
    d.registry.add(this.dsipId, this);
    const number = normaliseNumber(dialled, d.config.numbers);
    let targets: TrunkConfig[];
    try {
      targets = routeNumber(d.config, number).targets;
    } catch (err) {
      if (err instanceof RoutingError) return this.failWith(err.status, err.message, "gateway");
      throw err;
    }
    this.sendProgress(100);
    let rtpOffer: string;
    try {
      rtpOffer = await d.media.offer({ callId: this.dsipId, sdp: sip.body, from: "webrtc", to: "rtp" });
    } catch (err) {
      return this.failOnError(err, "media offer");
    }
    const from = sip.from.display
      ? `"${sip.from.display.replace(/(["\\])/g, "\\$1")}" <${sip.from.uri}>`
      : `<${sip.from.uri}>`;
    for (let i = 0; i < targets.length; i++) {
      const trunk = targets[i]!;
      if (this.cancelled || this.isEnded) return;
      const leg = this.record.leg({ role: "b", callId: "", trunk: trunk.name, remote: trunk.addressText });
      let rang = false;
      let timedOut = false;
      let timer: NodeJS.Timeout | undefined;
      try {
        const auth = d.authFor?.(trunk);
        this.dialog = await d.srf.createUAC(
          trunkUri(trunk, number),
          { headers: [["From", from], ...sip.headers], localSdp: rtpOffer, ...(auth ? { auth } : {}) },
          {
            cbRequest: (req, inv) => {
              this.uacInvite = inv;
              leg.callId = req.callId ?? "";
              this.log = this.log.child({ callId: leg.callId });
              if (this.cancelled) inv.cancel();
              timer = setTimeout(() => {
                timedOut = true;
                inv.cancel(NO_ANSWER);
              }, trunk.noAnswerTimeout * 1000);
            },
            cbProvisional: (res) => {
              rang = true;
              this.onProvisional(res);
            },
          },
        );
      } catch (err) {
        clearTimeout(timer);
        const status = timedOut ? 408 : isSipStatusError(err) ? err.status : 500;
        const reason = timedOut
          ? "Request Timeout"
          : isSipStatusError(err)
            ? err.reason
            : (err as Error).message;
        leg.status = status;
        if (this.cancelled) return this.finish(487, "caller", "cancel");
        if (i < targets.length - 1 && isFailoverStatus(status) && !(timedOut && rang)) {
          this.log.warn({ trunk: trunk.name, status, reason }, "trunk failed, trying the next");
          continue;
        }
        this.log.info({ trunk: trunk.name, status, reason }, "call failed");
        return this.failWith(status, reason, "callee");
      }
      clearTimeout(timer);
      leg.status = 200;
      return this.connected(this.dialog);
    }
  }

  private onProvisional(res: SipResponse): void {
    if (res.status === 100 || !this.wantsProgress) return;
    const sdp = res.body.length > 0 ? res.body.toString("utf8") : undefined;
    this.progressSent = this.progressSent.then(async () => {
      if (this.isEnded) return;
      let webrtc: string | undefined;
      if (sdp !== undefined) {
        try {
          webrtc = await this.mediaAnswer(sdp);
        } catch (err) {
          this.log.warn({ err: (err as Error).message }, "early media not bridged");
        }
      }
      this.send(sipProvisionalToDsipProgress(this.envelope(), { status: res.status, sdp: webrtc }));
    });
  }

  /** The SIP side's RTP SDP → the WebRTC answer the DSIP caller gets (once: a WebRTC peer takes one answer). */
  private async mediaAnswer(rtp: string): Promise<string> {
    if (this.early !== undefined) return this.early;
    this.early = await this.deps.media.answer({ callId: this.dsipId, sdp: rtp, from: "rtp", to: "webrtc" });
    return this.early;
  }

  private async connected(dialog: Dialog): Promise<void> {
    let webrtc: string;
    try {
      await this.progressSent;
      webrtc = await this.mediaAnswer(dialog.remote.sdp);
    } catch (err) {
      void dialog.destroy({ headers: [["Reason", 'SIP;cause=503;text="Media Failure"']] }).catch(() => {});
      return this.failOnError(err, "media answer");
    }
    if (this.isEnded) {
      void dialog.destroy().catch(() => {});
      return;
    }
    this.record.answered();
    this.state = "connected";
    this.send(sipAnswerToDsipAnswer(this.envelope(), { sdp: webrtc }));
    this.log.info("call connected");
    this.renegotiation = new Renegotiation(this.renegotiationHost(true), this.invite.media.sdp, webrtc);
    this.renegotiation.attach(dialog);
    dialog.on("destroy", (info: DestroyInfo) => {
      if (this.isEnded) return;
      const by: HangupBy = info.reason === "shutdown" ? "gateway" : "callee";
      this.send(sipByeToDsipBye(this.envelope(), info.req?.headerValues("reason") ?? []));
      this.finish(200, by, info.reason === "bye" ? "BYE" : info.reason);
    });
  }

  /** A verified message from the caller about this call. */
  onDsip(m: DsipMessage): void {
    if (this.isEnded) return;
    switch (m.type) {
      case "dsip.cancel":
        this.onCancel(m);
        return;
      case "dsip.bye":
        if (this.dialog && this.state === "connected") {
          this.finish(200, "caller", "bye");
          void this.dialog.destroy({ headers: dsipByeToSip(m).headers }).catch(() => {});
        } else this.onCancel(m);
        return;
      case "dsip.ice":
        void this.deps.media.ice?.(this.dsipId, m.candidate).catch((err: unknown) => {
          this.log.debug({ err: (err as Error).message }, "trickled candidate refused");
        });
        return;
      case "dsip.update":
        if (this.renegotiation) this.renegotiation.onDsipUpdate(m, this.dialog);
        // Before the answer there is no SIP dialog to re-offer in: refused (488).
        else new Renegotiation(this.renegotiationHost(true), "", undefined).onDsipUpdate(m, undefined);
        return;
      default:
        this.log.info({ type: m.type }, "dsip message ignored on this call");
    }
  }

  private onCancel(m: MessageOf<"dsip.cancel"> | MessageOf<"dsip.bye">): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.log.info({ reason: m.reason }, "caller cancelled");
    const reason = dsipCancelToSip({ ...m, type: "dsip.cancel" } as MessageOf<"dsip.cancel">).headers[0]?.[1];
    this.uacInvite?.cancel(reason);
    // Should B answer anyway, createUAC resolves; `connected` then sees the call ended and hangs B up.
    this.finish(487, "caller", "cancel");
  }

  /** Gateway shutdown. */
  async hangup(reason = "shutdown"): Promise<void> {
    if (this.isEnded) return;
    this.sendTo("dsip.bye", "error");
    this.finish(this.dialog ? 200 : 503, "gateway", reason);
    if (this.dialog) await this.dialog.destroy().catch(() => {});
    else this.uacInvite?.cancel();
  }

  // ---- helpers -----------------------------------------------------------------

  private sendProgress(status: number): void {
    if (this.wantsProgress) this.send(sipProvisionalToDsipProgress(this.envelope(), { status }));
  }

  /** dsip.progress goes only to callers that said they understand it (docs/dsip-wire.md). */
  private get wantsProgress(): boolean {
    return this.invite.cap.features.includes("progress");
  }

  private sendTo(type: "dsip.bye" | "dsip.cancel", reason: string): void {
    this.send({ type, ...this.envelope(), reason });
  }

  /** Refused before the call was admitted: a dsip.error and a record of the attempt. */
  private refuse(code: number, reason: string, detail: string): void {
    this.log.info({ code, reason, detail }, "call refused");
    this.deps.metrics?.callsTotal.inc({ status: String(code), class: `${Math.floor(code / 100)}xx` });
    this.send({ type: "dsip.error", ...this.envelope(), code, reason, detail: detail.slice(0, 512) });
    this.deps.cdr
      ?.write(this.record.finish({ status: code, hangupBy: "gateway", reason: `${code} ${reason}` }))
      .catch(() => {});
    this.deps.onEnd?.(this);
  }

  private failOnError(err: unknown, during: string): void {
    if (err instanceof MediaEngineError) {
      this.log.error({ code: err.code, reason: err.reason }, `media engine failed (${during})`);
      this.failWith(503, `media: ${err.code}`, "gateway");
      return;
    }
    this.log.error({ err }, `call failed (${during})`);
    this.failWith(500, (err as Error).message, "gateway");
  }

  /** A SIP-side failure (or ours in SIP terms) → dsip.error to the caller, then the end. */
  private failWith(status: number, reason: string, by: HangupBy): void {
    if (this.isEnded) return;
    this.send(sipFailureToDsipError(this.envelope(), status, reason));
    this.finish(status, by, `${status} ${reason}`);
  }

  protected finish(status: number, hangupBy: HangupBy | null, reason: string): void {
    if (!this.ledger?.finish({ status, hangupBy, reason }, this.log)) return;
    this.state = "ended";
    this.deps.registry.delete(this.dsipId, this.peer);
    this.deps.onEnd?.(this);
  }
}
