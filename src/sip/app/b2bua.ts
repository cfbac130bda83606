/**
 * createB2BUA: the INVITE on leg A is re-originated as a new call on leg B
 * (own Call-ID, tags, Via and Contact: nothing of A's topology crosses), B's
 * provisionals and failure are relayed to A, CANCEL on A becomes 487 on A and
 * CANCEL (with Reason) on B, and once both legs are up a BYE on either ends
 * the other; re-INVITEs, UPDATEs with an offer and INFO are relayed across.
 */
import type { HeaderList } from "../builder.js";
import type { AuthenticateHook } from "../dialog/auth-retry.js";
import type { Dialog } from "../dialog/dialog.js";
import { isSipStatusError, SipStatusError } from "../dialog/errors.js";
import {
  type HeadersInit,
  type SendOptions,
  type SrfRequest,
  type SrfResponse,
  toHeaderList,
} from "../dialog/request-response.js";
import type { UacInvite } from "../dialog/uac-invite.js";
import type { SipResponse } from "../message.js";
import type { Endpoint } from "../transport/types.js";
import { formatUri } from "../uri.js";
import { copyHeaders, type HeaderRules } from "./header-rules.js";
import type { Srf } from "./srf.js";

export interface B2buaOptions {
  /** Extra headers on B's INVITE. */
  headers?: HeadersInit;
  /** Extra headers on the 2xx to A. */
  responseHeaders?: HeadersInit;
  /** Headers of A's INVITE copied to B's, e.g. `["all", "-Authorization"]` (default none). */
  proxyRequestHeaders?: HeaderRules;
  /** Headers of B's responses copied to A's (default none). */
  proxyResponseHeaders?: HeaderRules;
  /** B's offer: a string, or a function of A's offer (default: A's offer unchanged). */
  localSdpB?: string | ((sdpA: string) => string | Promise<string>);
  /** A's answer: a string, or a function of B's SDP (the media-engine hook; default: B's SDP). */
  localSdpA?: string | ((sdpB: string, res?: SipResponse) => string | Promise<string>);
  /** Relay B's failure status to A (default true); otherwise A gets 480. */
  passFailure?: boolean;
  /**
   * Leave A unanswered when B fails (default false): the promise rejects with
   * B's status and the caller decides, e.g. tries the next trunk (failover).
   */
  holdFailure?: boolean;
  /** Relay B's 18x to A (default true). */
  passProvisionalResponses?: boolean;
  endpoint?: Endpoint;
  proxy?: string;
  auth?: AuthenticateHook;
  sessionTimer?: boolean | number;
  /**
   * Milliseconds B may take to answer once its INVITE is sent (the ring-no-answer
   * timer, RFC 3261 §16.6 Timer C's job for a B2BUA): past it B is CANCELled and
   * the attempt fails with 408 (`NoAnswerError`), A answered 408 unless held.
   */
  noAnswerTimeout?: number;
}

/** B did not answer within `noAnswerTimeout`: 408, and B was CANCELled. */
export class NoAnswerError extends SipStatusError {
  /** Whether B had sent any provisional response (it rang) before the timer fired. */
  constructor(readonly rang: boolean) {
    super(408, "Request Timeout");
  }
}

export interface B2buaCallbacks {
  cbRequest?: (req: import("../message.js").SipRequest) => void;
  cbProvisional?: (res: SipResponse) => void;
  /** B answered (before A's 2xx is sent). */
  cbFinalizedUac?: (uac: Dialog) => void;
}

const CALLER_CANCEL = 'SIP;cause=487;text="Caller Cancelled"';
const NO_ANSWER = 'SIP;cause=408;text="No Answer"';

async function sdpFor(
  spec: string | ((sdp: string, res?: SipResponse) => string | Promise<string>) | undefined,
  sdp: string,
  res?: SipResponse,
): Promise<string> {
  if (spec === undefined) return sdp;
  return typeof spec === "string" ? spec : await spec(sdp, res);
}

export async function runB2bua(
  srf: Srf,
  req: SrfRequest,
  res: SrfResponse,
  uri: string,
  opts: B2buaOptions,
  callbacks: B2buaCallbacks,
): Promise<{ uas: Dialog; uac: Dialog }> {
  const uasInvite = srf.inviteOf(req);
  const sdpA = req.body;
  const sdpB = await sdpFor(opts.localSdpB, sdpA);
  const headers: HeaderList = [
    ...copyHeaders(req.msg, opts.proxyRequestHeaders),
    ...toHeaderList(opts.headers),
  ];
  // Keep the caller's identity (display name and URI), never its tag.
  const from = req.msg.from;
  if (from && !headers.some(([n]) => /^(from|f)$/i.test(n))) {
    const name = from.displayName ? `"${from.displayName.replace(/(["\\])/g, "\\$1")}" ` : "";
    headers.push(["From", `${name}<${formatUri(from.uri)}>`]);
  }

  let invite: UacInvite | undefined;
  let cancelled = req.cancelled;
  req.on("cancel", () => {
    cancelled = true;
    invite?.cancel(CALLER_CANCEL);
  });

  // 18x relay, in order: each may wait for A's PRACK.
  let relay: Promise<void> = Promise.resolve();
  const passProvisional = opts.passProvisionalResponses !== false;
  let rang = false;
  let noAnswer: NodeJS.Timeout | undefined;
  let timedOut = false;
  const onProvisional = (r: SipResponse) => {
    if (r.status > 100) rang = true;
    callbacks.cbProvisional?.(r);
    if (!passProvisional || r.status === 100) return;
    relay = relay.then(async () => {
      if (cancelled || uasInvite.failedWith) return;
      const send: SendOptions = { headers: copyHeaders(r, opts.proxyResponseHeaders) };
      if (r.body.length > 0) send.body = await sdpFor(opts.localSdpA, r.body.toString("utf8"), r);
      await uasInvite.provisional(r.status, send).catch(() => {});
    });
  };

  let uac: Dialog;
  try {
    uac = await srf.createUAC(
      uri,
      {
        headers,
        localSdp: sdpB,
        endpoint: opts.endpoint,
        proxy: opts.proxy,
        auth: opts.auth,
        sessionTimer: opts.sessionTimer,
      },
      {
        cbRequest: (r, inv) => {
          invite = inv;
          if (cancelled) inv.cancel(CALLER_CANCEL);
          else if (opts.noAnswerTimeout !== undefined && opts.noAnswerTimeout > 0)
            noAnswer = setTimeout(() => {
              timedOut = true;
              inv.cancel(NO_ANSWER);
            }, opts.noAnswerTimeout);
          callbacks.cbRequest?.(r);
        },
        cbProvisional: onProvisional,
      },
    );
  } catch (err) {
    clearTimeout(noAnswer);
    if (cancelled) throw new SipStatusError(487, "Request Terminated");
    // B's 487 to our timer's CANCEL is not B's answer to the caller: the caller hears 408.
    const e = timedOut
      ? new NoAnswerError(rang)
      : isSipStatusError(err)
        ? err
        : new SipStatusError(500, "B Leg Failed");
    if (!opts.holdFailure && !res.finalSent && !uasInvite.failedWith) {
      if (opts.passFailure === false) uasInvite.reject(480);
      else {
        const extra = e.response ? copyHeaders(e.response, opts.proxyResponseHeaders) : [];
        uasInvite.reject(e.status, e.reason, { headers: extra });
      }
    }
    throw e;
  }

  clearTimeout(noAnswer);
  if (timedOut) {
    // B's 2xx crossed our CANCEL: the timer already decided, so B is hung up, not connected.
    await uac.destroy({ headers: [["Reason", NO_ANSWER]] }).catch(() => {});
    const e = new NoAnswerError(rang);
    if (!opts.holdFailure && !res.finalSent && !uasInvite.failedWith) uasInvite.reject(408, e.reason);
    throw e;
  }
  callbacks.cbFinalizedUac?.(uac);
  let uas: Dialog;
  try {
    await relay;
    if (cancelled || uasInvite.failedWith)
      throw uasInvite.failedWith ?? new SipStatusError(487, "Request Terminated");
    const answer = await sdpFor(opts.localSdpA, uac.remote.sdp);
    uas = await srf.createUAS(req, res, { localSdp: answer, headers: toHeaderList(opts.responseHeaders) });
  } catch (err) {
    await uac.destroy({ headers: [["Reason", CALLER_CANCEL]] }).catch(() => {});
    throw isSipStatusError(err) ? err : new SipStatusError(500, "A Leg Failed");
  }

  link(uas, uac, opts);
  return { uas, uac };
}

/** Ties the two legs: hang-ups, re-INVITEs and INFO cross over. */
function link(uas: Dialog, uac: Dialog, opts: B2buaOptions): void {
  uas.other = uac;
  uac.other = uas;
  const endOther = (d: Dialog) => () => {
    const o = d.other;
    if (o && o.state !== "terminated") void o.destroy().catch(() => {});
  };
  uas.on("destroy", endOther(uas));
  uac.on("destroy", endOther(uac));

  const relayModify = (from: Dialog, toA: boolean) => {
    from.on("modify", async (req: SrfRequest, res: SrfResponse) => {
      const to = from.other;
      if (!to || to.state === "terminated") {
        res.send(481);
        return;
      }
      try {
        // re-offer to the other side (through the media hook when it crosses to B's SDP towards A)
        const offer = toA ? req.body : await sdpFor(opts.localSdpB, req.body);
        const answer = await to.modify(offer || to.local.sdp);
        const back = toA ? await sdpFor(opts.localSdpA, answer) : answer;
        res.send(200, { body: back });
      } catch (err) {
        res.send(isSipStatusError(err) ? err.status : 500);
      }
    });
    // UPDATE with an offer crosses over; one without (a session refresh) is this leg's business.
    from.on("update", async (req: SrfRequest, res: SrfResponse) => {
      const to = from.other;
      if (req.msg.body.length === 0) {
        res.send(200);
        return;
      }
      if (!to || to.state === "terminated") {
        res.send(481);
        return;
      }
      try {
        const offer = toA ? req.body : await sdpFor(opts.localSdpB, req.body);
        const r = await to.request({ method: "UPDATE", body: offer });
        if (r.status >= 300) {
          res.send(r.status, r.reasonPhrase);
          return;
        }
        const answer = r.body.toString("utf8");
        if (answer) to.remote.sdp = answer;
        const back = toA ? await sdpFor(opts.localSdpA, answer) : answer;
        res.send(200, { body: back });
      } catch (err) {
        res.send(isSipStatusError(err) ? err.status : 500);
      }
    });
    from.on("info", async (req: SrfRequest, res: SrfResponse) => {
      const to = from.other;
      if (!to || to.state === "terminated") {
        res.send(481);
        return;
      }
      try {
        const ct = req.get("content-type");
        const r = await to.request({
          method: "INFO",
          headers: ct ? [["Content-Type", ct]] : [],
          body: req.msg.body,
        });
        res.send(r.status, r.reasonPhrase);
      } catch (err) {
        res.send(isSipStatusError(err) ? err.status : 500);
      }
    });
  };
  relayModify(uas, false);
  relayModify(uac, true);
}
