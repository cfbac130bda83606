import { describe, expect, it, vi } from "vitest";
import type { SipResponse } from "../../src/sip/message.js";
import { InviteServerTransaction } from "../../src/sip/transaction/invite-server.js";
import { harness, invite, times } from "../support/tx-harness.js";

function start(reliable: boolean, tryingDelayMs = 200) {
  const h = harness(reliable);
  const req = invite();
  const tx = new InviteServerTransaction("k", h.ctx, h.counters, req, h.ctx.destination, { tryingDelayMs });
  tx.start();
  return { h, req, tx };
}

const status = (n: number) => (m: { isRequest: boolean }) => !m.isRequest && (m as SipResponse).status === n;
const ack = () => invite("z9hG4bKtest1", "ACK");

describe("INVITE server transaction (RFC 3261 §17.2.1, RFC 6026)", () => {
  it("sends 100 Trying when the TU is slower than 200 ms", () => {
    const { h, tx } = start(false);
    h.clock.advance(199);
    expect(h.sent).toHaveLength(0);
    h.clock.advance(1);
    expect(times(h, status(100))).toEqual([200]);
    tx.reply(180);
    expect(times(h, status(180))).toEqual([200]);
  });

  it("sends no 100 when the TU answers within 200 ms, at once when configured, never when disabled", () => {
    const fast = start(false);
    fast.h.clock.advance(50);
    fast.tx.reply(200);
    fast.h.clock.advance(500);
    expect(times(fast.h, status(100))).toEqual([]);
    const eager = start(false, 0);
    expect(times(eager.h, status(100))).toEqual([0]);
    const never = start(false, -1);
    never.h.clock.advance(5_000);
    expect(never.h.sent).toHaveLength(0);
  });

  it("answers a retransmitted INVITE with the last provisional response", () => {
    const { h, req, tx } = start(false);
    tx.reply(180);
    tx.receiveRequest(req);
    expect(times(h, status(180))).toEqual([0, 0]);
    expect(h.counters.responseRetransmits).toBe(1);
  });

  it("retransmits 3xx–6xx with Timer G (capped at T2) and times out with Timer H without ACK", () => {
    const { h, tx } = start(false);
    const onTimeout = vi.fn();
    tx.onTimeout = onTimeout;
    tx.reply(486);
    expect(tx.state).toBe("completed");
    h.clock.advance(40_000);
    expect(times(h, status(486))).toEqual([
      0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500,
    ]);
    expect(onTimeout).toHaveBeenCalledOnce();
    expect(tx.terminationReason).toBe("timeout");
  });

  it("moves to Confirmed on ACK, absorbs ACK retransmits for Timer I = T4, then terminates", () => {
    const { h, req, tx } = start(false);
    tx.reply(603);
    h.clock.advance(700);
    tx.receiveRequest(ack());
    expect(tx.state).toBe("confirmed");
    tx.receiveRequest(ack());
    tx.receiveRequest(req); // late INVITE retransmission: absorbed in Confirmed
    expect(times(h, status(603))).toEqual([0, 500]);
    h.clock.advance(4_999);
    expect(tx.state).toBe("confirmed");
    h.clock.advance(1);
    expect(tx.state).toBe("terminated");
    expect(h.clock.pending).toBe(0);
  });

  it("re-sends the final response when the INVITE is retransmitted in Completed", () => {
    const { h, req, tx } = start(false);
    tx.reply(404);
    tx.receiveRequest(req);
    expect(times(h, status(404))).toEqual([0, 0]);
  });

  it("goes to Accepted on 2xx: absorbs INVITE retransmits, passes TU 2xx retransmits, ends after Timer L", () => {
    const { h, req, tx } = start(false);
    const accepted = vi.fn();
    tx.onAccepted = accepted;
    tx.reply(200);
    expect(tx.state).toBe("accepted");
    expect(accepted).toHaveBeenCalledOnce();
    tx.receiveRequest(req);
    expect(times(h, status(200))).toEqual([0]);
    expect(tx.reply(200)).toBe(true);
    expect(tx.reply(486)).toBe(false);
    expect(times(h, status(200))).toEqual([0, 0]);
    h.clock.advance(31_999);
    expect(tx.state).toBe("accepted");
    h.clock.advance(1);
    expect(tx.state).toBe("terminated");
    expect(tx.terminationReason).toBe("normal");
  });

  it("uses the same To tag on every response and keeps a tag the request already had", () => {
    const { h, tx } = start(false);
    tx.reply(180);
    tx.reply(200);
    const tags = h.sent.map((s) => s.msg.to!.params.tag);
    expect(tags[0]).toBeTruthy();
    expect(tags[0]).toBe(tags[1]);
  });

  it("on a reliable transport: no Timer G, Timer I = 0", () => {
    const { h, tx } = start(true);
    tx.reply(500);
    h.clock.advance(10_000);
    expect(times(h, status(500))).toEqual([0]);
    tx.receiveRequest(ack());
    expect(tx.state).toBe("terminated");
  });

  it("refuses responses in states that do not take them, without throwing", () => {
    const { tx } = start(false);
    tx.reply(404);
    expect(tx.reply(200)).toBe(false);
    tx.terminate("shutdown");
    expect(tx.reply(200)).toBe(false);
  });
});
