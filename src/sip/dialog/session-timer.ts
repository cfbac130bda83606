/**
 * Session timers (RFC 4028): negotiation of Session-Expires / Min-SE /
 * refresher, and the per-dialog timer that either refreshes the session (the
 * refresher, at half the interval) or gives up on it (the other side, BYE at
 * expiry − min(32 s, interval/3)).
 */
import type { HeaderList } from "../builder.js";
import type { SipRequest, SipResponse } from "../message.js";
import type { Clock, TimerHandle } from "../timers.js";

export interface SessionTimerConfig {
  /** Interval we ask for or accept as UAS, in seconds (RFC 4028 recommends 1800). */
  sessionExpires: number;
  /** The smallest interval we accept (never below 90, RFC 4028 §4). */
  minSE: number;
}

export const DEFAULT_SESSION_TIMER: SessionTimerConfig = { sessionExpires: 1800, minSE: 90 };

export type Refresher = "uac" | "uas";

/** A negotiated session timer: the interval and which side of the INVITE refreshes. */
export interface SessionTimerTerms {
  interval: number;
  refresher: Refresher;
}

export type UasNegotiation =
  | { kind: "none" }
  | { kind: "accept"; terms: SessionTimerTerms; responseHeaders: HeaderList }
  | { kind: "reject"; minSE: number };

/**
 * UAS side of §9: a Session-Expires below our Min-SE is refused with 422
 * (carrying Min-SE); otherwise we may lower the interval to our own preference
 * but never below the request's Min-SE. The refresher is the one the UAC
 * named, else the UAC when it supports timers, else us.
 */
export function negotiateAsUas(req: SipRequest, cfg: SessionTimerConfig): UasNegotiation {
  let se: ReturnType<typeof readSessionExpires>;
  try {
    se = readSessionExpires(req);
  } catch {
    // a malformed Session-Expires/Min-SE: no timer rather than a failed call
    return { kind: "none" };
  }
  if (!se) return { kind: "none" };
  const minSE = Math.max(90, cfg.minSE);
  if (se.seconds < minSE) return { kind: "reject", minSE };
  const peerMin = se.peerMin;
  const interval = Math.max(Math.min(se.seconds, cfg.sessionExpires), peerMin, minSE);
  const uacSupports = se.uacSupports;
  const refresher: Refresher = (se.refresher as Refresher | undefined) ?? (uacSupports ? "uac" : "uas");
  const responseHeaders: HeaderList = [["Session-Expires", `${interval};refresher=${refresher}`]];
  // Require: timer only when the UAC understands it (§9).
  if (uacSupports) responseHeaders.push(["Require", "timer"]);
  return { kind: "accept", terms: { interval, refresher }, responseHeaders };
}

function readSessionExpires(req: SipRequest) {
  const se = req.sessionExpires;
  if (!se) return undefined;
  return {
    seconds: se.seconds,
    refresher: se.refresher,
    peerMin: req.minSE ?? 90,
    uacSupports: req.supported.includes("timer") || req.require.includes("timer"),
  };
}

/** Headers a UAC puts on an INVITE (or a refresh) to ask for a session timer. */
export function uacRequestHeaders(cfg: SessionTimerConfig, interval = cfg.sessionExpires): HeaderList {
  return [
    ["Session-Expires", String(interval)],
    ["Min-SE", String(Math.max(90, cfg.minSE))],
  ];
}

/** UAC side of §7.2: the terms the 2xx settled on, or none when the UAS left Session-Expires out. */
export function termsFrom2xx(res: SipResponse): SessionTimerTerms | undefined {
  let se: SipResponse["sessionExpires"];
  try {
    se = res.sessionExpires;
  } catch {
    return undefined; // malformed: treated as absent
  }
  if (!se) return undefined;
  return { interval: se.seconds, refresher: (se.refresher as Refresher | undefined) ?? "uac" };
}

/** §7.4: the interval to retry with after a 422 (its Min-SE, never less than what we asked). */
export function retryIntervalAfter422(res: SipResponse, asked: number): number | undefined {
  let min: number | undefined;
  try {
    min = res.minSE;
  } catch {
    return undefined;
  }
  if (min === undefined || min <= asked) return undefined;
  return min;
}

/** When the non-refresher gives up: expiry − min(32 s, interval/3) (§10), in ms. */
export function expiryDelayMs(interval: number): number {
  return (interval - Math.min(32, interval / 3)) * 1000;
}

/**
 * One dialog's session timer. `weRefresh` tells which role we play; the
 * callbacks do the work (send the refresh, or BYE). `reset` is called on every
 * successful refresh, from either side.
 */
export class SessionTimer {
  private handle: TimerHandle | undefined;
  terms: SessionTimerTerms | undefined;
  weRefresh = false;

  constructor(
    private readonly clock: Clock,
    private readonly onRefreshDue: () => void,
    private readonly onExpired: () => void,
  ) {}

  start(terms: SessionTimerTerms, weRefresh: boolean): void {
    this.stop();
    this.terms = terms;
    this.weRefresh = weRefresh;
    const ms = weRefresh ? (terms.interval * 1000) / 2 : expiryDelayMs(terms.interval);
    this.handle = this.clock.setTimer(ms, () => {
      this.handle = undefined;
      if (this.weRefresh) this.onRefreshDue();
      else this.onExpired();
    });
  }

  get running(): boolean {
    return this.handle !== undefined;
  }

  stop(): void {
    if (this.handle) this.clock.clearTimer(this.handle);
    this.handle = undefined;
  }
}
