/**
 * A SIP dialog as the application holds it (drachtio-style): properties
 * (`id`, `type`, `sip`, `local`, `remote`, `other`), methods (`destroy`,
 * `modify`, `request`) and events:
 *
 * | event | when |
 * |---|---|
 * | `destroy` (info) | the dialog ended without our `destroy()`: BYE received, session expired, ACK never came, 481/408 to a request |
 * | `modify` (req, res) | a re-INVITE arrived (without a listener: 200 with our current SDP) |
 * | `update` (req, res) | an UPDATE arrived (without a listener: 200, with our SDP if it carried an offer) |
 * | `info`, `refer`, `notify`, `options`, `message` (req, res) | those requests (without a listener: 200; REFER 403) |
 * | `ack` (ack) | the ACK for our 2xx arrived |
 * | `refresh` | a session-timer refresh succeeded (either side) |
 * | `hold`, `unhold` | a re-INVITE's offer put the call on hold (sendonly/inactive/0.0.0.0) or took it off |
 *
 * In-dialog rules handled here: remote CSeq (500 when lower), glare (491 /
 * 500 + Retry-After, RFC 3261 §14), target refresh, session timers (RFC 4028).
 */
import { EventEmitter } from "node:events";
import type { HeaderList } from "../builder.js";
import type { SipRequest, SipResponse } from "../message.js";
import type { Clock, TimerHandle, TimerValues } from "../timers.js";
import type { ClientTransactionUser } from "../transaction/client.js";
import type { AnyServerTransaction } from "../transaction/table.js";
import type { Endpoint } from "../transport/types.js";
import { formatUri } from "../uri.js";
import type { DialogRole, DialogState } from "./dialog-state.js";
import { SipStatusError } from "./errors.js";
import { glareRetryDelayMs } from "./glare.js";
import {
  type SendOptions,
  SrfRequest,
  SrfResponse,
  sendArguments,
  toHeaderList,
} from "./request-response.js";
import { isHoldOffer } from "./sdp-hold.js";
import {
  negotiateAsUas,
  SessionTimer,
  type SessionTimerConfig,
  type SessionTimerTerms,
  termsFrom2xx,
} from "./session-timer.js";

/** What a dialog needs from the layer that owns it. */
export interface DialogHost {
  readonly clock: Clock;
  readonly timers: TimerValues;
  readonly sessionTimer: SessionTimerConfig;
  readonly random: () => number;
  /** Sends a request of the dialog in a new client transaction. */
  send(dialog: Dialog, req: SipRequest, user: ClientTransactionUser): void;
  /** Sends the ACK for a 2xx (no transaction). */
  sendAck(dialog: Dialog, ack: SipRequest): void;
  /** The dialog ended: forget it. */
  forget(dialog: Dialog): void;
}

export type DialogEndReason =
  | "bye"
  | "local"
  | "session-expired"
  | "ack-timeout"
  | "request-failed"
  | "cancelled"
  | "shutdown";

export interface DestroyInfo {
  reason: DialogEndReason;
  /** The BYE that ended it, when the peer hung up. */
  req?: SipRequest;
}

export interface RequestOptions {
  method: string;
  headers?: HeaderList | Record<string, string>;
  body?: string | Buffer;
}

/** Methods whose requests a dialog answers itself (the others get 405 in-dialog). */
const IN_DIALOG_EVENTS: Record<string, string> = {
  INFO: "info",
  REFER: "refer",
  NOTIFY: "notify",
  OPTIONS: "options",
  MESSAGE: "message",
};

export class Dialog extends EventEmitter {
  readonly type: DialogRole;
  state: "early" | "confirmed" | "terminated" = "early";
  readonly local: { uri: string; sdp: string; contact: string };
  readonly remote: { uri: string; sdp: string };
  /** The other leg, when a B2BUA links two dialogs. */
  other: Dialog | undefined;
  /** Where requests go when the remote target needs DNS we cannot do synchronously (the peer we talked to). */
  peer: Endpoint | undefined;
  /** Whether the peer said it accepts UPDATE (Allow), so refreshes can use it. */
  peerAllowsUpdate = false;
  /** True while the peer holds the call (its last offer was sendonly/inactive). */
  onHold = false;
  /** Hook for PRACK in an early UAS dialog (set by the UAS INVITE logic). */
  onPrack: ((req: SrfRequest, res: SrfResponse) => void) | undefined;

  private readonly timer: SessionTimer;
  private outInvitePending = false;
  private inInvitePending = false;
  private ackWait: { seq: number; timer: TimerHandle } | undefined;
  private endedByUs = false;

  constructor(
    readonly state0: DialogState,
    private readonly host: DialogHost,
    localSdp = "",
  ) {
    super();
    this.type = state0.role;
    this.local = { uri: formatUri(state0.localUri), sdp: localSdp, contact: state0.localContact };
    this.remote = { uri: formatUri(state0.remoteUri), sdp: "" };
    this.timer = new SessionTimer(
      host.clock,
      () => void this.refreshSession(),
      () => this.expire(),
    );
  }

  get id(): string {
    return this.state0.id;
  }
  get sip(): { callId: string; localTag: string; remoteTag: string } {
    return { callId: this.state0.callId, localTag: this.state0.localTag, remoteTag: this.state0.remoteTag };
  }
  get sessionTerms(): SessionTimerTerms | undefined {
    return this.timer.terms;
  }
  /** True when this side sends the session refreshes. */
  get isRefresher(): boolean {
    return this.timer.weRefresh;
  }

  // ---- lifecycle ----------------------------------------------------------

  confirm(): void {
    if (this.state === "early") this.state = "confirmed";
  }

  /** Starts (or restarts) the session timer with negotiated terms; `refresherRole` is the INVITE role that refreshes. */
  startSessionTimer(terms: SessionTimerTerms, weRefresh: boolean): void {
    if (this.state === "terminated") return;
    this.timer.start(terms, weRefresh);
  }

  /** Ends the dialog without signalling (the layer or a failed INVITE decided). */
  terminate(info?: DestroyInfo): void {
    if (this.state === "terminated") return;
    this.state = "terminated";
    this.timer.stop();
    if (this.ackWait) this.host.clock.clearTimer(this.ackWait.timer);
    this.ackWait = undefined;
    this.host.forget(this);
    if (info && !this.endedByUs) this.emit("destroy", info);
    // Nothing is emitted after this; the TU's handlers would otherwise keep the finished call
    // reachable through transactions that still point at the dialog (Timers J, L, M: 32 s).
    this.removeAllListeners();
    this.onPrack = undefined;
    this.other = undefined;
  }

  /** Hangs up: BYE (in a confirmed dialog) and the dialog is gone. No `destroy` event for our own hang-up. */
  destroy(opts: { headers?: HeaderList | Record<string, string> } = {}): Promise<void> {
    if (this.state === "terminated") return Promise.resolve();
    this.endedByUs = true;
    return this.sendBye(opts.headers).then(() => this.terminate());
  }

  private sendBye(headers?: HeaderList | Record<string, string>): Promise<void> {
    return new Promise((resolve) => {
      const bye = this.state0.buildRequest("BYE", toHeaderList(headers));
      // The dialog is over for us at once; the BYE's fate only decides when the promise settles.
      this.timer.stop();
      this.host.send(this, bye, {
        onResponse: (res) => {
          if (res.status >= 200) resolve();
        },
        onTerminated: () => resolve(),
      });
    });
  }

  // ---- outbound requests ---------------------------------------------------

  /** Sends a request in the dialog; resolves with the final response (any status). */
  request(opts: RequestOptions): Promise<SipResponse> {
    const method = opts.method.toUpperCase();
    if (method === "INVITE") return this.reinvite(toHeaderList(opts.headers), opts.body);
    if (method === "BYE") {
      // our own hang-up: no `destroy` event, and the dialog is gone whatever the answer
      this.endedByUs = true;
      this.timer.stop();
      const sent = this.sendPlain(method, toHeaderList(opts.headers), opts.body);
      return sent.finally(() => this.terminate());
    }
    return this.sendPlain(method, toHeaderList(opts.headers), opts.body);
  }

  private sendPlain(method: string, headers: HeaderList, body?: string | Buffer): Promise<SipResponse> {
    if (this.state === "terminated") return Promise.reject(new SipStatusError(481, "Dialog Terminated"));
    const h = withContentType(headers, body);
    const req = this.state0.buildRequest(method, h, body);
    return new Promise((resolve, reject) => {
      let final: SipResponse | undefined;
      this.host.send(this, req, {
        onResponse: (res) => {
          if (res.status < 200 || final) return;
          final = res;
          // A 481 to PRACK means "no such reliable 1xx" (RFC 3262 §3), not a lost dialog.
          if ((res.status === 481 && method !== "PRACK") || res.status === 408) this.failed(res.status);
          else if (res.status < 300 && method === "UPDATE") this.state0.refreshTarget(res);
          resolve(res);
        },
        onTimeout: () => {
          if (!final) this.failed(408);
        },
        onTerminated: (reason) => {
          if (!final) reject(new SipStatusError(reason === "timeout" ? 408 : 503, `Request ${reason}`));
        },
      });
    });
  }

  /**
   * re-INVITE with `sdp` (RFC 3261 §14.1). Resolves with the remote SDP of the
   * 2xx. A 491 (glare) is retried after the §14.1 delay, once.
   */
  modify(sdp: string, opts: { headers?: HeaderList | Record<string, string> } = {}): Promise<string> {
    return this.reinvite(toHeaderList(opts.headers), sdp).then((res) => {
      if (res.status >= 300) throw new SipStatusError(res.status, res.reasonPhrase, res);
      return this.remote.sdp;
    });
  }

  private reinvite(headers: HeaderList, body?: string | Buffer, attempt = 0): Promise<SipResponse> {
    if (this.state === "terminated") return Promise.reject(new SipStatusError(481, "Dialog Terminated"));
    if (this.outInvitePending || this.inInvitePending) {
      return Promise.reject(new SipStatusError(491, "Request Pending"));
    }
    this.outInvitePending = true;
    const sdp = body ?? this.local.sdp;
    const h = withContentType([...headers], sdp);
    const st = this.timer.terms;
    if (st && !h.some(([n]) => /^session-expires$/i.test(n))) {
      h.push(["Session-Expires", `${st.interval};refresher=${this.timer.weRefresh ? "uac" : "uas"}`]);
      h.push(["Supported", "timer"]);
    }
    const req = this.state0.buildRequest("INVITE", h, sdp);
    const seq = req.cseq!.seq;
    return new Promise((resolve, reject) => {
      let final: SipResponse | undefined;
      this.host.send(this, req, {
        onResponse: (res) => {
          if (res.status < 200) return;
          if (res.status < 300) {
            // every 2xx (also a retransmission) gets the ACK
            this.host.sendAck(this, this.state0.buildRequest("ACK", [], undefined, seq));
            if (final) return;
            final = res;
            this.outInvitePending = false;
            this.local.sdp = typeof sdp === "string" ? sdp : sdp.toString("utf8");
            if (res.body.length > 0) this.remote.sdp = res.body.toString("utf8");
            this.state0.refreshTarget(res);
            this.afterRefreshAsUac(res);
            resolve(res);
            return;
          }
          if (final) return;
          final = res;
          this.outInvitePending = false;
          if (res.status === 491 && attempt === 0) {
            const delay = glareRetryDelayMs(this.type === "uac", this.host.random);
            this.host.clock.setTimer(delay, () => {
              this.reinvite(headers, body, 1).then(resolve, reject);
            });
            return;
          }
          if (res.status === 481 || res.status === 408) this.failed(res.status);
          resolve(res);
        },
        onTimeout: () => {
          if (!final) this.failed(408);
        },
        onTerminated: (reason) => {
          // After a final response the flag is already cleared, and may belong to a glare retry by now.
          if (final) return;
          this.outInvitePending = false;
          reject(new SipStatusError(reason === "timeout" ? 408 : 503, `re-INVITE ${reason}`));
        },
      });
    });
  }

  /** RFC 3261 §12.2.1.2: 481 or 408 to a request in the dialog ends it. */
  private failed(status: number): void {
    if (this.state === "terminated") return;
    if (status === 408) {
      void this.sendBye().catch(() => {});
    }
    this.terminate({ reason: "request-failed" });
  }

  private afterRefreshAsUac(res: SipResponse): void {
    const terms = termsFrom2xx(res);
    if (terms) {
      this.timer.start(terms, terms.refresher === "uac");
      this.emit("refresh", terms);
    } else if (this.timer.terms) {
      // the peer dropped Session-Expires from its answer: RFC 4028 §7.2 leaves no timer
      this.timer.stop();
    }
  }

  /** The refresher's half-interval: UPDATE when the peer allows it, else re-INVITE (RFC 4028 §7.4). */
  private async refreshSession(): Promise<void> {
    const terms = this.timer.terms;
    if (!terms || this.state !== "confirmed") return;
    const headers: HeaderList = [
      ["Session-Expires", `${terms.interval};refresher=uac`],
      ["Supported", "timer"],
    ];
    try {
      const res = this.peerAllowsUpdate
        ? await this.sendPlain("UPDATE", headers)
        : await this.reinvite(headers, this.local.sdp);
      if (this.peerAllowsUpdate && res.status < 300) this.afterRefreshAsUac(res);
      else if (res.status >= 300 && this.state === "confirmed") this.timer.start(terms, true);
    } catch {
      // a refresh lost in glare or transport trouble: try again at the next half-interval
      if (this.state === "confirmed") this.timer.start(terms, true);
    }
  }

  private expire(): void {
    if (this.state === "terminated") return;
    void this.sendBye([["Reason", 'SIP;cause=408;text="Session Timer Expired"']]).catch(() => {});
    this.terminate({ reason: "session-expired" });
  }

  // ---- ACK for our 2xx -----------------------------------------------------

  /** After sending a 2xx to an INVITE: wait 64·T1 for the ACK, else BYE (RFC 3261 §13.3.1.4). */
  expectAck(seq: number): void {
    if (this.ackWait) this.host.clock.clearTimer(this.ackWait.timer);
    const timer = this.host.clock.setTimer(this.host.timers.transactionTimeout, () => {
      this.ackWait = undefined;
      if (this.state === "terminated") return;
      void this.sendBye([["Reason", 'SIP;cause=408;text="ACK Timeout"']]).catch(() => {});
      this.terminate({ reason: "ack-timeout" });
    });
    this.ackWait = { seq, timer };
  }

  receiveAck(ack: SipRequest): void {
    const w = this.ackWait;
    if (!w || ack.cseq?.seq !== w.seq) return; // a retransmitted ACK
    this.host.clock.clearTimer(w.timer);
    this.ackWait = undefined;
    if (ack.body.length > 0) this.remote.sdp = ack.body.toString("utf8");
    this.emit("ack", ack);
  }

  // ---- inbound requests ----------------------------------------------------

  /** A request whose To tag, From tag and Call-ID named this dialog. */
  handleRequest(tx: AnyServerTransaction): void {
    const msg = tx.request;
    const method = msg.method;
    if (this.state0.checkRemoteCSeq(msg) === "lower") {
      tx.reply(500, { reason: "CSeq Out of Order" });
      return;
    }
    const req = new SrfRequest(tx);
    const res = new SrfResponse(tx, (status, headers) => this.decorateResponse(method, status, headers));
    switch (method) {
      case "BYE":
        res.send(200);
        this.terminate({ reason: "bye", req: msg });
        return;
      case "PRACK":
        if (this.onPrack) this.onPrack(req, res);
        else res.send(481, "No Reliable Provisional Pending");
        return;
      case "INVITE":
        this.handleReinvite(req, res);
        return;
      case "UPDATE":
        this.handleUpdate(req, res);
        return;
      default: {
        const event = IN_DIALOG_EVENTS[method];
        if (!event) {
          res.send(405, {
            headers: [
              ["Allow", "INVITE, ACK, BYE, CANCEL, OPTIONS, PRACK, UPDATE, INFO, REFER, NOTIFY, MESSAGE"],
            ],
          });
          return;
        }
        if (this.listenerCount(event) > 0) this.emitSafely(event, req, res);
        else res.send(method === "REFER" ? 403 : 200);
      }
    }
  }

  /** Every response in the dialog to INVITE/UPDATE carries our Contact (target refresh, §12.1.1). */
  private decorateResponse(method: string, status: number, headers: HeaderList): HeaderList {
    if ((method === "INVITE" || method === "UPDATE") && status >= 101 && status < 300) {
      if (!headers.some(([n]) => /^(contact|m)$/i.test(n)))
        headers.unshift(["Contact", `<${this.local.contact}>`]);
    }
    return headers;
  }

  private handleReinvite(req: SrfRequest, res: SrfResponse): void {
    if (this.outInvitePending) {
      res.send(491);
      return;
    }
    if (this.inInvitePending) {
      const retry = String(Math.floor(this.host.random() * 10));
      res.send(500, "Request Pending", { headers: [["Retry-After", retry]] });
      return;
    }
    const neg = negotiateAsUas(req.msg, this.host.sessionTimer);
    if (neg.kind === "reject") {
      res.send(422, { headers: [["Min-SE", String(neg.minSE)]] });
      return;
    }
    this.inInvitePending = true;
    this.state0.refreshTarget(req.msg);
    if (req.msg.body.length > 0) {
      this.remote.sdp = req.body;
      this.noteHold(req.body);
    }
    const seq = req.msg.cseq!.seq;
    const wrapped = this.wrapFinal(res, neg.kind === "accept" ? neg.responseHeaders : [], (status) => {
      this.inInvitePending = false;
      if (status < 300) {
        this.expectAck(seq);
        if (neg.kind === "accept") {
          this.timer.start(neg.terms, neg.terms.refresher === "uas");
          this.emit("refresh", neg.terms);
        } else if (this.timer.terms) this.timer.start(this.timer.terms, this.timer.weRefresh);
      }
    });
    if (this.listenerCount("modify") > 0) this.emitSafely("modify", req, wrapped);
    else wrapped.send(200, { body: this.local.sdp });
  }

  private handleUpdate(req: SrfRequest, res: SrfResponse): void {
    const hasOffer = req.msg.body.length > 0;
    if (hasOffer && this.outInvitePending) {
      res.send(491);
      return;
    }
    const neg = negotiateAsUas(req.msg, this.host.sessionTimer);
    if (neg.kind === "reject") {
      res.send(422, { headers: [["Min-SE", String(neg.minSE)]] });
      return;
    }
    this.state0.refreshTarget(req.msg);
    if (hasOffer) this.remote.sdp = req.body;
    const wrapped = this.wrapFinal(res, neg.kind === "accept" ? neg.responseHeaders : [], (status) => {
      if (status >= 300) return;
      if (neg.kind === "accept") {
        this.timer.start(neg.terms, neg.terms.refresher === "uas");
        this.emit("refresh", neg.terms);
      } else if (this.timer.terms) this.timer.start(this.timer.terms, this.timer.weRefresh);
    });
    if (this.listenerCount("update") > 0) this.emitSafely("update", req, wrapped);
    else wrapped.send(200, hasOffer ? { body: this.local.sdp } : {});
  }

  /** `hold` / `unhold` when an offer from the peer changes the direction (emitted before `modify`). */
  private noteHold(offer: string): void {
    const held = isHoldOffer(offer);
    if (held === this.onHold) return;
    this.onHold = held;
    this.emit(held ? "hold" : "unhold");
  }

  /** A response object that adds `extra` to 2xx and tells `onFinal` the final status once. */
  private wrapFinal(res: SrfResponse, extra: HeaderList, onFinal: (status: number) => void): SrfResponse {
    const dialog = this;
    let done = false;
    return new (class extends SrfResponse {
      override send(status: number, a?: string | SendOptions, b?: SendOptions): SipResponse | undefined {
        const { reason, opts } = sendArguments(a, b);
        const headers = toHeaderList(opts.headers).slice();
        if (status >= 200 && status < 300) headers.push(...extra);
        const sent =
          reason === undefined
            ? res.send(status, { ...opts, headers })
            : res.send(status, reason, { ...opts, headers });
        if (sent && status >= 200 && !done) {
          done = true;
          if (status < 300 && opts.body !== undefined && opts.body.length > 0) {
            dialog.local.sdp = typeof opts.body === "string" ? opts.body : opts.body.toString("utf8");
          }
          onFinal(status);
        }
        return sent;
      }
    })(res.tx);
  }

  /** An application listener that throws must not leave the transaction unanswered. */
  private emitSafely(event: string, req: SrfRequest, res: SrfResponse): void {
    try {
      this.emit(event, req, res);
    } catch {
      if (!res.finalSent) res.send(500);
    }
  }
}

function withContentType(headers: HeaderList, body: string | Buffer | undefined): HeaderList {
  if (body === undefined || body.length === 0) return headers;
  if (headers.some(([n]) => /^(content-type|c)$/i.test(n))) return headers;
  return [...headers, ["Content-Type", "application/sdp"]];
}
