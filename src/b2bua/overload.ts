/**
 * Overload control: limits on concurrent calls and on new calls per second,
 * gateway-wide and per trunk. Over a limit a call is refused with 503 and a
 * Retry-After; emergency calls are never refused (they still count as active,
 * since they occupy the same resources).
 */
import type { GatewayConfig, Limits } from "../config/index.js";

/** Which limit refused a call. */
export type OverloadLimit = "maxCalls" | "callsPerSecond";

export type Admission =
  | { accepted: true; permit: CallPermit }
  | {
      accepted: false;
      status: 503;
      /** Seconds, for the Retry-After header. */
      retryAfter: number;
      limit: OverloadLimit;
      /** "global" or the trunk's name. */
      scope: string;
    };

/** A refusal as a typed error, for callers that prefer to throw. */
export class OverloadError extends Error {
  override readonly name = "OverloadError";
  readonly status = 503;
  constructor(
    readonly retryAfter: number,
    readonly limit: OverloadLimit,
    readonly scope: string,
  ) {
    super(`${scope} ${limit} limit reached; retry after ${retryAfter}s`);
  }
}

/** Held for the life of an admitted call; release it once when the call ends. */
export interface CallPermit {
  readonly emergency: boolean;
  release(): void;
}

/**
 * A token bucket: `rate` tokens per second, holding at most `burst` (default:
 * one second's worth, at least 1), so a quiet gateway may take a short burst.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly rate: number,
    readonly burst: number,
    private readonly now: () => number,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  private refill(): void {
    const t = this.now();
    if (t > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.rate);
      this.last = t;
    }
  }

  /** True if a token is available now (without taking it). */
  available(): boolean {
    this.refill();
    return this.tokens >= 1;
  }

  take(): void {
    this.refill();
    this.tokens -= 1;
  }

  /** Whole seconds until a token is available (at least 1). */
  secondsUntilToken(): number {
    this.refill();
    return Math.max(1, Math.ceil((1 - this.tokens) / this.rate));
  }
}

interface Scope {
  name: string;
  limits: Limits;
  active: number;
  bucket?: TokenBucket | undefined;
}

export interface OverloadOptions {
  global: Limits;
  /** Per-trunk limits by trunk name. */
  trunks?: ReadonlyArray<{ name: string; limits: Limits }>;
  /** Retry-After (seconds) when a concurrent-call limit refuses. Default 5. */
  busyRetryAfter?: number;
  /** Milliseconds; injectable for tests. */
  now?: () => number;
}

export interface AdmitRequest {
  /** The trunks the call uses (inbound, outbound); each one's limits apply. */
  trunks?: readonly string[];
  /** Apply the gateway-wide limits too. Default true; false when admitting a failover leg alone. */
  global?: boolean;
  emergency?: boolean;
}

export class OverloadController {
  private readonly global: Scope;
  private readonly trunks = new Map<string, Scope>();
  private readonly busyRetryAfter: number;
  private readonly now: () => number;

  constructor(opts: OverloadOptions) {
    this.now = opts.now ?? (() => performance.now());
    this.busyRetryAfter = opts.busyRetryAfter ?? 5;
    this.global = this.scope("global", opts.global);
    for (const t of opts.trunks ?? []) this.trunks.set(t.name, this.scope(t.name, t.limits));
  }

  /** The limits of a loaded configuration: `limits` gateway-wide, `trunks[].limits` per trunk. */
  static fromConfig(
    config: Pick<GatewayConfig, "limits" | "trunks">,
    opts: Pick<OverloadOptions, "busyRetryAfter" | "now"> = {},
  ): OverloadController {
    return new OverloadController({
      global: config.limits,
      trunks: config.trunks.map((t) => ({ name: t.name, limits: t.limits })),
      ...opts,
    });
  }

  private scope(name: string, limits: Limits): Scope {
    const rate = limits.callsPerSecond;
    return {
      name,
      limits,
      active: 0,
      bucket: rate === undefined ? undefined : new TokenBucket(rate, Math.max(1, rate), this.now),
    };
  }

  /**
   * Admits a new call or says why not. Every limit is checked before any is
   * charged, so a call refused by one trunk does not use up the gateway's rate.
   */
  admit(req: AdmitRequest = {}): Admission {
    const scopes: Scope[] = req.global === false ? [] : [this.global];
    for (const name of req.trunks ?? []) {
      const s = this.trunks.get(name);
      if (s && !scopes.includes(s)) scopes.push(s);
    }
    const emergency = req.emergency === true;
    if (!emergency) {
      for (const s of scopes) {
        if (s.limits.maxCalls !== undefined && s.active >= s.limits.maxCalls)
          return {
            accepted: false,
            status: 503,
            retryAfter: this.busyRetryAfter,
            limit: "maxCalls",
            scope: s.name,
          };
        if (s.bucket && !s.bucket.available())
          return {
            accepted: false,
            status: 503,
            retryAfter: s.bucket.secondsUntilToken(),
            limit: "callsPerSecond",
            scope: s.name,
          };
      }
    }
    for (const s of scopes) {
      s.active++;
      // An emergency call takes a token only if one is there: it must not push others into a deficit forever.
      if (s.bucket && (!emergency || s.bucket.available())) s.bucket.take();
    }
    let released = false;
    return {
      accepted: true,
      permit: {
        emergency,
        release: () => {
          if (released) return;
          released = true;
          for (const s of scopes) s.active--;
        },
      },
    };
  }

  /** Like `admit`, but throws OverloadError on refusal. */
  acquire(req: AdmitRequest = {}): CallPermit {
    const a = this.admit(req);
    if (!a.accepted) throw new OverloadError(a.retryAfter, a.limit, a.scope);
    return a.permit;
  }

  /** Calls currently admitted, gateway-wide or on one trunk. */
  active(trunk?: string): number {
    return trunk === undefined ? this.global.active : (this.trunks.get(trunk)?.active ?? 0);
  }
}
