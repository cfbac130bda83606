/**
 * The application API, in the shape of drachtio-srf (no code taken from it):
 *
 *   const srf = new Srf(stack);
 *   srf.use("invite", authenticate);
 *   srf.invite(async (req, res) => {
 *     const dialog = await srf.createUAS(req, res, { localSdp });
 *     dialog.on("destroy", () => …);
 *   });
 *   const uac = await srf.createUAC("sip:bob@192.0.2.9", { localSdp });
 *   const { uas, uac } = await srf.createB2BUA(req, res, "sip:bob@192.0.2.9", { proxyRequestHeaders: ["all"] });
 */
import { createRequest, type HeaderList } from "../builder.js";
import { type AuthenticateHook, cloneForRetry, isChallenge } from "../dialog/auth-retry.js";
import type { Dialog } from "../dialog/dialog.js";
import { type DialogCounts, DialogLayer, type DialogLayerOptions } from "../dialog/dialog-layer.js";
import { isSipStatusError, SipStatusError } from "../dialog/errors.js";
import {
  type HeadersInit,
  type SendOptions,
  SrfRequest,
  SrfResponse,
  sendArguments,
  toHeaderList,
} from "../dialog/request-response.js";
import { negotiateAsUas } from "../dialog/session-timer.js";
import { type UacCallbacks, UacInvite, type UacInviteOptions } from "../dialog/uac-invite.js";
import { ALLOW, UasInvite } from "../dialog/uas-invite.js";
import type { SipRequest, SipResponse } from "../message.js";
import type { SipStack, StackCounts } from "../sip-stack.js";
import { newTag } from "../transaction/keys.js";
import type { AnyServerTransaction } from "../transaction/table.js";
import type { Endpoint } from "../transport/types.js";
import { parseUri } from "../uri.js";
import { type B2buaCallbacks, type B2buaOptions, runB2bua } from "./b2bua.js";
import { type ErrorHandler, type Handler, Pipeline } from "./middleware.js";

export interface UasOptions {
  localSdp?: string;
  headers?: HeadersInit;
}

export interface OutOfDialogRequest {
  method: string;
  headers?: HeadersInit;
  body?: string | Buffer;
  endpoint?: Endpoint;
  auth?: AuthenticateHook;
}

/** An INVITE's response object: 1xx go through the dialog layer (reliably when 100rel applies). */
class InviteResponse extends SrfResponse {
  constructor(
    tx: AnyServerTransaction,
    private readonly uas: UasInvite,
  ) {
    super(tx);
  }

  override send(status: number, a?: string | SendOptions, b?: SendOptions): SipResponse | undefined {
    const { reason, opts } = sendArguments(a, b);
    if (status < 200) {
      this.uas.provisional(status, opts).catch(() => {});
      return undefined;
    }
    if (status < 300) {
      this.uas.accept(opts);
      return undefined;
    }
    this.uas.reject(status, reason, opts);
    return undefined;
  }
}

export class Srf {
  readonly layer: DialogLayer;
  /** Application-wide scratch space (drachtio's srf.locals). */
  readonly locals: Record<string, unknown> = {};
  private readonly pipeline = new Pipeline();
  private readonly uasInvites = new WeakMap<SrfRequest, UasInvite>();
  /** The request object made for each transaction, so a caller may hand us either. */
  private readonly requests = new WeakMap<AnyServerTransaction, SrfRequest>();

  constructor(
    readonly stack: SipStack,
    opts: DialogLayerOptions = {},
  ) {
    this.layer = new DialogLayer(stack, opts);
    this.layer.onNewRequest = (tx) => this.dispatch(tx);
  }

  // ---- middleware ----------------------------------------------------------

  /** `use(fn)`, `use(errFn)` with four parameters, `use("invite", fn, [fn2, fn3])`. */
  use(fn: Handler): this;
  use(fn: ErrorHandler): this;
  use(method: string, ...fns: Array<Handler | Handler[]>): this;
  use(method: string, ...fns: Array<ErrorHandler | ErrorHandler[]>): this;
  use(
    methodOrFn: string | Handler | ErrorHandler,
    ...fns: Array<Handler | ErrorHandler | Array<Handler | ErrorHandler>>
  ): this {
    this.pipeline.use(methodOrFn, ...fns);
    return this;
  }
  invite(h: Handler): this {
    return this.use("invite", h);
  }
  options(h: Handler): this {
    return this.use("options", h);
  }
  message(h: Handler): this {
    return this.use("message", h);
  }
  info(h: Handler): this {
    return this.use("info", h);
  }
  notify(h: Handler): this {
    return this.use("notify", h);
  }

  private dispatch(tx: AnyServerTransaction): void {
    const req = new SrfRequest(tx);
    this.requests.set(tx, req);
    let res: SrfResponse;
    if (tx.kind === "invite-server") {
      const uas = new UasInvite(this.layer, req);
      this.uasInvites.set(req, uas);
      res = new InviteResponse(tx, uas);
    } else res = new SrfResponse(tx);
    this.pipeline.run(req, res, (err) => {
      if (res.finalSent) return;
      if (err !== undefined) {
        const status = isSipStatusError(err) ? err.status : 500;
        res.send(status);
        return;
      }
      if (req.method === "OPTIONS") res.send(200, { headers: [["Allow", ALLOW]] });
      else res.send(404, "No Handler");
    });
  }

  private uasOf(req: SrfRequest): UasInvite {
    let uas = this.uasInvites.get(req);
    if (!uas) {
      uas = new UasInvite(this.layer, req);
      this.uasInvites.set(req, uas);
    }
    return uas;
  }

  /** The UAS side of an INVITE, for code that needs its 1xx/PRACK control directly (the B2BUA). */
  inviteOf(req: SrfRequest): UasInvite {
    return this.uasOf(req);
  }

  // ---- UAS -----------------------------------------------------------------

  /**
   * Answers the INVITE with 200 and our SDP; resolves with the confirmed dialog
   * once the 2xx is sent (after any reliable 1xx were PRACKed). Rejects with a
   * SipStatusError: 422 (session interval too small, answered here), 487
   * (cancelled), 500 (a reliable 1xx never PRACKed).
   */
  /** The SrfRequest of a server transaction (made on first use when the transaction did not come through us). */
  requestOf(reqOrTx: SrfRequest | AnyServerTransaction): SrfRequest {
    if (reqOrTx instanceof SrfRequest) return reqOrTx;
    let req = this.requests.get(reqOrTx);
    if (!req) {
      req = new SrfRequest(reqOrTx);
      this.requests.set(reqOrTx, req);
    }
    return req;
  }

  async createUAS(
    reqOrTx: SrfRequest | AnyServerTransaction,
    _res?: SrfResponse,
    opts: UasOptions = {},
  ): Promise<Dialog> {
    const req = this.requestOf(reqOrTx);
    if (req.method !== "INVITE") throw new SipStatusError(500, "createUAS needs an INVITE");
    const uas = this.uasOf(req);
    if (uas.failedWith) throw uas.failedWith;
    const neg = negotiateAsUas(req.msg, this.layer.sessionTimer);
    if (neg.kind === "reject") {
      uas.reject(422, undefined, { headers: [["Min-SE", String(neg.minSE)]] });
      throw new SipStatusError(422, "Session Interval Too Small");
    }
    await uas.settled();
    const headers: HeaderList = [...toHeaderList(opts.headers)];
    if (neg.kind === "accept") headers.push(...neg.responseHeaders);
    const dialog = uas.accept({ body: opts.localSdp, headers });
    if (neg.kind === "accept") dialog.startSessionTimer(neg.terms, neg.terms.refresher === "uas");
    return dialog;
  }

  // ---- UAC -----------------------------------------------------------------

  /** Places a call; resolves with the confirmed dialog on the first 2xx, rejects with a SipStatusError. */
  createUAC(uri: string, opts: UacInviteOptions = {}, callbacks: UacCallbacks = {}): Promise<Dialog> {
    return new UacInvite(this.layer, uri, opts, callbacks).start();
  }

  /** A request outside any dialog (OPTIONS, MESSAGE …); one 401/407 retry through `auth`. */
  request(uri: string, opts: OutOfDialogRequest): Promise<SipResponse> {
    const method = opts.method.toUpperCase();
    const target = parseUri(uri, { requestUri: true });
    const dest = opts.endpoint ?? this.layer.endpointOf(target);
    const extra = toHeaderList(opts.headers);
    const headers: HeaderList = [
      ["From", `<sip:anonymous@${this.layer.localHost()}>;tag=${newTag()}`],
      ["To", `<${uri}>`],
      ["Call-ID", this.layer.newCallId()],
      ["CSeq", `1 ${method}`],
      ...extra,
    ];
    if (opts.body !== undefined && opts.body.length > 0 && !extra.some(([n]) => /^content-type$/i.test(n))) {
      headers.push(["Content-Type", "text/plain"]);
    }
    const first = createRequest({ method, uri, headers, body: opts.body });
    return new Promise((resolve, reject) => {
      let retried = false;
      const send = (req: SipRequest) => {
        let final = false;
        const user = {
          onResponse: (res: SipResponse) => {
            if (res.status < 200 || final) return;
            final = true;
            if (isChallenge(res.status) && opts.auth && !retried) {
              retried = true;
              const cred = opts.auth(res, req);
              if (cred) {
                send(cloneForRetry(req, req.cseq!.seq + 1, cred));
                return;
              }
            }
            resolve(res);
          },
          onTerminated: (reason: string) => {
            if (!final) reject(new SipStatusError(reason === "timeout" ? 408 : 503, `Request ${reason}`));
          },
        };
        try {
          if (dest) this.stack.request(req, dest, user);
          else
            this.stack.requestTo(req, user).catch((e: Error) => reject(new SipStatusError(503, e.message)));
        } catch (e) {
          reject(new SipStatusError(503, (e as Error).message));
        }
      };
      send(first);
    });
  }

  // ---- B2BUA ---------------------------------------------------------------

  /** Bridges the INVITE in `req` to `uri`; resolves with both legs once B answered and A got its 2xx. */
  createB2BUA(
    req: SrfRequest,
    res: SrfResponse,
    uri: string,
    opts?: B2buaOptions,
    callbacks?: B2buaCallbacks,
  ): Promise<{ uas: Dialog; uac: Dialog }>;
  createB2BUA(
    reqOrTx: SrfRequest | AnyServerTransaction,
    uri: string,
    opts?: B2buaOptions,
    callbacks?: B2buaCallbacks,
  ): Promise<{ uas: Dialog; uac: Dialog }>;
  createB2BUA(
    reqOrTx: SrfRequest | AnyServerTransaction,
    resOrUri: SrfResponse | string,
    a?: string | B2buaOptions,
    b?: B2buaOptions | B2buaCallbacks,
    c?: B2buaCallbacks,
  ): Promise<{ uas: Dialog; uac: Dialog }> {
    const req = this.requestOf(reqOrTx);
    if (typeof resOrUri === "string") {
      const res = new SrfResponse(req.tx);
      return runB2bua(
        this,
        req,
        res,
        resOrUri,
        (a as B2buaOptions | undefined) ?? {},
        (b as B2buaCallbacks) ?? {},
      );
    }
    return runB2bua(this, req, resOrUri, a as string, (b as B2buaOptions | undefined) ?? {}, c ?? {});
  }

  // ---- shutdown ------------------------------------------------------------

  /**
   * Hangs up every confirmed dialog (BYE, waited for at most `graceMs`), drops
   * the rest without signalling, and closes the stack.
   */
  async close(graceMs = 2000): Promise<void> {
    const byes = this.layer
      .all()
      .filter((d) => d.state === "confirmed")
      .map((d) => d.destroy().catch(() => {}));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<void>((r) => {
      timer = setTimeout(r, graceMs);
    });
    await Promise.race([Promise.all(byes), grace]);
    clearTimeout(timer);
    this.layer.clear();
    await this.stack.close();
  }

  // ---- metrics -------------------------------------------------------------

  counts(): { dialogs: DialogCounts; transactions: StackCounts } {
    return { dialogs: this.layer.counts(), transactions: this.stack.counts() };
  }
}
