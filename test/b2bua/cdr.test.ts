import { spawn } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { type CallRecord, CallRecordBuilder, CdrWriter, durationBetween } from "../../src/b2bua/cdr.js";

const dir = mkdtempSync(join(tmpdir(), "dsip-cdr-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let seq = 0;
function paths() {
  const n = seq++;
  return { sqlite: join(dir, `cdr-${n}.sqlite`), jsonl: join(dir, `sub-${n}`, `cdr-${n}.jsonl`) };
}

function record(id: string, over: Partial<CallRecord> = {}): CallRecord {
  return {
    id,
    legs: [
      { role: "a", callId: `${id}-a@192.0.2.1`, trunk: "carrier-a", remote: "192.0.2.1:5060", status: 486 },
      { role: "b", callId: `${id}-b@gw`, trunk: "carrier-b", remote: "192.0.2.2:5060", status: 486 },
    ],
    from: "sip:+15550001111@192.0.2.1",
    to: "sip:+15550002222@gw.example",
    start: "2026-01-01T10:00:00.000Z",
    answer: null,
    end: "2026-01-01T10:00:03.500Z",
    durationMs: 0,
    status: 486,
    hangupBy: "callee",
    reason: "486 Busy Here",
    ...over,
  };
}

function jsonlIds(path: string): string[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l) => (JSON.parse(l) as CallRecord).id);
}

describe("CDR writer", () => {
  it("writes one record per call to SQLite and JSON lines", async () => {
    const p = paths();
    const w = new CdrWriter(p);
    const answered = record("c1", {
      answer: "2026-01-01T10:00:01.000Z",
      end: "2026-01-01T10:01:01.250Z",
      durationMs: durationBetween("2026-01-01T10:00:01.000Z", "2026-01-01T10:01:01.250Z"),
      status: 200,
      hangupBy: "caller",
      reason: "BYE",
    });
    await Promise.all([w.write(answered), w.write(record("c2"))]);
    expect(answered.durationMs).toBe(60_250);
    expect(w.readSqlite()).toEqual([answered, record("c2")]);
    w.close();
    expect(jsonlIds(p.jsonl)).toEqual(["c1", "c2"]);
    const db = new Database(p.sqlite, { readonly: true });
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    const row = db.prepare("SELECT * FROM cdr WHERE id = 'c2'").get() as Record<string, unknown>;
    expect(row).toMatchObject({
      call_ids: JSON.stringify(["c2-a@192.0.2.1", "c2-b@gw"]),
      trunks: JSON.stringify(["carrier-a", "carrier-b"]),
      status: 486,
      hangup_by: "callee",
      reason: "486 Busy Here",
      answer_time: null,
      duration_ms: 0,
      emergency: 0,
    });
    db.close();
  });

  it("flushes a batch when full without waiting for the delay", async () => {
    const p = paths();
    const w = new CdrWriter({ ...p, maxBatch: 3, maxDelayMs: 60_000 });
    const done = [w.write(record("b1")), w.write(record("b2")), w.write(record("b3"))];
    await Promise.all(done);
    expect(jsonlIds(p.jsonl)).toEqual(["b1", "b2", "b3"]);
    w.close();
  });

  it("writes to one store alone when the other is off", async () => {
    const p = paths();
    const w = new CdrWriter({ jsonl: p.jsonl, sqlite: null });
    await w.write(record("j1"));
    expect(w.readSqlite()).toEqual([]);
    w.close();
    expect(jsonlIds(p.jsonl)).toEqual(["j1"]);
    await expect(w.write(record("late"))).rejects.toThrow(/closed/);
  });

  it("on open, cuts a torn JSON line and appends what SQLite has beyond the file", async () => {
    const p = paths();
    const w = new CdrWriter(p);
    await w.write(record("r1"));
    await w.write(record("r2"));
    w.close();
    // As if the process died after the SQLite commit of r3 but while appending its line.
    const db = new Database(p.sqlite);
    db.prepare(
      `INSERT INTO cdr (id, call_ids, trunks, from_uri, to_uri, start_time, end_time, duration_ms, status, reason, emergency, record)
       VALUES ('r3', '[]', '[]', 'f', 't', 's', 'e', 0, 200, 'BYE', 0, ?)`,
    ).run(JSON.stringify(record("r3")));
    db.close();
    appendFileSync(p.jsonl, '{"id":"r3","legs":[{"ro');
    const again = new CdrWriter(p);
    await again.write(record("r4"));
    again.close();
    expect(jsonlIds(p.jsonl)).toEqual(["r1", "r2", "r3", "r4"]);
  });

  it("does not replay SQLite's history into a fresh (rotated) JSON-lines file", async () => {
    const p = paths();
    const w = new CdrWriter(p);
    await w.write(record("old"));
    w.close();
    writeFileSync(p.jsonl, "");
    const again = new CdrWriter(p);
    await again.write(record("new"));
    again.close();
    expect(jsonlIds(p.jsonl)).toEqual(["new"]);
  });

  it("loses no acknowledged record when the writer is killed with SIGKILL", async () => {
    const p = paths();
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "test/b2bua/cdr-writer.fixture.ts", p.sqlite, p.jsonl],
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
        if (acknowledged.length >= 300 && !child.killed) {
          child.kill("SIGKILL");
          resolve();
        }
      });
      void exited.then(() => resolve());
    });
    await exited;
    expect(child.signalCode).toBe("SIGKILL");
    expect(acknowledged.length).toBeGreaterThanOrEqual(300);

    // Both stores as the dead process left them, before any recovery.
    const db = new Database(p.sqlite, { readonly: true });
    const inSqlite = new Set((db.prepare("SELECT id FROM cdr").all() as { id: string }[]).map((r) => r.id));
    db.close();
    const lines = readFileSync(p.jsonl, "utf8").split("\n");
    const complete = lines.slice(0, -1); // whatever follows the last newline may be torn
    const inJsonl = new Set(complete.map((l) => (JSON.parse(l) as CallRecord).id));
    expect(acknowledged.filter((id) => !inSqlite.has(id))).toEqual([]);
    expect(acknowledged.filter((id) => !inJsonl.has(id))).toEqual([]);

    // Reopening leaves a file of whole lines holding everything SQLite has.
    new CdrWriter(p).close();
    const after = jsonlIds(p.jsonl);
    expect(new Set(after)).toEqual(inSqlite);
    expect(after.length).toBe(inSqlite.size);
  });
});

describe("CallRecordBuilder", () => {
  it("builds an answered call's record with its duration and legs", () => {
    let t = Date.UTC(2026, 0, 1, 12, 0, 0);
    const b = new CallRecordBuilder("g1", "sip:a@x", "sip:b@y", () => t);
    b.leg({ role: "a", callId: "a1", trunk: "in", status: 200 });
    const first = b.leg({ role: "b", callId: "b1", trunk: "out1" });
    t += 2_000;
    first.status = 503;
    b.leg({ role: "b", callId: "b2", trunk: "out2", status: 200 });
    t += 1_500;
    b.answered();
    t += 500;
    b.answered(); // a second 2xx (forking) does not move the answer time
    t += 60_000;
    const r = b.finish({ status: 200, hangupBy: "callee", reason: "BYE" });
    expect(r).toEqual({
      id: "g1",
      legs: [
        { role: "a", callId: "a1", trunk: "in", status: 200 },
        { role: "b", callId: "b1", trunk: "out1", status: 503 },
        { role: "b", callId: "b2", trunk: "out2", status: 200 },
      ],
      from: "sip:a@x",
      to: "sip:b@y",
      start: "2026-01-01T12:00:00.000Z",
      answer: "2026-01-01T12:00:03.500Z",
      end: "2026-01-01T12:01:04.000Z",
      durationMs: 60_500,
      status: 200,
      hangupBy: "callee",
      reason: "BYE",
    });
  });

  it("gives an unanswered call no answer time and no duration", () => {
    let t = 0;
    const b = new CallRecordBuilder("g2", "sip:a@x", "urn:service:sos", () => t);
    b.markEmergency();
    t += 4_000;
    const r = b.finish({ status: 487, hangupBy: "caller", reason: "CANCEL" });
    expect(r).toMatchObject({ answer: null, durationMs: 0, status: 487, emergency: true });
    expect(b.isAnswered).toBe(false);
  });
});
