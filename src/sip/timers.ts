/**
 * Time as the transaction layer sees it. Every timer goes through a Clock so
 * tests can drive RFC 3261 timers (32 s, 64·T1 …) on fake time, and the timer
 * values come from one place, derived from T1/T2/T4 and transport reliability.
 */

export type TimerHandle = { readonly __timer: unique symbol } | object;

export interface Clock {
  now(): number;
  setTimer(ms: number, fn: () => void): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

/** Real time. Timers are unref'd: a pending Timer D must not keep a finished process alive. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimer(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};

interface FakeTimer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** Manual time for tests: nothing fires until `advance` moves the clock past it. */
export class FakeClock implements Clock {
  private time = 0;
  private seq = 0;
  private timers: FakeTimer[] = [];

  now(): number {
    return this.time;
  }

  setTimer(ms: number, fn: () => void): TimerHandle {
    const t: FakeTimer = { at: this.time + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.timers.push(t);
    return t;
  }

  clearTimer(handle: TimerHandle): void {
    (handle as FakeTimer).cancelled = true;
  }

  /** Timers not yet fired or cancelled. */
  get pending(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /** Moves time forward by `ms`, firing due timers in time order (ties in creation order). */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      this.timers = this.timers.filter((t) => !t.cancelled);
      let next: FakeTimer | undefined;
      for (const t of this.timers) {
        if (t.at <= end && (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t;
      }
      if (!next) break;
      this.time = next.at;
      next.cancelled = true;
      next.fn();
    }
    this.time = end;
  }
}

/** RFC 3261 §17 base values in milliseconds. */
export interface TimerBase {
  /** RTT estimate (default 500 ms). */
  t1: number;
  /** Maximum retransmit interval for non-INVITE requests and INVITE responses (default 4 s). */
  t2: number;
  /** Maximum time a message stays in the network (default 5 s). */
  t4: number;
}

export const DEFAULT_TIMER_BASE: TimerBase = { t1: 500, t2: 4000, t4: 5000 };

/**
 * The timer table (reference note §3). Retransmit timers (A, E, G) exist only
 * on unreliable transports; the "absorb retransmissions" waits (D, I, J, K)
 * are zero on reliable ones.
 */
export class TimerValues {
  constructor(readonly base: TimerBase = DEFAULT_TIMER_BASE) {}

  get t1(): number {
    return this.base.t1;
  }
  get t2(): number {
    return this.base.t2;
  }
  /** 64·T1: B, F, H, L, M and the J wait. */
  get transactionTimeout(): number {
    return 64 * this.base.t1;
  }
  /** Timer D: ≥ 32 s on UDP with default T1 (we use 64·T1 so it scales with T1). */
  timerD(reliable: boolean): number {
    return reliable ? 0 : 64 * this.base.t1;
  }
  timerI(reliable: boolean): number {
    return reliable ? 0 : this.base.t4;
  }
  timerJ(reliable: boolean): number {
    return reliable ? 0 : 64 * this.base.t1;
  }
  timerK(reliable: boolean): number {
    return reliable ? 0 : this.base.t4;
  }
  /** Next interval for E and G: doubling, capped at T2. */
  nextCapped(current: number): number {
    return Math.min(current * 2, this.base.t2);
  }
}
