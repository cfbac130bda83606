/**
 * The UAS core's duty of RFC 3261 §13.3.1.4 (with RFC 6026): over UDP a 2xx to
 * INVITE is retransmitted (T1 doubling to T2) until the ACK arrives or 64·T1
 * passes. It lives beside the transactions because the ACK of a 2xx matches no
 * transaction; entries are keyed by Call-ID and local tag, and the ACK must
 * also carry the INVITE's CSeq number.
 */
import type { Clock, TimerHandle, TimerValues } from "../timers.js";

interface Pending {
  seq: number;
  interval: number;
  deadline: number;
  timer: TimerHandle;
  resend: () => boolean;
  onGiveUp: () => void;
}

export class Uas2xxRetransmitter {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly clock: Clock,
    private readonly timers: TimerValues,
  ) {}

  get size(): number {
    return this.pending.size;
  }

  private static key(callId: string, localTag: string): string {
    return `${callId}\x00${localTag}`;
  }

  /**
   * `resend` retransmits and returns false when it no longer can (transaction
   * gone); `onGiveUp` runs when 64·T1 passes without ACK.
   */
  start(callId: string, localTag: string, seq: number, resend: () => boolean, onGiveUp: () => void): void {
    const key = Uas2xxRetransmitter.key(callId, localTag);
    this.stop(key);
    const interval = this.timers.t1;
    const entry: Pending = {
      seq,
      interval,
      deadline: this.clock.now() + this.timers.transactionTimeout,
      timer: this.clock.setTimer(interval, () => this.fire(key)),
      resend,
      onGiveUp,
    };
    this.pending.set(key, entry);
  }

  private fire(key: string): void {
    const entry = this.pending.get(key);
    if (!entry) return;
    if (this.clock.now() >= entry.deadline || !entry.resend()) {
      this.pending.delete(key);
      if (this.clock.now() >= entry.deadline) entry.onGiveUp();
      return;
    }
    entry.interval = Math.min(entry.interval * 2, this.timers.t2);
    const wait = Math.min(entry.interval, Math.max(0, entry.deadline - this.clock.now()));
    entry.timer = this.clock.setTimer(wait, () => this.fire(key));
  }

  private stop(key: string): boolean {
    const entry = this.pending.get(key);
    if (!entry) return false;
    this.clock.clearTimer(entry.timer);
    this.pending.delete(key);
    return true;
  }

  /** An ACK arrived: stops the matching retransmission. True when one was waiting. */
  ack(callId: string, localTag: string, seq: number): boolean {
    const key = Uas2xxRetransmitter.key(callId, localTag);
    const entry = this.pending.get(key);
    if (!entry || entry.seq !== seq) return false;
    return this.stop(key);
  }

  /** Any later request in the dialog (BYE …) proves the 2xx arrived. */
  dialogConfirmed(callId: string, localTag: string): boolean {
    return this.stop(Uas2xxRetransmitter.key(callId, localTag));
  }

  clear(): void {
    for (const entry of this.pending.values()) this.clock.clearTimer(entry.timer);
    this.pending.clear();
  }
}
