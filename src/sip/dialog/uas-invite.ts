/**
 * Our side of an incoming initial INVITE (RFC 3261 §13.3, RFC 3262 as UAS):
 * the early dialog made by the first 1xx with our tag, reliable provisionals
 * (Require: 100rel + RSeq, retransmitted at T1, 2·T1, 4·T1 … with no T2 cap
 * until the PRACK; no PRACK within 64·T1 → 500 to the INVITE), and the 2xx
 * that confirms the dialog and waits for its ACK.
 */
import type { HeaderList } from "../builder.js";
import { createResponse } from "../builder.js";
import type { SipResponse } from "../message.js";
import type { TimerHandle } from "../timers.js";
import type { InviteServerTransaction } from "../transaction/invite-server.js";
import { Dialog } from "./dialog.js";
import type { DialogLayer } from "./dialog-layer.js";
import { contactOf, DialogState, routeSetFrom } from "./dialog-state.js";
import { SipStatusError } from "./errors.js";
import type { SendOptions, SrfRequest, SrfResponse } from "./request-response.js";
import { addDefaultContentType, toHeaderList } from "./request-response.js";

export const ALLOW = "INVITE, ACK, BYE, CANCEL, OPTIONS, PRACK, UPDATE, INFO, REFER, NOTIFY, MESSAGE";

interface PendingReliable {
  rseq: number;
  res: SipResponse;
  interval: number;
  retransmit: TimerHandle | undefined;
  giveUp: TimerHandle;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class UasInvite {
  readonly tx: InviteServerTransaction;
  dialog: Dialog | undefined;
  /** Whether our 18x go reliably (decided from the INVITE's Require/Supported and the layer's policy). */
  readonly reliable: boolean;
  private rseq: number;
  private pending: PendingReliable | undefined;
  private queue: Promise<void> = Promise.resolve();
  /** Answer for an offer arriving in a PRACK (RFC 3262 §5); default: our local SDP. */
  prackAnswer: ((offer: string) => string | undefined) | undefined;
  /** Set when the INVITE got a final response (from us, or 487 from the stack on CANCEL). */
  failedWith: SipStatusError | undefined;

  constructor(
    private readonly layer: DialogLayer,
    readonly req: SrfRequest,
    private localSdp = "",
  ) {
    this.tx = req.tx as InviteServerTransaction;
    const msg = req.msg;
    const policy = layer.reliableProvisionals;
    const required = msg.require.includes("100rel");
    const supported = msg.supported.includes("100rel");
    this.reliable = policy !== "never" && (required || (policy === "supported" && supported));
    this.rseq = 1 + Math.floor(layer.random() * 0x7fff);
    req.on("cancel", () => this.abandon(new SipStatusError(487, "Request Terminated")));
  }

  /** The early (later confirmed) dialog this INVITE makes with our tag. */
  ensureDialog(): Dialog {
    if (this.dialog) return this.dialog;
    const msg = this.req.msg;
    const from = msg.header("from")!;
    const state = new DialogState({
      role: "uas",
      callId: msg.callId!,
      localTag: this.tx.localTag,
      remoteTag: msg.from!.params.tag ?? "",
      localHeader: `${msg.header("to")!};tag=${this.tx.localTag}`,
      remoteHeader: from,
      localSeq: 0,
      remoteSeq: msg.cseq!.seq,
      remoteTarget: contactOf(msg) ?? msg.from!.uri,
      routeSet: routeSetFrom(msg, "uas"),
      localContact: this.layer.contactFor(this.tx.source.protocol),
    });
    const d = new Dialog(state, this.layer, this.localSdp);
    d.peer = this.tx.source;
    d.remote.sdp = msg.body.toString("utf8");
    d.peerAllowsUpdate = (msg.header("allow") ?? "").toUpperCase().includes("UPDATE");
    d.onPrack = (req, res) => this.handlePrack(req, res);
    // A BYE in the early dialog ends the INVITE too (RFC 3261 §15.1.2: 487 to the INVITE).
    d.once("destroy", () => {
      if (this.tx.state === "proceeding") {
        this.sendResponse(487, {});
        this.abandon(new SipStatusError(487, "Request Terminated"));
      }
    });
    this.dialog = d;
    this.layer.add(d);
    return d;
  }

  /**
   * Sends a 1xx. Reliable ones wait for the previous one's PRACK first (only
   * one may be unacknowledged, RFC 3262 §3) and resolve on their own PRACK.
   */
  provisional(status: number, opts: SendOptions = {}): Promise<void> {
    if (status === 100 || !this.reliable) {
      if (status !== 100) this.ensureDialog();
      this.sendResponse(status, opts);
      return Promise.resolve();
    }
    const next = this.queue.then(() => this.sendReliable(status, opts));
    this.queue = next.catch(() => {});
    return next;
  }

  /** Resolves when every reliable provisional sent so far has been PRACKed. */
  settled(): Promise<void> {
    return this.queue.then(() => {
      if (this.failedWith) throw this.failedWith;
    });
  }

  private sendResponse(status: number, opts: SendOptions, extra: HeaderList = []): SipResponse | undefined {
    const headers = [...toHeaderList(opts.headers), ...extra];
    if (status > 100 && status < 300 && !headers.some(([n]) => /^(contact|m)$/i.test(n))) {
      const contact = this.dialog?.local.contact ?? this.layer.contactFor(this.tx.source.protocol);
      headers.unshift(["Contact", `<${contact}>`]);
    }
    if (status > 100 && status < 300) {
      headers.push(["Allow", ALLOW]);
      // §12.1.1: the UAS copies Record-Route into every response that makes or confirms the dialog.
      for (const rr of this.tx.request.headerValues("record-route")) headers.push(["Record-Route", rr]);
    }
    addDefaultContentType(headers, opts.body);
    const res = createResponse(this.tx.request, status, {
      toTag: this.tx.localTag,
      headers,
      body: opts.body,
    });
    return this.tx.respond(res) ? res : undefined;
  }

  private sendReliable(status: number, opts: SendOptions): Promise<void> {
    if (this.failedWith) return Promise.reject(this.failedWith);
    this.ensureDialog();
    const rseq = this.rseq++;
    const res = this.sendResponse(status, opts, [
      ["Require", "100rel"],
      ["RSeq", String(rseq)],
    ]);
    if (!res) return Promise.reject(this.failedWith ?? new SipStatusError(500, "INVITE Already Answered"));
    return new Promise((resolve, reject) => {
      const clock = this.layer.clock;
      const t1 = this.layer.timers.t1;
      const p: PendingReliable = {
        rseq,
        res,
        interval: t1,
        retransmit: undefined,
        giveUp: clock.setTimer(this.layer.timers.transactionTimeout, () => this.noPrack()),
        resolve,
        reject,
      };
      // Over TCP/TLS/WS the transport is reliable; retransmitting only costs bytes (RFC 3262 §3 is about UDP loss).
      if (this.tx.source.protocol === "UDP") p.retransmit = clock.setTimer(t1, () => this.retransmit());
      this.pending = p;
    });
  }

  private retransmit(): void {
    const p = this.pending;
    if (!p) return;
    this.tx.respond(p.res);
    p.interval *= 2; // no T2 cap for reliable provisionals (RFC 3262 §3)
    p.retransmit = this.layer.clock.setTimer(p.interval, () => this.retransmit());
  }

  private clearPending(): PendingReliable | undefined {
    const p = this.pending;
    if (!p) return undefined;
    this.pending = undefined;
    if (p.retransmit) this.layer.clock.clearTimer(p.retransmit);
    this.layer.clock.clearTimer(p.giveUp);
    return p;
  }

  private noPrack(): void {
    const err = new SipStatusError(500, "Reliable Provisional Not Acknowledged");
    this.sendResponse(500, {}, [["Reason", 'SIP;cause=500;text="No PRACK"']]);
    this.abandon(err);
  }

  private handlePrack(req: SrfRequest, res: SrfResponse): void {
    const rack = req.msg.rack;
    const p = this.pending;
    if (
      !p ||
      !rack ||
      rack.rseq !== p.rseq ||
      rack.cseq !== this.tx.request.cseq!.seq ||
      rack.method !== "INVITE"
    ) {
      res.send(481, "No Matching Reliable Provisional");
      return;
    }
    this.clearPending();
    const sdp = req.msg.body.length > 0 ? req.body : undefined;
    if (sdp !== undefined && this.dialog) {
      this.dialog.remote.sdp = sdp;
      // RFC 3262 §5: after our offer in the 1xx (the INVITE had none) the PRACK carries the answer;
      // otherwise an SDP in the PRACK is a new offer that its 200 answers.
      const isAnswer = this.tx.request.body.length === 0 && p.res.body.length > 0;
      if (isAnswer) res.send(200);
      else res.send(200, { body: this.prackAnswer?.(sdp) ?? this.dialog.local.sdp });
    } else res.send(200);
    p.resolve();
  }

  /** Sends the 2xx: the dialog is confirmed and waits for the ACK (64·T1, then BYE). */
  accept(opts: SendOptions = {}): Dialog {
    if (this.failedWith) throw this.failedWith;
    const d = this.ensureDialog();
    if (opts.body !== undefined)
      d.local.sdp = typeof opts.body === "string" ? opts.body : opts.body.toString("utf8");
    const sent = this.sendResponse(200, opts);
    if (!sent) {
      // CANCEL or a timeout won the race
      this.abandon(new SipStatusError(487, "Request Terminated"));
      throw this.failedWith ?? new SipStatusError(487, "Request Terminated");
    }
    d.confirm();
    d.expectAck(this.tx.request.cseq!.seq);
    return d;
  }

  /** A final 3xx–6xx from the application. */
  reject(status: number, reason?: string, opts: SendOptions = {}): void {
    if (reason) {
      const headers = toHeaderList(opts.headers);
      const res = createResponse(this.tx.request, status, {
        toTag: this.tx.localTag,
        reason,
        headers,
        body: opts.body,
      });
      this.tx.respond(res);
    } else this.sendResponse(status, opts);
    this.abandon(new SipStatusError(status, reason ?? "Rejected"));
  }

  /** The INVITE is over without a 2xx: stop PRACK waits, drop the early dialog. */
  abandon(err: SipStatusError): void {
    if (!this.failedWith) this.failedWith = err;
    this.clearPending()?.reject(err);
    if (this.dialog && this.dialog.state === "early") this.dialog.terminate({ reason: "cancelled" });
  }
}
