import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { MemoryPresenceStore, type PresenceRecord, presenceKey } from "../../src/agent/presence.js";
import { identity, nextId } from "./helpers.js";

const alice = identity(1);
const NOW = 1_800_000_000;

function record(seq: number, ts = NOW, ttl = 120): PresenceRecord {
  return alice.signer.sign({
    type: "dsip.presence" as const,
    id: nextId(),
    ts,
    from: alice.did,
    exp: ts + ttl,
    seq,
    endpoints: { ws: ["wss://gw.example/dsip"] },
  });
}

describe("presence store", () => {
  it("keys records as sha256('dsip-presence:' + DID)", () => {
    expect(presenceKey(alice.did)).toBe(
      createHash("sha256").update(`dsip-presence:${alice.did}`).digest("hex"),
    );
  });

  it("keeps the highest seq and refuses lower or equal ones", async () => {
    const store = new MemoryPresenceStore();
    await store.put(record(5), NOW);
    await expect(store.put(record(4), NOW)).rejects.toMatchObject({ code: 417 });
    await expect(store.put(record(5), NOW)).rejects.toMatchObject({ code: 417 });
    expect((await store.get(alice.did, NOW))?.seq).toBe(5);
    await store.put(record(6), NOW);
    expect((await store.get(alice.did, NOW))?.seq).toBe(6);
  });

  it("refuses TTLs outside 60..300 s and expired records, and forgets on expiry", async () => {
    const store = new MemoryPresenceStore();
    await expect(store.put(record(1, NOW, 59), NOW)).rejects.toMatchObject({ code: 422 });
    await expect(store.put(record(1, NOW, 301), NOW)).rejects.toMatchObject({ code: 422 });
    await expect(store.put(record(1, NOW - 400, 300), NOW)).rejects.toMatchObject({ code: 417 });
    await store.put(record(2, NOW, 60), NOW);
    expect(await store.get(alice.did, NOW + 59)).toBeDefined();
    expect(await store.get(alice.did, NOW + 60)).toBeUndefined();
    // An old record replayed after expiry does not come back.
    await expect(store.put(record(1, NOW + 100, 60), NOW + 100)).rejects.toMatchObject({ code: 417 });
  });
});
