import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { RelayStore } from "../../src/agent/relay-store.js";

const dirs: string[] = [];
function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), "dsip-relay-"));
  dirs.push(dir);
  return join(dir, "relay.sqlite");
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const NOW = 1_800_000_000;
function envelope(id: string, to = "did:key:z6MkBob", exp = NOW + 60) {
  return {
    type: "dsip.envelope.v1" as const,
    id,
    ts: NOW,
    from: "did:key:z6MkAlice",
    to,
    exp,
    epk: "A".repeat(43),
    nonce: "B".repeat(16),
    payload_enc: "Cw",
    sig: { alg: "EdDSA" as const, kid: "did:key:z6MkAlice#k", jws: "e30..AA" },
  };
}

describe("relay store (SQLite)", () => {
  it("keeps order, dedupes ids, expires, and deletes only on acknowledgement", () => {
    const store = new RelayStore(tempDb(), { maxPerRecipient: 3 });
    store.put(envelope("a"), NOW);
    store.put(envelope("b"), NOW);
    store.put(envelope("a"), NOW);
    store.put(envelope("short", undefined, NOW + 1), NOW);
    expect(store.pending("did:key:z6MkBob", NOW).map((e) => e.id)).toEqual(["a", "b", "short"]);
    expect(() => store.put(envelope("d"), NOW)).toThrow(expect.objectContaining({ code: 507 }));
    expect(store.pending("did:key:z6MkBob", NOW + 1).map((e) => e.id)).toEqual(["a", "b"]);
    expect(store.acknowledge("did:key:z6MkCarol", "a")).toBe(false);
    expect(store.acknowledge("did:key:z6MkBob", "a")).toBe(true);
    expect(store.pending("did:key:z6MkBob", NOW).map((e) => e.id)).toEqual(["b", "short"]);
    expect(store.purgeExpired(NOW + 1)).toBe(1);
    store.close();
  });

  it("bounds the whole store, counting what it held before a restart", () => {
    const path = tempDb();
    const first = new RelayStore(path, { maxTotal: 2 });
    first.put(envelope("a", "did:key:z6MkOne"), NOW);
    first.put(envelope("b", "did:key:z6MkTwo"), NOW);
    expect(() => first.put(envelope("c", "did:key:z6MkThree"), NOW)).toThrow(/relay is full/);
    first.close();
    const second = new RelayStore(path, { maxTotal: 2 });
    expect(second.size).toBe(2);
    expect(() => second.put(envelope("c", "did:key:z6MkThree"), NOW)).toThrow(/relay is full/);
    second.acknowledge("did:key:z6MkOne", "a");
    second.put(envelope("c", "did:key:z6MkThree"), NOW);
    second.close();
  });

  it("survives a restart", () => {
    const path = tempDb();
    const first = new RelayStore(path);
    first.put(envelope("x"), NOW);
    first.close();
    const second = new RelayStore(path);
    expect(second.pending("did:key:z6MkBob", NOW)[0]?.envelope).toEqual(envelope("x"));
    second.close();
  });

  it("loses no accepted envelope when the writer is killed with SIGKILL", async () => {
    const path = tempDb();
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "test/agent/relay-writer.fixture.ts", path, "did:key:z6MkBob"],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const acknowledged: string[] = [];
    let buffer = "";
    await new Promise<void>((resolve, reject) => {
      child.on("error", reject);
      child.stdout.on("data", (chunk: Buffer) => {
        buffer += chunk.toString();
        const lines = buffer.split("\n");
        buffer = lines.pop() ?? "";
        acknowledged.push(...lines);
        if (acknowledged.length >= 200 && !child.killed) {
          child.kill("SIGKILL");
          resolve();
        }
      });
      void exited.then(() => resolve());
    });
    await exited;
    expect(child.signalCode).toBe("SIGKILL");
    const store = new RelayStore(path, { maxPerRecipient: 1_000_000 });
    const held = new Set(
      store.pending("did:key:z6MkBob", Math.floor(Date.now() / 1000), 1_000_000).map((e) => e.id),
    );
    const lost = acknowledged.filter((id) => !held.has(id));
    expect(lost).toEqual([]);
    expect(held.size).toBeGreaterThanOrEqual(200);
    store.close();
  });
});
