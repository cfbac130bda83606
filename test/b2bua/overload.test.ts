import { describe, expect, it } from "vitest";
import { type Admission, OverloadController, OverloadError, TokenBucket } from "../../src/b2bua/overload.js";

function fakeClock(start = 1_000_000) {
  let t = start;
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

function accepted(a: Admission) {
  if (!a.accepted) throw new Error(`refused: ${a.scope} ${a.limit}`);
  return a.permit;
}

describe("TokenBucket", () => {
  it("refills at its rate up to its burst", () => {
    const clock = fakeClock();
    const b = new TokenBucket(2, 2, clock.now);
    b.take();
    b.take();
    expect(b.available()).toBe(false);
    expect(b.secondsUntilToken()).toBe(1);
    clock.advance(499);
    expect(b.available()).toBe(false);
    clock.advance(1);
    expect(b.available()).toBe(true);
    clock.advance(60_000);
    b.take();
    b.take();
    expect(b.available()).toBe(false);
  });

  it("gives a Retry-After of several seconds at slow rates", () => {
    const clock = fakeClock();
    const b = new TokenBucket(0.2, 1, clock.now);
    b.take();
    expect(b.secondsUntilToken()).toBe(5);
    clock.advance(2_000);
    expect(b.secondsUntilToken()).toBe(3);
  });
});

describe("OverloadController", () => {
  it("limits concurrent calls gateway-wide and frees them on release", () => {
    const c = new OverloadController({ global: { maxCalls: 2 }, now: fakeClock().now });
    const p1 = accepted(c.admit());
    accepted(c.admit());
    expect(c.admit()).toEqual({
      accepted: false,
      status: 503,
      retryAfter: 5,
      limit: "maxCalls",
      scope: "global",
    });
    p1.release();
    p1.release(); // idempotent: must not free a second slot
    expect(c.active()).toBe(1);
    accepted(c.admit());
    expect(c.admit().accepted).toBe(false);
  });

  it("limits calls per second with a token bucket on the injected clock", () => {
    const clock = fakeClock();
    const c = new OverloadController({ global: { callsPerSecond: 2 }, now: clock.now });
    accepted(c.admit()).release();
    accepted(c.admit()).release();
    const refused = c.admit();
    expect(refused).toMatchObject({ accepted: false, status: 503, limit: "callsPerSecond", retryAfter: 1 });
    clock.advance(500);
    accepted(c.admit());
    expect(c.admit().accepted).toBe(false);
    clock.advance(1_000);
    accepted(c.admit());
    accepted(c.admit());
    expect(c.admit().accepted).toBe(false);
  });

  it("applies per-trunk limits only to that trunk's calls", () => {
    const clock = fakeClock();
    const c = new OverloadController({
      global: {},
      trunks: [
        { name: "a", limits: { maxCalls: 1 } },
        { name: "b", limits: { callsPerSecond: 1 } },
      ],
      now: clock.now,
    });
    accepted(c.admit({ trunks: ["a"] }));
    expect(c.admit({ trunks: ["a"] })).toMatchObject({ accepted: false, scope: "a", limit: "maxCalls" });
    accepted(c.admit({ trunks: ["b"] }));
    expect(c.admit({ trunks: ["b"] })).toMatchObject({
      accepted: false,
      scope: "b",
      limit: "callsPerSecond",
    });
    accepted(c.admit({ trunks: ["other"] }));
    accepted(c.admit());
    expect(c.active("a")).toBe(1);
    expect(c.active()).toBe(4);
  });

  it("does not charge the gateway's rate for a call a trunk refuses", () => {
    const clock = fakeClock();
    const c = new OverloadController({
      global: { callsPerSecond: 1 },
      trunks: [{ name: "a", limits: { maxCalls: 0 as unknown as number } }],
      now: clock.now,
    });
    expect(c.admit({ trunks: ["a"] })).toMatchObject({ accepted: false, scope: "a" });
    accepted(c.admit({ trunks: ["b"] }));
  });

  it("never refuses an emergency call, and still counts it", () => {
    const clock = fakeClock();
    const c = new OverloadController({
      global: { maxCalls: 1, callsPerSecond: 1 },
      trunks: [{ name: "a", limits: { maxCalls: 1, callsPerSecond: 1 } }],
      now: clock.now,
    });
    accepted(c.admit({ trunks: ["a"] }));
    expect(c.admit({ trunks: ["a"] }).accepted).toBe(false);
    const permits = [1, 2, 3].map(() => accepted(c.admit({ trunks: ["a"], emergency: true })));
    expect(permits[0]!.emergency).toBe(true);
    expect(c.active()).toBe(4);
    expect(c.active("a")).toBe(4);
    for (const p of permits) p.release();
    expect(c.active()).toBe(1);
  });

  it("throws OverloadError carrying 503 and Retry-After from acquire()", () => {
    const c = new OverloadController({ global: { maxCalls: 1 }, busyRetryAfter: 7, now: fakeClock().now });
    c.acquire();
    try {
      c.acquire();
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(OverloadError);
      expect(err).toMatchObject({ status: 503, retryAfter: 7, limit: "maxCalls", scope: "global" });
    }
  });

  it("admits a failover leg against its trunk alone", () => {
    const c = new OverloadController({
      global: { maxCalls: 1 },
      trunks: [{ name: "b", limits: { maxCalls: 5 } }],
      now: fakeClock().now,
    });
    accepted(c.admit());
    expect(c.admit().accepted).toBe(false);
    accepted(c.admit({ trunks: ["b"], global: false }));
    expect(c.active("b")).toBe(1);
  });
});

describe("OverloadController.fromConfig", () => {
  it("takes the gateway-wide and per-trunk limits of a loaded configuration", async () => {
    const { parseConfig } = await import("../../src/config/index.js");
    const config = parseConfig(
      "limits: { maxCalls: 3 }\ntrunks:\n  - name: a\n    address: 127.0.0.1:5080\n    limits: { maxCalls: 1 }\n",
      "o.yaml",
      { env: {} },
    );
    const c = OverloadController.fromConfig(config, { now: fakeClock().now });
    accepted(c.admit({ trunks: ["a"] }));
    expect(c.admit({ trunks: ["a"] })).toMatchObject({ accepted: false, scope: "a" });
    accepted(c.admit());
    accepted(c.admit());
    expect(c.admit()).toMatchObject({ accepted: false, scope: "global" });
  });
});
