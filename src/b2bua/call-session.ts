/**
 * One object per call (the jambonz CallSession pattern): it owns both legs
 * (through srf.createB2BUA), the overload permit, the media resource, the CDR
 * and the call's metrics. It tries the route's trunks in order, failing over on
 * 408, 5xx or a transport error, and whatever happens it ends the call exactly
 * once: one CDR, one permit release, one media delete, one metrics update.
 */
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { TrunkConfig } from "../config/index.js";
import { type MediaEngine, MediaEngineError } from "../media/index.js";
import {
  type AuthenticateHook,
  type B2buaOptions,
  type DestroyInfo,
  type Dialog,
  isSipStatusError,
  NoAnswerError,
  type Srf,
  type SrfRequest,
  type SrfResponse,
} from "../sip/index.js";
import { CallLedger, type CdrSink } from "./call-ledger.js";
import type { CallMetrics } from "./call-metrics.js";
import { CallRecordBuilder, type HangupBy } from "./cdr.js";
import type { CallPermit } from "./overload.js";
import { type CalledNumber, formatNumberForTrunk, type RouteDecision } from "./routing.js";

export type { CdrSink } from "./call-ledger.js";

export interface CallSessionDeps {
  srf: Srf;
  logger: Logger;
  media: MediaEngine;
  cdr?: CdrSink | undefined;
  metrics?: CallMetrics | undefined;
  /** Outbound digest for a trunk (undefined: no credentials). A fresh hook per attempt. */
  authFor?: ((trunk: TrunkConfig) => AuthenticateHook | undefined) | undefined;
  /** Called once when the call has ended and its CDR was handed to the sink. */
  onEnd?: ((session: CallSession) => void) | undefined;
}

/** What the middleware pipeline learned about the call before it reached the session. */
export interface CallContext {
  inbound?: TrunkConfig | undefined;
  route: RouteDecision;
  permit: CallPermit;
  emergency: boolean;
}

export type CallState = "trying" | "connected" | "ended";

const SHUTDOWN_REASON = 'SIP;cause=500;text="Gateway Shutdown"';

/** Whether a B-leg failure moves on to the next trunk (RFC 3261 §16.7-style serial forking). */
export function isFailoverStatus(status: number): boolean {
  return status === 408 || (status >= 500 && status < 600);
}

/** The Request-URI towards a trunk: the number as the trunk writes it, at the trunk's address. */
export function trunkUri(trunk: TrunkConfig, number: CalledNumber): string {
  const user = formatNumberForTrunk(number, trunk.numbers);
  const host = trunk.address.host.includes(":") ? `[${trunk.address.host}]` : trunk.address.host;
  const port = trunk.address.port === undefined ? "" : `:${trunk.address.port}`;
  const transport = trunk.transport === "udp" ? "" : `;transport=${trunk.transport}`;
  // Dial strings may carry * and #, which a URI user part must escape (RFC 3261 §25.1).
  const escaped = user.replace(/[#]/g, "%23");
  return `sip:${escaped}@${host}${port}${transport}`;
}

/**
 * Which of A's headers cross to B. PAI only from a trunk we trust to assert
 * identity (RFC 3325 trust domain: an untrusted PAI is dropped, never relayed);
 * Privacy unless the outbound trunk wants it stripped. Everything describing
 * A's topology (Via, Contact, Record-Route, Call-ID …) never crosses anyway.
 */
export function headerRules(inbound: TrunkConfig | undefined, outbound: TrunkConfig): string[] {
  const rules: string[] = [];
  if (inbound?.headers.trustPai) rules.push("P-Asserted-Identity");
  if (!outbound.headers.stripPrivacy) rules.push("Privacy");
  return rules;
}

export class CallSession {
  readonly id = randomUUID();
  readonly callId: string;
  state: CallState = "trying";
  private log: Logger;
  private readonly record: CallRecordBuilder;
  private readonly ledger: CallLedger;
  private legs: { uas: Dialog; uac: Dialog } | undefined;

  constructor(
    private readonly req: SrfRequest,
    private readonly res: SrfResponse,
    private readonly ctx: CallContext,
    private readonly deps: CallSessionDeps,
  ) {
    this.callId = req.callId;
    this.log = deps.logger.child({ callId: this.callId });
    const fromHeader = req.get("from") ?? "";
    const from = /<([^>]*)>/.exec(fromHeader)?.[1] ?? fromHeader.split(";")[0]!.trim();
    this.record = new CallRecordBuilder(this.id, from, req.uri);
    if (ctx.emergency) this.record.markEmergency();
    this.record.leg({
      role: "a",
      callId: this.callId,
      trunk: ctx.inbound?.name,
      remote: `${req.source.host}:${req.source.port}`,
    });
    this.ledger = new CallLedger(this.record, ctx.permit, this.callId, ctx.inbound?.name ?? "", deps);
  }

  /** Bridges the call; resolves when it is connected or has ended (never rejects). */
  async connect(): Promise<void> {
    const targets = this.ctx.route.targets;
    this.log.info(
      { to: this.req.uri, number: this.ctx.route.number.number, trunks: targets.map((t) => t.name) },
      "call start",
    );
    let last = 500;
    let lastReason = "no target";
    for (let i = 0; i < targets.length; i++) {
      const trunk = targets[i]!;
      const isLast = i === targets.length - 1;
      if (this.req.cancelled) return this.finish(487, "caller", "CANCEL");
      const leg = this.record.leg({ role: "b", callId: "", trunk: trunk.name, remote: trunk.addressText });
      try {
        this.legs = await this.deps.srf.createB2BUA(
          this.req,
          this.res,
          trunkUri(trunk, this.ctx.route.number),
          this.optionsFor(trunk, isLast),
          {
            cbRequest: (invite) => {
              leg.callId = invite.callId ?? "";
              this.log = this.log.child({ bCallId: leg.callId });
            },
          },
        );
      } catch (err) {
        // A media engine that cannot anchor the call is a service failure (503), not a bug (500).
        const status = isSipStatusError(err) ? err.status : err instanceof MediaEngineError ? 503 : 500;
        const reason = isSipStatusError(err)
          ? err.reason
          : err instanceof MediaEngineError
            ? "Service Unavailable"
            : (err as Error).message;
        leg.status = status;
        last = status;
        lastReason = `${status} ${reason}`;
        if (this.req.cancelled || status === 487) return this.finish(487, "caller", "CANCEL");
        // A callee that rang and did not answer is not a trunk failure: ringing it elsewhere is not failover.
        const rangOut = err instanceof NoAnswerError && err.rang;
        if (!isLast && isFailoverStatus(status) && !rangOut) {
          this.log.warn({ trunk: trunk.name, status, reason }, "trunk failed, trying the next");
          continue;
        }
        // A held failure (not the last target), or one before B was tried: A still waits for our answer.
        if (!this.res.finalSent) this.res.send(status, reason);
        this.log.info({ trunk: trunk.name, status, reason }, "call failed");
        return this.finish(status, "callee", lastReason);
      }
      leg.status = 200;
      this.record.answered();
      this.connected(this.legs);
      return;
    }
    return this.finish(last, "callee", lastReason);
  }

  private optionsFor(trunk: TrunkConfig, isLast: boolean): B2buaOptions {
    const media = this.deps.media;
    const opts: B2buaOptions = {
      // Before the last trunk, keep A waiting on a failure so the next trunk can be tried.
      holdFailure: !isLast,
      passFailure: true,
      noAnswerTimeout: trunk.noAnswerTimeout * 1000,
      proxyRequestHeaders: headerRules(this.ctx.inbound, trunk),
      localSdpB: (sdp) => media.offer({ callId: this.callId, sdp, from: "rtp", to: "rtp" }),
      localSdpA: (sdp) => media.answer({ callId: this.callId, sdp, from: "rtp", to: "rtp" }),
    };
    const auth = this.deps.authFor?.(trunk);
    if (auth) opts.auth = auth;
    return opts;
  }

  private connected(legs: { uas: Dialog; uac: Dialog }): void {
    this.state = "connected";
    this.log.info({ bCallId: legs.uac.sip.callId }, "call connected");
    // createB2BUA already ends the other leg; here we only note who hung up and why.
    const ended = (side: HangupBy) => (info: DestroyInfo) => {
      const reason = info.reason === "bye" ? "BYE" : info.reason;
      // A dialog dropped by the gateway closing was not hung up by that side.
      const by: HangupBy = info.reason === "shutdown" ? "gateway" : side;
      this.log.info({ by, reason }, "call ended");
      this.finish(200, by, reason);
    };
    legs.uas.on("destroy", ended("caller"));
    legs.uac.on("destroy", ended("callee"));
  }

  /** Ends the call from the gateway's side (shutdown): BYE on both legs, or 503 to A while B still rings. */
  async hangup(reason = "shutdown"): Promise<void> {
    if (this.ledger.isEnded) return;
    const legs = this.legs;
    if (!legs) {
      // Still ringing: A gets 503; should B answer later, createB2BUA BYEs it since A has failed.
      if (!this.res.finalSent) this.res.send(503, "Service Unavailable");
      this.finish(503, "gateway", reason);
      return;
    }
    this.finish(200, "gateway", reason);
    const headers: [string, string][] = [["Reason", SHUTDOWN_REASON]];
    await Promise.all([
      legs.uas.destroy({ headers }).catch(() => {}),
      legs.uac.destroy({ headers }).catch(() => {}),
    ]);
  }

  get isEnded(): boolean {
    return this.ledger.isEnded;
  }

  /** The single end of the call: permit, media, metrics, CDR (the ledger does each once). */
  private finish(status: number, hangupBy: HangupBy | null, reason: string): void {
    if (!this.ledger.finish({ status, hangupBy, reason }, this.log)) return;
    this.state = "ended";
    this.deps.onEnd?.(this);
  }

  /** For logs and tests: how the call ended. */
  get outcome(): { hangupBy: HangupBy | null; reason: string } {
    const end = this.ledger.outcome;
    return { hangupBy: end?.hangupBy ?? null, reason: end?.reason ?? "" };
  }
}
