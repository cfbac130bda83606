/**
 * Call detail records: one per call, written to SQLite (WAL, synchronous=FULL)
 * and appended to a JSON-lines file.
 *
 * Durability: records are written in batches. `write()` queues a record and
 * returns a promise that resolves once its batch is durable in both stores; a
 * batch is flushed when it reaches `maxBatch` records or `maxDelayMs` after its
 * first record, whichever comes first. A flush is one SQLite transaction (one
 * WAL fsync under synchronous=FULL), then one append and one fsync of the
 * JSON-lines file. So a record whose promise resolved survives `kill -9` and a
 * power cut, and the cost is two fsyncs per batch, not per call.
 *
 * Crash recovery on open: SQLite is written first, so after a crash the
 * JSON-lines file can only lack a tail of what SQLite holds, possibly with a
 * torn last line. Opening the writer cuts a torn line and appends the records
 * SQLite has after the last one in the file.
 */
import {
  closeSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readSync,
  writeSync,
} from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";

export type HangupBy = "caller" | "callee" | "gateway";

export interface CdrLeg {
  /** "a" (the caller's side) or "b" (towards the callee); a failover adds more b legs. */
  role: "a" | "b";
  callId: string;
  trunk?: string | undefined;
  /** The peer's address, "ip:port". */
  remote?: string | undefined;
  /** Final status this leg saw (200, 486, 408 …); undefined if it never got one. */
  status?: number | undefined;
}

export interface CallRecord {
  /** The gateway's own id for the call. */
  id: string;
  legs: CdrLeg[];
  from: string;
  to: string;
  /** ISO 8601 times; answer is null for a call that was never answered. */
  start: string;
  answer: string | null;
  end: string;
  /** Milliseconds from answer to end; 0 when unanswered. */
  durationMs: number;
  /** The final status the caller received (200 for an answered call). */
  status: number;
  hangupBy: HangupBy | null;
  /** Why the call ended: "BYE", "CANCEL", "486 Busy Here", "no route", "timeout" … */
  reason: string;
  emergency?: boolean;
}

export interface CdrWriterOptions {
  /** SQLite file; null or undefined for no SQLite store. */
  sqlite?: string | null | undefined;
  /** JSON-lines file; null or undefined for no JSON-lines store. */
  jsonl?: string | null | undefined;
  /** Longest a record waits for its batch to be flushed. Default 20 ms. */
  maxDelayMs?: number;
  /** Flush as soon as this many records are queued. Default 256. */
  maxBatch?: number;
}

/** Milliseconds between two ISO times, or 0. */
export function durationBetween(answer: string | null, end: string): number {
  if (answer === null) return 0;
  return Math.max(0, Date.parse(end) - Date.parse(answer));
}

/**
 * Collects a call's record as it happens, so the CallSession only reports
 * events: legs as they are created, the answer, the end. Times come from the
 * injectable clock (milliseconds since the epoch).
 */
export class CallRecordBuilder {
  private readonly legs: CdrLeg[] = [];
  private readonly startMs: number;
  private answerMs: number | null = null;
  private emergency = false;

  constructor(
    readonly id: string,
    private readonly from: string,
    private readonly to: string,
    private readonly now: () => number = Date.now,
  ) {
    this.startMs = now();
  }

  /** Adds a leg and returns it, so its final status can be set later. */
  leg(leg: CdrLeg): CdrLeg {
    this.legs.push(leg);
    return leg;
  }

  markEmergency(): void {
    this.emergency = true;
  }

  /** The first answer counts; a later 200 from another fork does not move it. */
  answered(): void {
    this.answerMs ??= this.now();
  }

  get isAnswered(): boolean {
    return this.answerMs !== null;
  }

  /** The finished record. `status` is the final status the caller got (200 if answered). */
  finish(end: { status: number; hangupBy: HangupBy | null; reason: string }): CallRecord {
    const endMs = this.now();
    const answer = this.answerMs === null ? null : new Date(this.answerMs).toISOString();
    return {
      id: this.id,
      legs: this.legs.map((l) => ({ ...l })),
      from: this.from,
      to: this.to,
      start: new Date(this.startMs).toISOString(),
      answer,
      end: new Date(endMs).toISOString(),
      durationMs: this.answerMs === null ? 0 : Math.max(0, endMs - this.answerMs),
      status: end.status,
      hangupBy: end.hangupBy,
      reason: end.reason,
      ...(this.emergency ? { emergency: true } : {}),
    };
  }
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS cdr (
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,
  id           TEXT NOT NULL UNIQUE,
  call_ids     TEXT NOT NULL,
  trunks       TEXT NOT NULL,
  from_uri     TEXT NOT NULL,
  to_uri       TEXT NOT NULL,
  start_time   TEXT NOT NULL,
  answer_time  TEXT,
  end_time     TEXT NOT NULL,
  duration_ms  INTEGER NOT NULL,
  status       INTEGER NOT NULL,
  hangup_by    TEXT,
  reason       TEXT NOT NULL,
  emergency    INTEGER NOT NULL,
  record       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS cdr_start ON cdr (start_time);
`;

interface Pending {
  record: CallRecord;
  json: string;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class CdrWriter {
  private readonly db: Database.Database | undefined;
  private readonly insert: Database.Statement | undefined;
  private readonly fd: number | undefined;
  private readonly maxDelayMs: number;
  private readonly maxBatch: number;
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(opts: CdrWriterOptions) {
    this.maxDelayMs = opts.maxDelayMs ?? 20;
    this.maxBatch = opts.maxBatch ?? 256;
    if (opts.sqlite) {
      mkdirSync(dirname(opts.sqlite), { recursive: true });
      this.db = new Database(opts.sqlite);
      this.db.pragma("journal_mode = WAL");
      this.db.pragma("synchronous = FULL");
      this.db.pragma("busy_timeout = 5000");
      this.db.exec(SCHEMA);
      this.insert = this.db.prepare(
        `INSERT OR IGNORE INTO cdr (id, call_ids, trunks, from_uri, to_uri, start_time, answer_time, end_time,
           duration_ms, status, hangup_by, reason, emergency, record)
         VALUES (@id, @call_ids, @trunks, @from_uri, @to_uri, @start_time, @answer_time, @end_time,
           @duration_ms, @status, @hangup_by, @reason, @emergency, @record)`,
      );
    }
    if (opts.jsonl) {
      mkdirSync(dirname(opts.jsonl), { recursive: true });
      this.fd = openSync(opts.jsonl, "a+");
      this.recoverJsonl();
    }
  }

  /**
   * Queues a record; resolves once it is durable in every configured store.
   * Rejects if the stores cannot be written (the record is then in neither or
   * only in SQLite, and recovery on the next open completes the JSON lines).
   */
  write(record: CallRecord): Promise<void> {
    if (this.closed) return Promise.reject(new Error("CDR writer is closed"));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ record, json: JSON.stringify(record), resolve, reject });
      if (this.queue.length >= this.maxBatch) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.maxDelayMs);
    });
  }

  /** Writes what is queued now, synchronously. */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    try {
      if (this.db && this.insert) {
        const insert = this.insert;
        this.db.transaction((items: Pending[]) => {
          for (const p of items) insert.run(row(p.record, p.json));
        })(batch);
      }
      if (this.fd !== undefined) {
        writeFully(this.fd, Buffer.from(batch.map((p) => `${p.json}\n`).join(""), "utf8"));
        fsyncSync(this.fd);
      }
    } catch (err) {
      for (const p of batch) p.reject(err as Error);
      return;
    }
    for (const p of batch) p.resolve();
  }

  /** Flushes and closes both stores. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.db?.close();
    if (this.fd !== undefined) closeSync(this.fd);
  }

  /** Records in SQLite, oldest first (for tests and tools). */
  readSqlite(limit = 1_000_000): CallRecord[] {
    if (!this.db) return [];
    return this.db
      .prepare("SELECT record FROM cdr ORDER BY seq LIMIT ?")
      .all(limit)
      .map((r) => JSON.parse((r as { record: string }).record) as CallRecord);
  }

  /** Cuts a torn last line, then appends what SQLite holds beyond the file's last record. */
  private recoverJsonl(): void {
    const fd = this.fd!;
    const size = fstatSync(fd).size;
    // An empty file is a fresh or rotated one: it starts from now, not from SQLite's whole history.
    if (size === 0) return;
    // Read back far enough to hold at least one whole line.
    let tailSize = Math.min(size, 64 * 1024);
    let tail: Buffer;
    for (;;) {
      tail = Buffer.alloc(tailSize);
      readSync(fd, tail, 0, tailSize, size - tailSize);
      const lastNewline = tail.lastIndexOf(0x0a);
      if (lastNewline >= 0 || tailSize === size) break;
      tailSize = Math.min(size, tailSize * 4);
    }
    const lastNewline = tail.lastIndexOf(0x0a);
    if (lastNewline !== tail.length - 1) {
      // A torn line: the writer died mid-append, before the fsync that would have acknowledged it.
      ftruncateSync(fd, size - tailSize + lastNewline + 1);
      fsyncSync(fd);
    }
    if (!this.db) return;
    const text = tail.subarray(0, lastNewline + 1).toString("utf8");
    const lines = text.split("\n").filter((l) => l.length > 0);
    let lastId: string | undefined;
    for (let i = lines.length - 1; i >= 0 && lastId === undefined; i--) {
      try {
        lastId = (JSON.parse(lines[i]!) as CallRecord).id;
      } catch {
        // The first line of the tail may be cut by the read window; look at the one before.
      }
    }
    this.appendMissing(lastId);
  }

  private appendMissing(lastId: string | undefined): void {
    if (lastId === undefined) return;
    const db = this.db!;
    const found = db.prepare("SELECT seq FROM cdr WHERE id = ?").get(lastId) as { seq: number } | undefined;
    // A file whose last record SQLite does not know (another database, a rotated one) is not ours to complete.
    if (!found) return;
    const after = found.seq;
    const missing = db.prepare("SELECT record FROM cdr WHERE seq > ? ORDER BY seq").all(after) as {
      record: string;
    }[];
    if (missing.length === 0) return;
    writeFully(this.fd!, Buffer.from(missing.map((r) => `${r.record}\n`).join(""), "utf8"));
    fsyncSync(this.fd!);
  }
}

function writeFully(fd: number, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
}

function row(r: CallRecord, json: string) {
  return {
    id: r.id,
    call_ids: JSON.stringify(r.legs.map((l) => l.callId)),
    trunks: JSON.stringify([...new Set(r.legs.flatMap((l) => (l.trunk ? [l.trunk] : [])))]),
    from_uri: r.from,
    to_uri: r.to,
    start_time: r.start,
    answer_time: r.answer,
    end_time: r.end,
    duration_ms: r.durationMs,
    status: r.status,
    hangup_by: r.hangupBy,
    reason: r.reason,
    emergency: r.emergency ? 1 : 0,
    record: json,
  };
}
