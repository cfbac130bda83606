import { describe, expect, it, vi } from "vitest";
import type { SipRequest } from "../../src/sip/message.js";
import { InviteClientTransaction } from "../../src/sip/transaction/invite-client.js";
import { harness, invite, response, times } from "../support/tx-harness.js";

function start(reliable: boolean) {
  const h = harness(reliable);
  const user = { onResponse: vi.fn(), onTimeout: vi.fn(), onTransportError: vi.fn(), onTerminated: vi.fn() };
  const req = invite();
  const tx = new InviteClientTransaction("k", h.ctx, h.counters, req, user);
  tx.start();
  return { h, user, req, tx };
}

const isInvite = (m: { isRequest: boolean }) => m.isRequest && (m as SipRequest).method === "INVITE";
const isAck = (m: { isRequest: boolean }) => m.isRequest && (m as SipRequest).method === "ACK";

describe("INVITE client transaction (RFC 3261 §17.1.1, RFC 6026)", () => {
  it("retransmits with Timer A doubling without cap and gives up at Timer B = 64·T1 on UDP", () => {
    const { h, user, tx } = start(false);
    h.clock.advance(40_000);
    expect(times(h, isInvite)).toEqual([0, 500, 1500, 3500, 7500, 15500, 31500]);
    expect(user.onTimeout).toHaveBeenCalledOnce();
    expect(tx.state).toBe("terminated");
    expect(tx.terminationReason).toBe("timeout");
    expect(h.terminated).toEqual([tx]);
    expect(h.counters.requestRetransmits).toBe(6);
    expect(h.clock.pending).toBe(0);
  });

  it("does not retransmit on a reliable transport but still times out at 32 s", () => {
    const { h, user } = start(true);
    h.clock.advance(31_999);
    expect(user.onTimeout).not.toHaveBeenCalled();
    h.clock.advance(1);
    expect(times(h, isInvite)).toEqual([0]);
    expect(user.onTimeout).toHaveBeenCalledOnce();
  });

  it("stops A and B on a provisional response and passes it up", () => {
    const { h, user, req, tx } = start(false);
    h.clock.advance(600);
    tx.receiveResponse(response(req, 180));
    expect(tx.state).toBe("proceeding");
    h.clock.advance(60_000);
    expect(times(h, isInvite)).toEqual([0, 500]);
    expect(user.onResponse).toHaveBeenCalledOnce();
    expect(user.onTimeout).not.toHaveBeenCalled();
  });

  it("ACKs a 3xx–6xx with the INVITE's branch, re-ACKs retransmissions, and ends after Timer D", () => {
    const { h, user, req, tx } = start(false);
    const busy = response(req, 486);
    tx.receiveResponse(busy);
    expect(tx.state).toBe("completed");
    const acks = h.sent.filter((s) => isAck(s.msg)).map((s) => s.msg as SipRequest);
    expect(acks).toHaveLength(1);
    expect(acks[0]!.topVia!.params.branch).toBe("z9hG4bKtest1");
    expect(acks[0]!.to!.params.tag).toBe("b1");
    expect(acks[0]!.cseq).toEqual({ seq: 1, method: "ACK" });
    expect(acks[0]!.uriText).toBe(req.uriText);
    tx.receiveResponse(response(req, 486));
    expect(times(h, isAck)).toHaveLength(2);
    expect(user.onResponse).toHaveBeenCalledOnce(); // the retransmission is absorbed
    h.clock.advance(31_999);
    expect(tx.state).toBe("completed");
    h.clock.advance(1);
    expect(tx.state).toBe("terminated");
    expect(tx.terminationReason).toBe("normal");
    expect(user.onTimeout).not.toHaveBeenCalled();
  });

  it("has Timer D = 0 on reliable transports", () => {
    const { req, tx } = start(true);
    tx.receiveResponse(response(req, 404));
    expect(tx.state).toBe("terminated");
  });

  it("enters Accepted on 2xx, passes 2xx retransmissions up (re-sending the TU's ACK), ends after Timer M", () => {
    const { h, user, req, tx } = start(false);
    const resendAck = vi.fn();
    tx.receiveResponse(response(req, 200));
    expect(tx.state).toBe("accepted");
    tx.sentAck2xx = resendAck;
    tx.receiveResponse(response(req, 200));
    expect(user.onResponse).toHaveBeenCalledTimes(2);
    expect(resendAck).toHaveBeenCalledOnce();
    expect(times(h, isAck)).toEqual([]); // the transaction itself never ACKs a 2xx
    tx.receiveResponse(response(req, 180)); // late provisional: absorbed
    expect(user.onResponse).toHaveBeenCalledTimes(2);
    h.clock.advance(32_000);
    expect(tx.state).toBe("terminated");
    expect(h.clock.pending).toBe(0);
  });

  it("terminates with a transport error", async () => {
    const h = harness(false);
    h.failNextSend();
    const user = { onResponse: vi.fn(), onTransportError: vi.fn(), onTerminated: vi.fn() };
    const tx = new InviteClientTransaction("k", h.ctx, h.counters, invite(), user);
    tx.start();
    await Promise.resolve();
    expect(tx.state).toBe("terminated");
    expect(user.onTransportError).toHaveBeenCalledOnce();
    expect(user.onTerminated).toHaveBeenCalledWith("transport-error");
    expect(h.clock.pending).toBe(0);
  });

  it("reports a TU callback that throws from a timer instead of crashing", () => {
    const h = harness(false);
    const errors: unknown[] = [];
    h.ctx.onCallbackError = (err) => errors.push(err);
    const user = {
      onResponse: vi.fn(),
      onTimeout: () => {
        throw new Error("TU bug");
      },
    };
    const tx = new InviteClientTransaction("k", h.ctx, h.counters, invite(), user);
    tx.start();
    expect(() => h.clock.advance(32_000)).not.toThrow();
    expect(tx.state).toBe("terminated");
    expect(h.terminated).toEqual([tx]);
    expect(errors).toHaveLength(1);
  });
});
