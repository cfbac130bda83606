import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { privateKeyFromSeed } from "../../src/agent/ed25519-keys.js";
import { createMessageSigner } from "../../src/agent/envelope-signature.js";
import {
  clientFor,
  collectArrivals,
  nextArrival,
  nextRefusal,
  removeDir,
  startTestGateway,
  type TestGateway,
  waitFor,
} from "./gateway-fixture.js";
import { identity, invite, nextId } from "./helpers.js";

const alice = identity(1);
const bob = identity(2);
const carol = identity(3);
const now = () => Math.floor(Date.now() / 1000);

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(async () => {
  await gw.stop();
  removeDir(gw.dataDir);
});

describe("DSIP WebSocket endpoint", () => {
  it("authenticates with DID-Auth and routes to the live connection of `to`", async () => {
    const a = clientFor(gw, alice);
    const b = clientFor(gw, bob);
    const ok = await a.start();
    expect(ok.to).toBe(alice.did);
    await b.start();
    expect(gw.agent.server.isOnline(bob.did)).toBe(true);
    const arrival = nextArrival(b);
    const sent = a.send(invite(alice, bob.did));
    const got = await arrival;
    expect(got.message).toEqual(sent);
    expect(got.envelopeId).toBeUndefined();
    await a.close();
    await b.close();
    await waitFor(() => !gw.agent.server.isOnline(bob.did));
  });

  it("refuses messages before DID-Auth and a wrong challenge answer", async () => {
    const ws = new WebSocket(gw.url);
    const frames: { type: string; code?: number; reason?: string; nonce?: string }[] = [];
    ws.on("message", (d) => frames.push(JSON.parse(d.toString())));
    await waitFor(() => frames.length === 1);
    expect(frames[0]!.type).toBe("dsip.challenge");
    ws.send(
      JSON.stringify(alice.signer.sign({ type: "dsip.ping", id: nextId(), ts: now(), from: alice.did })),
    );
    await waitFor(() => frames.length === 2);
    expect(frames[1]).toMatchObject({ type: "dsip.error", code: 407, reason: "auth:required" });
    const auth = { type: "dsip.auth", id: nextId(), ts: now(), from: alice.did, to: "did:web:gateway.test" };
    ws.send(JSON.stringify(alice.signer.sign({ ...auth, nonce: "A".repeat(43) })));
    await waitFor(() => frames.length === 3);
    expect(frames[2]).toMatchObject({ code: 416, reason: "auth:bad-challenge" });
    ws.send(JSON.stringify(alice.signer.sign({ ...auth, id: nextId(), nonce: frames[0]!.nonce })));
    await waitFor(() => frames.length === 4);
    expect(frames[3]).toMatchObject({ type: "dsip.authOk" });
    ws.close();
  });

  it("answers each bad message with its own dsip.error and keeps the connection", async () => {
    const a = clientFor(gw, alice);
    await a.start();
    const good = () => invite(alice, bob.did, now());
    const replayed = alice.signer.sign(good());
    const bobSignsForAlice = bob.signer.sign(good());
    const stranger = "did:example:stranger"; // no driver for this method: unknown
    const asStranger = createMessageSigner(`${stranger}#k`, privateKeyFromSeed(carol.seed)).sign({
      ...good(),
      from: stranger,
    });
    const corpus: [string, string | Buffer][] = [
      ["401 sig:invalid", JSON.stringify({ ...alice.signer.sign(good()), to: carol.did })],
      ["405 auth:kid-not-in-authentication", JSON.stringify({ ...bobSignsForAlice, from: alice.did })],
      ["404 did:not-found", JSON.stringify(asStranger)],
      ["406 auth:from-mismatch", JSON.stringify(bob.signer.sign({ ...good(), from: bob.did }))],
      ["409 id:replay", JSON.stringify(replayed)],
      ["408 ts:stale", JSON.stringify(alice.signer.sign({ ...good(), ts: now() - 3600 }))],
      ["412 ts:future", JSON.stringify(alice.signer.sign({ ...good(), ts: now() + 3600 }))],
      ["410 exp:expired", JSON.stringify(alice.signer.sign({ ...good(), exp: now() - 10 }))],
      ["413 size:too-large", JSON.stringify(alice.signer.sign({ ...good(), pad: "x".repeat(300 * 1024) }))],
      ["400 malformed:json", '{"type":"dsip.invite",'],
      ["400 malformed:json", Buffer.from([0xff, 0xfe])],
      ["415 type:unknown", JSON.stringify(alice.signer.sign({ ...good(), type: "dsip.teleport" }))],
      ["422 schema:invalid", JSON.stringify(alice.signer.sign({ ...good(), ts: "now" }))],
      ["422 schema:invalid", JSON.stringify(alice.signer.sign({ ...good(), media: { sdp: 42 } }))],
      ["422 schema:invalid", JSON.stringify([1, 2, 3])],
    ];
    a.sendRaw(JSON.stringify(replayed)); // first time: accepted and stored for bob
    await a.flush();
    for (const [expected, frame] of corpus) {
      const refusal = nextRefusal(a);
      a.sendRaw(frame);
      const error = await refusal;
      expect(`${error.code} ${error.reason}`, expected).toBe(expected);
      expect(error.from).toBe("did:web:gateway.test");
    }
    // Still connected and served.
    expect(a.isReady).toBe(true);
    await a.flush();
    await a.close();
  });

  it("closes the connection on a flood of bad messages", async () => {
    const a = clientFor(gw, alice);
    await a.start();
    const codes: number[] = [];
    a.on("refused", (e) => codes.push(e.code));
    const closed = new Promise<number>((resolve) => a.once("disconnected", (code) => resolve(code)));
    for (let i = 0; i < 30; i++) a.sendRaw("not json");
    expect(await closed).toBe(1008);
    expect(codes).toContain(429);
    expect(codes.filter((c) => c === 400).length).toBe(20);
  });

  it("stores for an offline DID and delivers in order on connect, deleting only after the ack", async () => {
    const a = clientFor(gw, alice);
    await a.start();
    const sent = [1, 2, 3].map((n) =>
      a.send({
        type: "dsip.msg",
        to: carol.did,
        content: { enc: "none", ciphertext: Buffer.from(`hello ${n}`).toString("base64url") },
      }),
    );
    await a.flush();
    expect(gw.agent.relay.count(carol.did, now())).toBe(3);
    // The stored envelope does not reveal the message.
    const stored = gw.agent.relay.pending(carol.did, now());
    expect(JSON.stringify(stored)).not.toContain(Buffer.from("hello 1").toString("base64url"));

    const c = clientFor(gw, carol);
    const arrivals = collectArrivals(c);
    const ok = await c.start();
    expect(ok.queued).toBe(3);
    await waitFor(() => arrivals.length === 3);
    expect(arrivals.map((x) => x.message)).toEqual(sent);
    expect(arrivals.every((x) => typeof x.envelopeId === "string")).toBe(true);
    await c.flush();
    expect(gw.agent.relay.count(carol.did, now())).toBe(0);
    await c.close();
    await a.close();
  });

  it("keeps unacknowledged envelopes for the next connection", async () => {
    const a = clientFor(gw, alice);
    await a.start();
    a.send({ type: "dsip.typing", to: carol.did, thread: "th-1", state: "on" });
    await a.flush();
    // A raw socket that authenticates but never acknowledges.
    const ws = new WebSocket(gw.url);
    const frames: { type: string; nonce?: string; from?: string }[] = [];
    ws.on("message", (d) => frames.push(JSON.parse(d.toString())));
    await waitFor(() => frames.length === 1);
    ws.send(
      JSON.stringify(
        carol.signer.sign({
          type: "dsip.auth",
          id: nextId(),
          ts: now(),
          from: carol.did,
          to: frames[0]!.from,
          nonce: frames[0]!.nonce,
        }),
      ),
    );
    await waitFor(() => frames.some((f) => f.type === "dsip.envelope.v1"));
    ws.close();
    await waitFor(() => !gw.agent.server.isOnline(carol.did));
    expect(gw.agent.relay.count(carol.did, now())).toBe(1);
    const c = clientFor(gw, carol);
    const arrival = nextArrival(c);
    await c.start();
    expect((await arrival).message).toMatchObject({ type: "dsip.typing", from: alice.did });
    await c.flush();
    expect(gw.agent.relay.count(carol.did, now())).toBe(0);
    await c.close();
    await a.close();
  });

  it("stores presence records and answers pings", async () => {
    const a = clientFor(gw, alice);
    await a.start();
    const record = { type: "dsip.presence", exp: now() + 120, seq: 7, endpoints: { ws: [gw.url] } };
    a.send(record);
    await a.flush();
    const refusal = nextRefusal(a);
    a.send({ ...record, seq: 6 });
    expect(await refusal).toMatchObject({ code: 417, reason: "presence:stale" });
    await a.close();
  });

  it("reconnects with backoff after the connection drops", async () => {
    const a = clientFor(gw, alice, true);
    await a.start();
    let readies = 0;
    a.on("ready", () => readies++);
    // Drop every server-side socket of alice.
    for (const ws of (gw.agent.server as unknown as { wss: { clients: Set<WebSocket> } }).wss.clients)
      ws.terminate();
    await waitFor(() => readies === 1);
    await a.flush();
    await a.close();
  });
});
