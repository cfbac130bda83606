import { describe, expect, it } from "vitest";
import type { GatewayAgent } from "../../src/agent/gateway-agent.js";
import { type Readiness, startHttpServer } from "../../src/ops/http-server.js";
import { GatewayMetrics } from "../../src/ops/metrics.js";

/** Just enough of an agent for the HTTP listener; the DSIP side is tested in test/agent. */
const agent = {
  document: { id: "did:web:localhost" },
  identity: { did: "did:web:localhost" },
  server: { attach() {}, connectionCount: 0 },
} as unknown as GatewayAgent;

describe("GatewayMetrics", () => {
  it("counts active calls and finished calls by status", async () => {
    const m = new GatewayMetrics({ defaultMetrics: false });
    m.callStarted("carrier-a");
    m.callStarted("carrier-a");
    m.callStarted();
    m.callEnded(200, "carrier-a");
    m.callEnded(486);
    m.transactions.inc({ kind: "ist" });
    m.dialogs.set({ state: "confirmed" }, 3);
    const { body, contentType } = await m.render();
    expect(contentType).toMatch(/^text\/plain/);
    expect(body).toContain('dsip_gateway_active_calls{trunk="carrier-a"} 1');
    expect(body).toContain('dsip_gateway_active_calls{trunk=""} 0');
    expect(body).toContain('dsip_gateway_calls_total{status="200",class="2xx"} 1');
    expect(body).toContain('dsip_gateway_calls_total{status="486",class="4xx"} 1');
    expect(body).toContain('dsip_gateway_sip_transactions{kind="ist"} 1');
    expect(body).toContain('dsip_gateway_sip_dialogs{state="confirmed"} 3');
    expect(body).not.toContain("nodejs_eventloop_lag_seconds");
  });

  it("includes Node's default metrics, event-loop lag among them, per registry", async () => {
    const a = new GatewayMetrics();
    const b = new GatewayMetrics({ labels: { gw: "b" } });
    expect((await a.render()).body).toContain("nodejs_eventloop_lag_seconds");
    expect((await b.render()).body).toMatch(/dsip_gateway_cdr_written_total\{gw="b"\} 0/);
  });
});

describe("HTTP /metrics and /readyz", () => {
  it("serves metrics, readiness that follows the gateway, and keeps /healthz", async () => {
    const metrics = new GatewayMetrics({ defaultMetrics: false });
    metrics.callStarted("t");
    let readiness: Readiness = { ready: true };
    const http = await startHttpServer("127.0.0.1", 0, agent, { metrics, readiness: () => readiness });
    const base = `http://127.0.0.1:${http.address.port}`;
    try {
      const res = await fetch(`${base}/metrics`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('dsip_gateway_active_calls{trunk="t"} 1');
      const ready = await fetch(`${base}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: "ready" });
      readiness = { ready: false, reason: "stopping" };
      const draining = await fetch(`${base}/readyz`);
      expect(draining.status).toBe(503);
      expect(await draining.json()).toEqual({ status: "not ready", reason: "stopping" });
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
    } finally {
      await http.close();
    }
  });

  it("without ops endpoints: /readyz is ready and /metrics is 404", async () => {
    const http = await startHttpServer("127.0.0.1", 0, agent);
    const base = `http://127.0.0.1:${http.address.port}`;
    try {
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      expect((await fetch(`${base}/metrics`)).status).toBe(404);
    } finally {
      await http.close();
    }
  });
});
