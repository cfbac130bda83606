import { describe, expect, it, vi } from "vitest";
import { FakeClock, TimerValues } from "../../src/sip/timers.js";
import { Uas2xxRetransmitter } from "../../src/sip/transaction/uas-2xx-retransmitter.js";

describe("UAS 2xx retransmission (RFC 3261 §13.3.1.4)", () => {
  it("retransmits at T1 doubling to T2 and gives up at 64·T1", () => {
    const clock = new FakeClock();
    const r = new Uas2xxRetransmitter(clock, new TimerValues());
    const at: number[] = [];
    const giveUp = vi.fn();
    r.start(
      "c",
      "t",
      1,
      () => {
        at.push(clock.now());
        return true;
      },
      giveUp,
    );
    clock.advance(40_000);
    expect(at).toEqual([500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    expect(giveUp).toHaveBeenCalledOnce();
    expect(r.size).toBe(0);
  });

  it("stops on the ACK with the right CSeq, or on a later request in the dialog", () => {
    const clock = new FakeClock();
    const r = new Uas2xxRetransmitter(clock, new TimerValues());
    const resend = vi.fn(() => true);
    r.start("c", "t", 5, resend, () => {});
    expect(r.ack("c", "t", 4)).toBe(false);
    expect(r.ack("c", "other", 5)).toBe(false);
    expect(r.ack("c", "t", 5)).toBe(true);
    clock.advance(10_000);
    expect(resend).not.toHaveBeenCalled();
    r.start("c2", "t", 1, resend, () => {});
    expect(r.dialogConfirmed("c2", "t")).toBe(true);
    expect(clock.pending).toBe(0);
  });
});
