import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseWav, toneRatio } from "../../src/softphone/audio.js";
import { CliProcess, freePort, runCli } from "./cli-process.js";

// `dsip-gateway call` and `dsip listen --answer` as real processes against a
// real `dsip-gateway start`: signalling through its /dsip WebSocket, WebRTC audio
// directly between the two processes over loopback.
let dir: string;
let gatewayUrl: string;
const dids: Record<"a" | "b" | "c" | "d", string> = { a: "", b: "", c: "", d: "" };
const processes: CliProcess[] = [];

const key = (name: string) => join(dir, `${name}.json`);
const file = (name: string) => join(dir, name);

async function listen(name: keyof typeof dids, extra: string[]): Promise<CliProcess> {
  const p = new CliProcess(["dsip", "listen", "--gateway", gatewayUrl, "--key", key(name), ...extra]);
  processes.push(p);
  await p.waitForLine((l) => l.includes('"event":"ready"'));
  return p;
}

function call(target: string, extra: string[]) {
  return runCli(["call", target, "--gateway", gatewayUrl, "--key", key("a"), ...extra]);
}

function events(stdout: string): Record<string, unknown>[] {
  return stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function lastSecondRatio(path: string, hz: number, other: number): number {
  const { samples } = parseWav(readFileSync(path));
  return toneRatio(samples.subarray(Math.max(0, samples.length - 8000)), hz, other);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "softphone-cli-"));
  const port = await freePort();
  gatewayUrl = `ws://127.0.0.1:${port}/dsip`;
  for (const [i, name] of (["a", "b", "c", "d"] as const).entries()) {
    const r = await runCli([
      "did",
      "new",
      "--seed",
      (i + 0x51).toString(16).padStart(64, "0"),
      "--out",
      key(name),
    ]);
    expect(r.code).toBe(0);
    dids[name] = r.stdout.trim();
  }
  const gw = new CliProcess(["start", "--http", `127.0.0.1:${port}`, "--data-dir", file("data")]);
  processes.push(gw);
  await gw.waitForLine((l) => l.startsWith("listening on"));
}, 60_000);

afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop("SIGKILL")));
  rmSync(dir, { recursive: true, force: true });
});

describe("dsip-gateway call / dsip listen --answer (real processes)", () => {
  it("a 3 s call: exit 0, progress lines, each recording holds the other side's tone", async () => {
    const b = await listen("b", ["--answer", "--tone", "1300", "--record", file("b.wav")]);
    const r = await call(dids.b, ["--tone", "700", "--record", file("a.wav"), "--duration", "3"]);
    expect(r.code, r.stderr).toBe(0);
    const lines = events(r.stdout);
    expect(lines.map((l) => l.event)).toEqual(["ringing", "answered", "media", "ended"]);
    const ended = lines.at(-1)!;
    expect(ended).toMatchObject({
      status: "completed",
      answered: true,
      endedBy: "local",
      record: file("a.wav"),
    });
    expect(ended.durationS as number).toBeGreaterThanOrEqual(2.9);
    expect(ended.packetsSent as number).toBeGreaterThanOrEqual(100);
    expect(ended.packetsReceived as number).toBeGreaterThanOrEqual(100);

    const bEnded = await b.waitForLine((l) => l.includes('"event":"ended"'));
    expect(JSON.parse(bEnded)).toMatchObject({ status: "completed", endedBy: "remote", peer: dids.a });
    expect(JSON.parse(bEnded).packetsReceived).toBeGreaterThanOrEqual(100);
    expect(b.json().map((l) => l.event)).toEqual([
      "ready",
      "incoming",
      "ringing",
      "answered",
      "media",
      "ended",
    ]);
    expect(lastSecondRatio(file("a.wav"), 1300, 700)).toBeGreaterThanOrEqual(100);
    expect(lastSecondRatio(file("b.wav"), 700, 1300)).toBeGreaterThanOrEqual(100);
    await b.stop();
  }, 60_000);

  it("the callee hangs up (--duration on listen): the caller still exits 0", async () => {
    await listen("c", ["--answer", "--tone", "1300", "--duration", "2"]);
    const r = await call(dids.c, ["--tone", "700"]);
    expect(r.code, r.stderr).toBe(0);
    expect(events(r.stdout).at(-1)).toMatchObject({ event: "ended", status: "completed", endedBy: "remote" });
  }, 60_000);

  it("an unreachable DID: exit 1 with the gateway's dsip.error on stderr", async () => {
    const r = await call("did:key:z6MkNotAKey", ["--duration", "1"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/call rejected: 503 callee:unavailable/);
  }, 30_000);

  it("nobody answers: dsip.cancel after --ring-timeout, exit 1", async () => {
    const d = await listen("d", []);
    const r = await call(dids.d, ["--ring-timeout", "2", "--duration", "5"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/call cancelled: not answered within 2 s/);
    const cancel = await d.waitForLine((l) => l.includes('"type":"dsip.cancel"'));
    const invite = d.json().find((l) => (l.message as { type?: string } | undefined)?.type === "dsip.invite");
    expect(JSON.parse(cancel).message).toMatchObject({ correlates: (invite!.message as { id: string }).id });
  }, 30_000);

  it("usage errors exit 2", async () => {
    expect((await call("bob", [])).code).toBe(2);
    expect((await call(dids.b, ["--tone", "loud"])).code).toBe(2);
    const r = await runCli(["dsip", "listen", "--gateway", gatewayUrl, "--key", key("b"), "--tone", "700"]);
    expect(r.code).toBe(2);
  }, 30_000);
});
