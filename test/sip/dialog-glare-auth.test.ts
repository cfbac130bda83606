/**
 * Glare (RFC 3261 §14: 491 and the retry delays), digest retry as a client
 * (401/407 → one retry through the hook: same Call-ID, CSeq + 1, new branch),
 * the middleware pipeline and the B2BUA header rules.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { copyHeaders, headerPasses } from "../../src/sip/app/header-rules.js";
import { createRequest } from "../../src/sip/builder.js";
import type { Credentials } from "../../src/sip/dialog/auth-retry.js";
import type { Dialog } from "../../src/sip/dialog/dialog.js";
import { glareRetryDelayMs } from "../../src/sip/dialog/glare.js";
import type { SrfRequest, SrfResponse } from "../../src/sip/dialog/request-response.js";
import type { SipRequest, SipResponse } from "../../src/sip/message.js";
import type { FakeClock } from "../../src/sip/timers.js";
import { newClock, type Peer, SDP_A, SDP_B, SDP_C, settle, startPeer } from "../support/dialog-peers.js";
import { waitFor } from "../support/wait.js";

describe("glare retry delay (§14.1)", () => {
  it("owner of the Call-ID waits 2.1–4 s, the other side 0–2 s, in 10 ms steps", () => {
    expect(glareRetryDelayMs(true, () => 0)).toBe(2100);
    expect(glareRetryDelayMs(true, () => 0.999999)).toBe(4000);
    expect(glareRetryDelayMs(false, () => 0)).toBe(0);
    expect(glareRetryDelayMs(false, () => 0.999999)).toBe(2000);
    for (let i = 0; i < 200; i++) {
      const own = glareRetryDelayMs(true);
      const other = glareRetryDelayMs(false);
      expect(own).toBeGreaterThanOrEqual(2100);
      expect(own).toBeLessThanOrEqual(4000);
      expect(other).toBeGreaterThanOrEqual(0);
      expect(other).toBeLessThanOrEqual(2000);
      expect(own % 10).toBe(0);
    }
  });
});

describe("between two of our stacks", () => {
  let clock: FakeClock;
  let a: Peer;
  let b: Peer;
  let uas: Dialog | undefined;

  beforeEach(async () => {
    clock = newClock();
    // the Call-ID owner (a) draws 0.5 → 3050 ms, the other side (b) 0.25 → 500 ms
    a = await startPeer(clock, { random: () => 0.5 });
    b = await startPeer(clock, { random: () => 0.25 });
    uas = undefined;
  });
  afterEach(async () => {
    await a.stack.close();
    await b.stack.close();
  });

  async function call(): Promise<Dialog> {
    b.srf.invite(async (req, res) => {
      uas = await b.srf.createUAS(req, res, { localSdp: SDP_B });
    });
    const uac = await a.srf.createUAC(b.uri(), { localSdp: SDP_A });
    await waitFor(() => uas !== undefined && b.stack.counts().pending2xx === 0, 1000);
    return uac;
  }

  it("crossing re-INVITEs both get 491; each side retries after its own delay", async () => {
    const uac = await call();
    const times: Array<[string, number]> = [];
    uac.on("modify", (_req: SrfRequest, res: SrfResponse) => {
      times.push(["at-uac", clock.now()]);
      res.send(200, { body: SDP_A });
    });
    uas!.on("modify", (_req: SrfRequest, res: SrfResponse) => {
      times.push(["at-uas", clock.now()]);
      res.send(200, { body: SDP_B });
    });
    const p1 = uac.modify(SDP_C);
    const p2 = uas!.modify(SDP_C);
    await settle(60); // both 491s in
    expect(times).toEqual([]);
    clock.advance(499);
    await settle();
    expect(times).toEqual([]);
    clock.advance(1); // the non-owner's retry at 500 ms
    await waitFor(() => times.length === 1, 1000);
    expect(times[0]).toEqual(["at-uac", 500]);
    await p2;
    clock.advance(3050 - 500); // the owner's retry
    await waitFor(() => times.length === 2, 1000);
    expect(times[1]).toEqual(["at-uas", 3050]);
    await p1;
  });

  it("a re-INVITE while our own is pending is answered 491", async () => {
    const uac = await call();
    // hold the UAS's answer so its own re-INVITE meets ours pending
    let held: SrfResponse | undefined;
    uas!.on("modify", (_req: SrfRequest, res: SrfResponse) => {
      held = res;
    });
    const p = uac.modify(SDP_C);
    await waitFor(() => held !== undefined, 1000);
    const r = await uac.request({ method: "INVITE", body: SDP_C }).catch((e: { status: number }) => e);
    expect(r).toMatchObject({ status: 491 });
    held!.send(200, { body: SDP_B });
    await p;
  });

  it("retries an initial INVITE once with credentials after 401 (same Call-ID, CSeq+1, new branch)", async () => {
    const invites: SipRequest[] = [];
    b.srf.use("invite", (req, res, next) => {
      invites.push(req.msg);
      if (!req.has("authorization")) {
        res.send(401, { headers: [["WWW-Authenticate", 'Digest realm="test", nonce="abc"']] });
        return;
      }
      next();
    });
    const hookCalls: Array<[SipResponse, SipRequest]> = [];
    const auth = (res: SipResponse, req: SipRequest): Credentials => {
      hookCalls.push([res, req]);
      return { header: "Authorization", value: 'Digest username="u", realm="test", nonce="abc", response="fake"' };
    };
    b.srf.invite(async (req, res) => {
      uas = await b.srf.createUAS(req, res, { localSdp: SDP_B });
    });
    const uac = await a.srf.createUAC(b.uri(), { localSdp: SDP_A, auth });
    expect(invites).toHaveLength(2);
    expect(hookCalls).toHaveLength(1);
    expect(hookCalls[0]![0].status).toBe(401);
    const [first, second] = invites as [SipRequest, SipRequest];
    expect(second.callId).toBe(first.callId);
    expect(second.from!.params.tag).toBe(first.from!.params.tag);
    expect(second.cseq!.seq).toBe(first.cseq!.seq + 1);
    expect(second.topVia!.params.branch).not.toBe(first.topVia!.params.branch);
    expect(second.header("authorization")).toContain('response="fake"');
    expect(second.body.toString()).toBe(SDP_A);
    expect(uac.state).toBe("confirmed");
  });

  it("gives up after one retry, and without credentials, with the challenge status", async () => {
    b.srf.use("invite", (_req, res) => {
      res.send(407, { headers: [["Proxy-Authenticate", 'Digest realm="x", nonce="n"']] });
    });
    let calls = 0;
    const auth = (): Credentials => {
      calls++;
      return { header: "Proxy-Authorization", value: "Digest x" };
    };
    await expect(a.srf.createUAC(b.uri(), { localSdp: SDP_A, auth })).rejects.toMatchObject({ status: 407 });
    expect(calls).toBe(1);
    await expect(a.srf.createUAC(b.uri(), { localSdp: SDP_A, auth: () => undefined })).rejects.toMatchObject({
      status: 407,
    });
  });

  it("retries an out-of-dialog request after 401", async () => {
    const seen: SipRequest[] = [];
    b.srf.options((req, res) => {
      seen.push(req.msg);
      if (!req.has("authorization")) res.send(401, { headers: [["WWW-Authenticate", 'Digest realm="r"']] });
      else res.send(200);
    });
    const r = await a.srf.request(b.uri(), {
      method: "OPTIONS",
      auth: () => ({ header: "Authorization", value: "Digest y" }),
    });
    expect(r.status).toBe(200);
    expect(seen.map((m) => m.cseq!.seq)).toEqual([1, 2]);
  });

  it("middleware: order, per-method, errors to error handlers, default answers", async () => {
    const trace: string[] = [];
    b.srf.use((req, _res, next) => {
      trace.push(`all:${req.method}`);
      req.locals.seen = true;
      next();
    });
    b.srf.use("message", [
      (_req, _res, next) => {
        trace.push("m1");
        next();
      },
      () => {
        throw Object.assign(new Error("nope"), { status: 403 });
      },
    ]);
    b.srf.use((err: unknown, _req: SrfRequest, res: SrfResponse, _next: unknown) => {
      trace.push(`err:${(err as Error).message}`);
      res.send(403);
    });
    b.srf.info(async () => {
      throw new Error("async boom");
    });
    expect((await a.srf.request(b.uri(), { method: "MESSAGE", body: "hi" })).status).toBe(403);
    expect((await a.srf.request(b.uri(), { method: "OPTIONS" })).status).toBe(200);
    expect((await a.srf.request(b.uri(), { method: "NOTIFY" })).status).toBe(404);
    // an error after the last error handler reaches the default: 500
    expect((await a.srf.request(b.uri(), { method: "INFO" })).status).toBe(500);
    expect(trace).toEqual([
      "all:MESSAGE",
      "m1",
      "err:nope",
      "all:OPTIONS",
      "all:NOTIFY",
      "all:INFO",
    ]);
  });
});

describe("B2BUA header rules", () => {
  const msg = createRequest({
    method: "INVITE",
    uri: "sip:b@x",
    headers: [
      ["Via", "SIP/2.0/UDP a;branch=z9hG4bK1"],
      ["Contact", "<sip:a@10.0.0.1>"],
      ["Record-Route", "<sip:p;lr>"],
      ["Call-ID", "c1"],
      ["Authorization", "Digest x"],
      ["P-Asserted-Identity", "<sip:+15551234567@x>"],
      ["X-Custom", "1"],
      ["User-Agent", "phone"],
    ],
  });
  it("'all' with exclusions, never topology headers", () => {
    expect(copyHeaders(msg, ["all", "-Authorization"])).toEqual([
      ["P-Asserted-Identity", "<sip:+15551234567@x>"],
      ["X-Custom", "1"],
      ["User-Agent", "phone"],
    ]);
  });
  it("an explicit list, case-insensitive; nothing by default", () => {
    expect(copyHeaders(msg, ["x-custom", "Via", "Contact"])).toEqual([["X-Custom", "1"]]);
    expect(copyHeaders(msg, undefined)).toEqual([]);
    expect(headerPasses("Call-ID", ["all"])).toBe(false);
    expect(headerPasses("i", ["all"])).toBe(false);
  });
});
