/**
 * Our side of an outgoing initial INVITE (RFC 3261 §13.2, RFC 3262 as UAC,
 * RFC 4028 as UAC): one early dialog per To tag in 1xx (forking), PRACK for
 * each reliable 1xx in RSeq order, the first 2xx confirms its dialog (ACK) and
 * any later 2xx from another fork gets ACK then BYE (§13.2.2.4). 401/407 are
 * retried once through the `authenticate` hook, 422 once with the Min-SE it
 * asks for.
 */
import type { HeaderList } from "../builder.js";
import { createRequest } from "../builder.js";
import { parseNameAddr } from "../headers/name-addr.js";
import type { SipRequest, SipResponse } from "../message.js";
import type { InviteClientTransaction } from "../transaction/invite-client.js";
import { newTag } from "../transaction/keys.js";
import type { ClientTransaction } from "../transaction/table.js";
import type { Endpoint } from "../transport/types.js";
import { parseUri } from "../uri.js";
import { type AuthenticateHook, cloneForRetry, isChallenge } from "./auth-retry.js";
import { Dialog } from "./dialog.js";
import type { DialogLayer } from "./dialog-layer.js";
import { contactOf, DialogState, routeSetFrom } from "./dialog-state.js";
import { SipStatusError } from "./errors.js";
import { type HeadersInit, toHeaderList } from "./request-response.js";
import { retryIntervalAfter422, termsFrom2xx, uacRequestHeaders } from "./session-timer.js";
import { ALLOW } from "./uas-invite.js";

export interface UacInviteOptions {
  /** Extra headers; a From or To given here replaces ours (a From tag is added). */
  headers?: HeadersInit;
  localSdp?: string;
  /** Send to this endpoint instead of resolving the Request-URI. */
  endpoint?: Endpoint;
  /** An outbound proxy (numeric sip: URI); the Request-URI is kept. */
  proxy?: string;
  auth?: AuthenticateHook;
  /** Ask for a session timer (Session-Expires/Min-SE from the layer's config, or these seconds). */
  sessionTimer?: boolean | number;
  /** SDP to put in the PRACK for a reliable 1xx carrying an offer (late-offer flows). */
  prackSdp?: (res: SipResponse) => string | undefined;
}

export interface UacCallbacks {
  /** The INVITE as sent (after the stack added its Via), and the handle to CANCEL it. */
  cbRequest?: (req: SipRequest, invite: UacInvite) => void;
  /** Every provisional above 100. */
  cbProvisional?: (res: SipResponse) => void;
}

export class UacInvite {
  private readonly callId: string;
  private readonly fromTag = newTag();
  private readonly forks = new Map<string, { dialog: Dialog; lastRSeq: number | undefined }>();
  private winner: Dialog | undefined;
  private tx: InviteClientTransaction | undefined;
  private request: SipRequest | undefined;
  private settled = false;
  private authTried = false;
  private timerTried = false;
  private cancelled = false;
  private resolve!: (d: Dialog) => void;
  private reject!: (err: Error) => void;
  readonly promise: Promise<Dialog>;

  constructor(
    private readonly layer: DialogLayer,
    readonly uri: string,
    private opts: UacInviteOptions = {},
    private callbacks: UacCallbacks = {},
  ) {
    this.callId = layer.newCallId();
    this.promise = new Promise((res, rej) => {
      this.resolve = res;
      this.reject = rej;
    });
  }

  private destination(): Endpoint | undefined {
    if (this.opts.endpoint) return this.opts.endpoint;
    if (this.opts.proxy) return this.layer.endpointOf(parseUri(this.opts.proxy));
    return this.layer.endpointOf(parseUri(this.uri, { requestUri: true }));
  }

  start(): Promise<Dialog> {
    let req: SipRequest;
    try {
      req = this.buildInvite();
    } catch (err) {
      this.fail(new SipStatusError(400, err instanceof Error ? err.message : "Bad Request"));
      return this.promise;
    }
    this.send(req);
    return this.promise;
  }

  private buildInvite(): SipRequest {
    const dest = this.destination();
    const contact = this.layer.contactFor(dest?.protocol ?? "UDP");
    const extra = toHeaderList(this.opts.headers);
    let from = `<sip:anonymous@${this.layer.localHost()}>`;
    let to = `<${this.uri}>`;
    const rest: HeaderList = [];
    for (const [n, v] of extra) {
      const k = n.toLowerCase();
      if (k === "from" || k === "f") from = v;
      else if (k === "to" || k === "t") to = v;
      else if (k === "call-id" || k === "cseq" || k === "via" || k === "contact" || k === "content-length")
        continue;
      else rest.push([n, v]);
    }
    if (parseNameAddr(from).params.tag === undefined) from = `${from};tag=${this.fromTag}`;
    const headers: HeaderList = [
      ["From", from],
      ["To", to],
      ["Call-ID", this.callId],
      ["CSeq", "1 INVITE"],
      ["Contact", `<${contact}>`],
      ["Allow", ALLOW],
    ];
    if (!rest.some(([n]) => /^supported$/i.test(n))) headers.push(["Supported", "100rel, timer"]);
    if (this.opts.sessionTimer) {
      const cfg = this.layer.sessionTimer;
      const interval =
        typeof this.opts.sessionTimer === "number" ? this.opts.sessionTimer : cfg.sessionExpires;
      headers.push(...uacRequestHeaders(cfg, interval));
    }
    headers.push(...rest);
    const body = this.opts.localSdp;
    if (body && !headers.some(([n]) => /^content-type$/i.test(n)))
      headers.push(["Content-Type", "application/sdp"]);
    return createRequest({ method: "INVITE", uri: this.uri, headers, body });
  }

  private send(req: SipRequest): void {
    this.request = req;
    const user = {
      onResponse: (res: SipResponse) => this.onResponse(req, res),
      onTimeout: () => this.fail(new SipStatusError(408, "Request Timeout")),
      onTransportError: (err: Error) => this.fail(new SipStatusError(503, `Transport Error: ${err.message}`)),
      onTerminated: () => {
        if (!this.settled && this.tx?.request === req)
          this.fail(new SipStatusError(408, "No Final Response"));
      },
    };
    const dest = this.destination();
    const started = (tx: ClientTransaction) => {
      this.tx = tx as InviteClientTransaction;
      this.callbacks.cbRequest?.(req, this);
      if (this.cancelled) this.cancel();
    };
    try {
      if (dest) started(this.layer.stack.request(req, dest, user));
      else
        this.layer.stack
          .requestTo(req, user)
          .then(started, (err: Error) => this.fail(new SipStatusError(503, `Unroutable: ${err.message}`)));
    } catch (err) {
      this.fail(new SipStatusError(503, `Transport Error: ${(err as Error).message}`));
    }
  }

  /** CANCELs the INVITE (RFC 3261 §9.1); the 487 then rejects the promise. `reason` goes in a Reason header. */
  cancel(reason?: string): void {
    this.cancelled = true;
    if (!this.tx || this.settled) return;
    const extra: HeaderList = reason ? [["Reason", reason]] : [];
    this.layer.stack.cancel(this.tx, undefined, extra);
  }

  private fork(res: SipResponse, tag: string): Dialog {
    const existing = this.forks.get(tag);
    // A fork's early dialog ended when another fork won; its late 2xx needs a fresh one to ACK and BYE.
    if (existing && existing.dialog.state !== "terminated") return existing.dialog;
    const req = this.request!;
    const target = contactOf(res) ?? parseUri(this.uri, { requestUri: true });
    const state = new DialogState({
      role: "uac",
      callId: this.callId,
      localTag: this.fromTag,
      remoteTag: tag,
      localHeader: req.header("from")!,
      remoteHeader: res.header("to")!,
      localSeq: req.cseq!.seq,
      remoteSeq: undefined,
      remoteTarget: target,
      routeSet: routeSetFrom(res, "uac"),
      localContact: this.layer.contactFor(this.tx?.destination.protocol ?? "UDP"),
    });
    const d = new Dialog(state, this.layer, this.opts.localSdp ?? "");
    d.peer = this.tx?.destination;
    this.forks.set(tag, { dialog: d, lastRSeq: undefined });
    this.layer.add(d);
    return d;
  }

  private onResponse(req: SipRequest, res: SipResponse): void {
    if (this.request !== req) return; // a late answer to a request we already retried
    const status = res.status;
    const tag = res.to?.params.tag;
    if (status < 200) {
      if (status === 100) return;
      if (tag && !this.settled) {
        const d = this.fork(res, tag);
        d.state0.refreshTarget(res);
        if (res.body.length > 0) d.remote.sdp = res.body.toString("utf8");
        d.peerAllowsUpdate = (res.header("allow") ?? "").toUpperCase().includes("UPDATE");
        this.maybePrack(d, res);
      }
      this.callbacks.cbProvisional?.(res);
      return;
    }
    if (status < 300) {
      this.on2xx(req, res, tag ?? "");
      return;
    }
    if (this.settled) return;
    if (isChallenge(status) && this.opts.auth && !this.authTried) {
      this.authTried = true;
      const cred = this.opts.auth(res, req);
      if (cred) {
        this.dropForks();
        this.send(cloneForRetry(req, req.cseq!.seq + 1, cred));
        return;
      }
    }
    if (status === 422 && this.opts.sessionTimer && !this.timerTried) {
      const asked = req.sessionExpires?.seconds ?? 0;
      const interval = retryIntervalAfter422(res, asked);
      if (interval !== undefined) {
        this.timerTried = true;
        this.dropForks();
        const retry = cloneForRetry(req, req.cseq!.seq + 1);
        retry.setHeader("Session-Expires", String(interval));
        retry.setHeader("Min-SE", String(interval));
        this.send(retry);
        return;
      }
    }
    this.fail(new SipStatusError(status, res.reasonPhrase, res));
  }

  /** RFC 3262 §4: PRACK a reliable 1xx whose RSeq is the first seen or one above the last. */
  private maybePrack(d: Dialog, res: SipResponse): void {
    let rseq: number | undefined;
    try {
      if (!res.require.includes("100rel")) return;
      rseq = res.rseq;
    } catch {
      return; // a malformed Require/RSeq: treat the 1xx as unreliable
    }
    if (rseq === undefined) return;
    const fork = this.forks.get(d.state0.remoteTag)!;
    if (fork.lastRSeq !== undefined && rseq !== fork.lastRSeq + 1) return;
    fork.lastRSeq = rseq;
    const headers: HeaderList = [["RAck", `${rseq} ${res.cseq!.seq} INVITE`]];
    const offer = res.body.length > 0 ? this.opts.prackSdp?.(res) : undefined;
    void d.request({ method: "PRACK", headers, body: offer }).catch(() => {});
  }

  private on2xx(req: SipRequest, res: SipResponse, tag: string): void {
    const seq = req.cseq!.seq;
    if (this.winner) {
      if (this.winner.state0.remoteTag === tag) {
        // a retransmission: our ACK was lost
        this.layer.sendAck(this.winner, this.winner.state0.buildRequest("ACK", [], undefined, seq));
        return;
      }
      // another fork answered too: ACK it and hang it up (RFC 3261 §13.2.2.4)
      const extra = this.fork(res, tag);
      extra.state0.routeSet = routeSetFrom(res, "uac");
      extra.state0.refreshTarget(res);
      extra.confirm();
      this.layer.sendAck(extra, extra.state0.buildRequest("ACK", [], undefined, seq));
      void extra.destroy().catch(() => {});
      return;
    }
    if (this.settled) {
      // the INVITE already failed locally (timeout, cancel race): ACK and BYE the answer
      const late = this.fork(res, tag);
      late.state0.routeSet = routeSetFrom(res, "uac");
      late.confirm();
      this.layer.sendAck(late, late.state0.buildRequest("ACK", [], undefined, seq));
      void late.destroy().catch(() => {});
      return;
    }
    const d = this.fork(res, tag);
    // The 2xx fixes the route set for good (§12.1.2); the target comes from its Contact.
    d.state0.routeSet = routeSetFrom(res, "uac");
    d.state0.refreshTarget(res);
    if (res.body.length > 0) d.remote.sdp = res.body.toString("utf8");
    if (res.hasHeader("allow"))
      d.peerAllowsUpdate = (res.header("allow") ?? "").toUpperCase().includes("UPDATE");
    d.confirm();
    this.layer.sendAck(d, d.state0.buildRequest("ACK", [], undefined, seq));
    const terms = termsFrom2xx(res);
    if (terms) d.startSessionTimer(terms, terms.refresher === "uac");
    this.winner = d;
    this.settled = true;
    this.release();
    // Early dialogs of the other forks end with the INVITE (§13.2.2.4); their later 2xx still get ACK + BYE.
    for (const [t, f] of this.forks) if (t !== tag && f.dialog.state === "early") f.dialog.terminate();
    this.resolve(d);
  }

  private dropForks(): void {
    for (const f of this.forks.values()) f.dialog.terminate();
    this.forks.clear();
  }

  private fail(err: SipStatusError): void {
    if (this.settled) return;
    this.settled = true;
    this.release();
    this.dropForks();
    this.reject(err);
  }

  /**
   * Settled: no more retries, PRACKs or TU callbacks, only ACKs (and BYEs for late forks) while
   * the transaction absorbs 2xx retransmissions for 32 s. Dropping the TU's closures lets a
   * finished call be collected meanwhile.
   */
  private release(): void {
    this.callbacks = {};
    this.opts = this.opts.localSdp === undefined ? {} : { localSdp: this.opts.localSdp };
  }
}
