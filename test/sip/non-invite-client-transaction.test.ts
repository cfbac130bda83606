import { describe, expect, it, vi } from "vitest";
import type { SipRequest } from "../../src/sip/message.js";
import { NonInviteClientTransaction } from "../../src/sip/transaction/non-invite-client.js";
import { harness, invite, response, times } from "../support/tx-harness.js";

function start(reliable: boolean) {
  const h = harness(reliable);
  const user = { onResponse: vi.fn(), onTimeout: vi.fn(), onTerminated: vi.fn() };
  const req = invite("z9hG4bKopt", "OPTIONS");
  const tx = new NonInviteClientTransaction("k", h.ctx, h.counters, req, user);
  tx.start();
  return { h, user, req, tx };
}

const isOptions = (m: { isRequest: boolean }) => m.isRequest && (m as SipRequest).method === "OPTIONS";

describe("non-INVITE client transaction (RFC 3261 §17.1.2)", () => {
  it("retransmits with Timer E doubling up to T2 and times out with Timer F", () => {
    const { h, user, tx } = start(false);
    h.clock.advance(40_000);
    expect(times(h, isOptions)).toEqual([0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    expect(user.onTimeout).toHaveBeenCalledOnce();
    expect(tx.state).toBe("terminated");
  });

  it("retransmits every T2 once Proceeding", () => {
    const { h, req, tx } = start(false);
    h.clock.advance(100);
    tx.receiveResponse(response(req, 100));
    expect(tx.state).toBe("proceeding");
    h.clock.advance(12_000);
    // E was armed at 500 ms before the 100; it fires then and is re-armed at T2.
    expect(times(h, isOptions)).toEqual([0, 500, 4500, 8500]);
  });

  it("waits Timer K = T4 in Completed on UDP, absorbing response retransmissions", () => {
    const { h, user, req, tx } = start(false);
    tx.receiveResponse(response(req, 200));
    tx.receiveResponse(response(req, 200));
    expect(user.onResponse).toHaveBeenCalledOnce();
    expect(h.counters.absorbed).toBe(1);
    h.clock.advance(4_999);
    expect(tx.state).toBe("completed");
    h.clock.advance(1);
    expect(tx.state).toBe("terminated");
    expect(user.onTimeout).not.toHaveBeenCalled();
    expect(h.clock.pending).toBe(0);
  });

  it("has no Timer E and K = 0 on reliable transports", () => {
    const { h, req, tx } = start(true);
    h.clock.advance(10_000);
    expect(times(h, isOptions)).toEqual([0]);
    tx.receiveResponse(response(req, 404));
    expect(tx.state).toBe("terminated");
  });
});
