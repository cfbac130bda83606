import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import { clientFor, removeDir, startTestGateway, waitFor } from "./gateway-fixture.js";
import { identity } from "./helpers.js";

const alice = identity(1);
const dave = identity(4);

describe("DSIP endpoint liveness and push", () => {
  it("terminates a connection that stops answering pings", async () => {
    const gw = await startTestGateway({ server: { heartbeatMs: 100 } });
    try {
      const ws = new WebSocket(gw.url, { autoPong: false });
      const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
      await new Promise((r) => ws.once("open", r));
      expect(gw.agent.server.connectionCount).toBe(1);
      expect(await closed).toBe(1006); // terminated, no close handshake
      await waitFor(() => gw.agent.server.connectionCount === 0);
      // A client that answers pings stays.
      const a = clientFor(gw, alice);
      await a.start();
      await new Promise((r) => setTimeout(r, 400));
      expect(a.isReady).toBe(true);
      await a.close();
    } finally {
      await gw.stop();
      removeDir(gw.dataDir);
    }
  });

  it("closes a connection that never completes DID-Auth", async () => {
    const gw = await startTestGateway({ server: { authTimeoutMs: 150 } });
    try {
      const ws = new WebSocket(gw.url);
      const code = await new Promise<number>((resolve) => ws.once("close", (c) => resolve(c)));
      expect(code).toBe(1008);
    } finally {
      await gw.stop();
      removeDir(gw.dataDir);
    }
  });

  it("wakes an offline recipient through the push webhook with only {relay, envelope_id}", async () => {
    const bodies: unknown[] = [];
    const hook = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => {
        body += c.toString();
      });
      req.on("end", () => {
        bodies.push(JSON.parse(body));
        res.end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, "127.0.0.1", r));
    const gw = await startTestGateway({
      pushWebhook: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/push`,
    });
    try {
      const a = clientFor(gw, alice);
      await a.start();
      a.send({ type: "dsip.msg", to: dave.did, content: { enc: "none", ciphertext: "eA" } });
      await a.flush();
      await waitFor(() => bodies.length === 1);
      const [stored] = gw.agent.relay.pending(dave.did, Math.floor(Date.now() / 1000));
      expect(bodies[0]).toEqual({ relay: "did:web:gateway.test", envelope_id: stored!.id });
      await a.close();
    } finally {
      await gw.stop();
      removeDir(gw.dataDir);
      hook.close();
    }
  });
});

describe("DSIP endpoint backpressure", () => {
  it("relays instead of buffering without bound for a connection that stops reading", async () => {
    const gw = await startTestGateway({ server: { maxBufferedBytes: 256 * 1024 } });
    try {
      const bob = identity(6);
      const a = clientFor(gw, alice);
      const b = clientFor(gw, bob);
      await a.start();
      await b.start();
      // Bob's process stops reading its socket: the kernel buffers fill, then the gateway's.
      (b as unknown as { ws: { _socket: { pause(): void } } }).ws._socket.pause();
      const big = "x".repeat(200 * 1024);
      for (let i = 0; i < 80; i++)
        a.send({ type: "dsip.msg", to: bob.did, content: { enc: "none", ciphertext: big } });
      await a.flush(30_000);
      const now = Math.floor(Date.now() / 1000);
      expect(gw.agent.relay.count(bob.did, now)).toBeGreaterThan(0);
      expect(gw.agent.relay.count(bob.did, now)).toBeLessThan(80);
      await a.close();
    } finally {
      await gw.stop();
      removeDir(gw.dataDir);
    }
  }, 60_000);
});
