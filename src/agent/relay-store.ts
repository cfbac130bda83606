/**
 * The store-and-forward relay: `dsip.envelope.v1` messages kept in SQLite until
 * the recipient acknowledges them. WAL with synchronous=FULL: once `put` returns,
 * the envelope survives kill -9 and power loss of the process.
 */
import Database from "better-sqlite3";
import { DsipError } from "./errors.js";
import type { MessageOf } from "./messages.js";

export type RelayEnvelope = MessageOf<"dsip.envelope.v1">;

export interface StoredEnvelope {
  id: string;
  recipient: string;
  envelope: RelayEnvelope;
}

export interface RelayStoreOptions {
  /** Envelopes one recipient may have waiting. */
  maxPerRecipient?: number;
  /** Envelopes the whole store may hold (a bound on disk use). */
  maxTotal?: number;
}

export class RelayStore {
  private readonly db: Database.Database;
  private readonly maxPerRecipient: number;
  private readonly maxTotal: number;
  private total: number;
  private readonly insert: Database.Statement;
  private readonly countFor: Database.Statement;
  private readonly pendingFor: Database.Statement;
  private readonly remove: Database.Statement;
  private readonly purge: Database.Statement;

  constructor(path: string, options: RelayStoreOptions = {}) {
    this.maxPerRecipient = options.maxPerRecipient ?? 1000;
    this.maxTotal = options.maxTotal ?? 1_000_000;
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = FULL");
    this.db.pragma("busy_timeout = 5000");
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS envelopes (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL,
        recipient TEXT NOT NULL,
        body TEXT NOT NULL,
        size INTEGER NOT NULL,
        expires INTEGER NOT NULL,
        created INTEGER NOT NULL,
        UNIQUE (recipient, id)
      );
      CREATE INDEX IF NOT EXISTS envelopes_by_recipient ON envelopes (recipient, seq);
      CREATE INDEX IF NOT EXISTS envelopes_by_expiry ON envelopes (expires);
    `);
    this.insert = this.db.prepare(
      "INSERT OR IGNORE INTO envelopes (id, recipient, body, size, expires, created) VALUES (?, ?, ?, ?, ?, ?)",
    );
    this.countFor = this.db.prepare(
      "SELECT count(*) AS n FROM envelopes WHERE recipient = ? AND expires > ?",
    );
    this.pendingFor = this.db.prepare(
      "SELECT id, recipient, body FROM envelopes WHERE recipient = ? AND expires > ? ORDER BY seq LIMIT ?",
    );
    this.remove = this.db.prepare("DELETE FROM envelopes WHERE recipient = ? AND id = ?");
    this.purge = this.db.prepare("DELETE FROM envelopes WHERE expires <= ?");
    this.total = (this.db.prepare("SELECT count(*) AS n FROM envelopes").get() as { n: number }).n;
  }

  /** Stores an envelope for `envelope.to`; a second put of the same id is a no-op. */
  put(envelope: RelayEnvelope, now: number): void {
    if (this.total >= this.maxTotal) throw new DsipError("relayFull", "the relay is full");
    if (this.count(envelope.to, now) >= this.maxPerRecipient)
      throw new DsipError("relayFull", "recipient queue is full");
    const body = JSON.stringify(envelope);
    this.total += this.insert.run(
      envelope.id,
      envelope.to,
      body,
      Buffer.byteLength(body),
      envelope.exp,
      now,
    ).changes;
  }

  get size(): number {
    return this.total;
  }

  count(recipient: string, now: number): number {
    return (this.countFor.get(recipient, now) as { n: number }).n;
  }

  /** Unexpired envelopes for a recipient, oldest first. */
  pending(recipient: string, now: number, limit = 1000): StoredEnvelope[] {
    const rows = this.pendingFor.all(recipient, now, limit) as {
      id: string;
      recipient: string;
      body: string;
    }[];
    return rows.map((r) => ({
      id: r.id,
      recipient: r.recipient,
      envelope: JSON.parse(r.body) as RelayEnvelope,
    }));
  }

  /** Deletes an envelope the recipient acknowledged; returns whether it was held. */
  acknowledge(recipient: string, id: string): boolean {
    const removed = this.remove.run(recipient, id).changes;
    this.total -= removed;
    return removed > 0;
  }

  purgeExpired(now: number): number {
    const removed = this.purge.run(now).changes;
    this.total -= removed;
    return removed;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
