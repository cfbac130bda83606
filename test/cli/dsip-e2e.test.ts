import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MessageAcceptor } from "../../src/agent/acceptance.js";
import { AgentDidResolver, KeyDirectory } from "../../src/agent/did-resolution.js";
import { CliProcess, freePort, runCli } from "./cli-process.js";

// The whole path with real processes: a gateway, `dsip listen` clients and
// `dsip send`, then an offline recipient served from the relay after the
// gateway was killed with SIGKILL and restarted.
let dir: string;
let port: number;
const dids: Record<"a" | "b" | "c", string> = { a: "", b: "", c: "" };
const processes: CliProcess[] = [];

function key(name: string): string {
  return join(dir, `${name}.json`);
}

function startGateway(): CliProcess {
  const gw = new CliProcess(["start", "--http", `127.0.0.1:${port}`, "--data-dir", join(dir, "data")]);
  processes.push(gw);
  return gw;
}

async function listen(name: "a" | "b" | "c"): Promise<CliProcess> {
  const p = new CliProcess([
    "dsip",
    "listen",
    "--gateway",
    `ws://127.0.0.1:${port}/dsip`,
    "--key",
    key(name),
  ]);
  processes.push(p);
  await p.waitForLine((l) => l.includes('"event":"ready"'));
  return p;
}

async function send(from: "a" | "b" | "c", message: object): Promise<Record<string, unknown>> {
  const file = join(dir, `msg-${Date.now()}-${Math.random()}.json`);
  writeFileSync(file, JSON.stringify(message));
  const result = await runCli([
    "dsip",
    "send",
    "--gateway",
    `ws://127.0.0.1:${port}/dsip`,
    "--key",
    key(from),
    file,
  ]);
  expect(result.code, result.stderr + result.stdout).toBe(0);
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

function arrivals(p: CliProcess): Record<string, unknown>[] {
  return p.json().filter((l) => l.event === "message");
}

async function waitForArrivals(p: CliProcess, n: number): Promise<Record<string, unknown>[]> {
  await p.waitForLine(() => arrivals(p).length >= n);
  return arrivals(p);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "dsip-e2e-"));
  port = await freePort();
  for (const [i, name] of (["a", "b", "c"] as const).entries()) {
    const r = await runCli([
      "did",
      "new",
      "--seed",
      (i + 1).toString(16).padStart(64, "0"),
      "--out",
      key(name),
    ]);
    expect(r.code).toBe(0);
    dids[name] = r.stdout.trim();
  }
});

afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop("SIGKILL")));
  rmSync(dir, { recursive: true, force: true });
});

describe("gateway + dsip listen + dsip send (real processes)", () => {
  it("exchanges signed messages live, and relays to an offline DID across a SIGKILL restart", async () => {
    let gw = startGateway();
    await gw.waitForLine((l) => l.startsWith("listening on"));
    const b = await listen("b");
    const c = await listen("c");

    const toB = await send("a", {
      type: "dsip.msg",
      to: dids.b,
      content: { enc: "none", ciphertext: "aGkgYg" },
    });
    const toC = await send("b", { type: "dsip.typing", to: dids.c, thread: "th-1", state: "on" });
    const [gotB] = await waitForArrivals(b, 1);
    const [gotC] = await waitForArrivals(c, 1);
    expect(gotB!.message).toEqual(toB.message);
    expect(gotC!.message).toEqual(toC.message);
    // What arrived verifies independently of the gateway that relayed it.
    const acceptor = new MessageAcceptor({ keys: new KeyDirectory(new AgentDidResolver()) });
    await expect(acceptor.accept(gotB!.message)).resolves.toMatchObject({ from: dids.a });

    // The gateway refuses a message that fails its checks, and `send` exits 1.
    const badFile = join(dir, "bad.json");
    writeFileSync(badFile, JSON.stringify({ type: "dsip.teleport", to: dids.b }));
    const bad = await runCli([
      "dsip",
      "send",
      "--gateway",
      `ws://127.0.0.1:${port}`,
      "--key",
      key("a"),
      badFile,
    ]);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ code: 415, reason: "type:unknown" });

    // c goes offline; two messages wait for it at the relay.
    await c.stop();
    const first = await send("a", {
      type: "dsip.msg",
      to: dids.c,
      content: { enc: "none", ciphertext: "b25l" },
    });
    const second = await send("b", {
      type: "dsip.msg",
      to: dids.c,
      content: { enc: "none", ciphertext: "dHdv" },
    });

    await gw.stop("SIGKILL");
    gw = startGateway();
    await gw.waitForLine((l) => l.startsWith("listening on"));

    const c2 = await listen("c");
    expect(c2.json().find((l) => l.event === "ready")).toMatchObject({ queued: 2 });
    const relayed = await waitForArrivals(c2, 2);
    expect(relayed.map((r) => r.message)).toEqual([first.message, second.message]);
    expect(relayed.every((r) => typeof r.envelope === "string")).toBe(true);

    // Acknowledged: a later connection finds nothing waiting.
    await new Promise((r) => setTimeout(r, 300));
    await c2.stop();
    const c3 = await listen("c");
    expect(c3.json().find((l) => l.event === "ready")).toMatchObject({ queued: 0 });
  }, 90_000);
});

describe("did and dsip sign/verify commands", () => {
  it("signs and verifies, refusing a tampered message with its code", async () => {
    const msg = join(dir, "to-sign.json");
    writeFileSync(
      msg,
      JSON.stringify({ type: "dsip.msg", to: dids.b, content: { enc: "none", ciphertext: "eA" } }),
    );
    const signed = await runCli(["dsip", "sign", "--key", key("a"), msg]);
    expect(signed.code).toBe(0);
    const ok = await runCli(["dsip", "verify", "-"], signed.stdout);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ valid: true, from: dids.a });
    const tampered = await runCli(["dsip", "verify", "-"], signed.stdout.replace('"eA"', '"eB"'));
    expect(tampered.code).toBe(1);
    expect(JSON.parse(tampered.stdout)).toMatchObject({ valid: false, code: 401, reason: "sig:invalid" });
  });

  it("resolves a did:key, and reports unresolvable DIDs", async () => {
    const r = await runCli(["did", "resolve", dids.a]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).id).toBe(dids.a);
    const bad = await runCli(["did", "resolve", "did:key:z6MkBroken"]);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ code: 404 });
    const refused = await runCli(["did", "resolve", "did:web:localhost%3A1"]);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout)).toMatchObject({ code: 502 });
  });

  it("exits 2 on usage errors", async () => {
    expect((await runCli(["did", "new", "--seed", "xyz"])).code).toBe(2);
    expect((await runCli(["dsip", "sign"])).code).toBe(2);
    expect((await runCli(["dsip", "send", "--gateway", "ws://127.0.0.1:1", "--key", key("a")])).code).toBe(2);
    expect((await runCli(["dsip", "verify", join(dir, "missing.json")])).code).toBe(2);
  });
});
