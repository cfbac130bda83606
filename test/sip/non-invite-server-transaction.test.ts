import { describe, expect, it } from "vitest";
import type { SipResponse } from "../../src/sip/message.js";
import { NonInviteServerTransaction } from "../../src/sip/transaction/non-invite-server.js";
import { harness, invite, times } from "../support/tx-harness.js";

function start(reliable: boolean) {
  const h = harness(reliable);
  const req = invite("z9hG4bKbye", "BYE");
  const tx = new NonInviteServerTransaction("k", h.ctx, h.counters, req, h.ctx.destination);
  return { h, req, tx };
}

const status = (n: number) => (m: { isRequest: boolean }) => !m.isRequest && (m as SipResponse).status === n;

describe("non-INVITE server transaction (RFC 3261 §17.2.2)", () => {
  it("absorbs retransmissions in Trying, answers them with the provisional in Proceeding", () => {
    const { h, req, tx } = start(false);
    tx.receiveRequest(req);
    expect(h.sent).toHaveLength(0);
    expect(h.counters.absorbed).toBe(1);
    tx.reply(100);
    tx.receiveRequest(req);
    expect(times(h, status(100))).toEqual([0, 0]);
  });

  it("answers retransmissions with the final response during Timer J = 64·T1 on UDP", () => {
    const { h, req, tx } = start(false);
    tx.reply(200);
    h.clock.advance(10_000);
    tx.receiveRequest(req);
    expect(times(h, status(200))).toEqual([0, 10_000]);
    expect(tx.reply(500)).toBe(false);
    h.clock.advance(21_999);
    expect(tx.state).toBe("completed");
    h.clock.advance(1);
    expect(tx.state).toBe("terminated");
    expect(h.terminated).toEqual([tx]);
  });

  it("terminates at once after the final response on reliable transports (J = 0)", () => {
    const { h, tx } = start(true);
    tx.reply(200);
    expect(tx.state).toBe("terminated");
    expect(h.clock.pending).toBe(0);
  });
});
