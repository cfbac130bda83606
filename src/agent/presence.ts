/**
 * Signed presence records (proposal §5.1): a DID's live endpoints, valid for a
 * short TTL, ordered by `seq`. Stores sit behind PresenceStore so that a DHT or
 * Redis can replace the in-memory one; records are keyed as the DHT would key
 * them, `sha256("dsip-presence:" + DID)`.
 */
import { createHash } from "node:crypto";
import { SchemaError, StalePresenceError } from "./errors.js";
import type { MessageOf } from "./messages.js";

export type PresenceRecord = MessageOf<"dsip.presence">;

export const PRESENCE_MIN_TTL_SECONDS = 60;
export const PRESENCE_MAX_TTL_SECONDS = 300;

export function presenceKey(did: string): string {
  return createHash("sha256").update(`dsip-presence:${did}`, "utf8").digest("hex");
}

export interface PresenceStore {
  /** Stores a verified record; throws StalePresenceError if a newer one is held. */
  put(record: PresenceRecord, now: number): Promise<void>;
  /** The current record of a DID, or undefined when none or expired. */
  get(did: string, now: number): Promise<PresenceRecord | undefined>;
}

/** TTL rules a record must meet before any store takes it (signature is checked before). */
export function checkPresenceLifetime(record: PresenceRecord, now: number): void {
  const ttl = record.exp - record.ts;
  if (ttl < PRESENCE_MIN_TTL_SECONDS || ttl > PRESENCE_MAX_TTL_SECONDS) {
    throw new SchemaError(
      `presence TTL (exp - ts) must be ${PRESENCE_MIN_TTL_SECONDS}..${PRESENCE_MAX_TTL_SECONDS} s`,
    );
  }
  if (record.exp <= now) throw new StalePresenceError("record already expired");
}

export class MemoryPresenceStore implements PresenceStore {
  private readonly records = new Map<string, PresenceRecord>();

  constructor(private readonly maxEntries = 100_000) {}

  async put(record: PresenceRecord, now: number): Promise<void> {
    checkPresenceLifetime(record, now);
    const key = presenceKey(record.from);
    const held = this.records.get(key);
    // The highest seq ever seen wins, even after it expired: an old record
    // replayed later must not come back to life.
    if (held && record.seq <= held.seq) throw new StalePresenceError(`seq ${record.seq} <= held ${held.seq}`);
    if (!held && this.records.size >= this.maxEntries) this.evictExpired(now);
    this.records.set(key, record);
  }

  async get(did: string, now: number): Promise<PresenceRecord | undefined> {
    const record = this.records.get(presenceKey(did));
    return record && record.exp > now ? record : undefined;
  }

  private evictExpired(now: number): void {
    for (const [key, record] of this.records) if (record.exp <= now) this.records.delete(key);
    if (this.records.size >= this.maxEntries) {
      const oldest = this.records.keys().next().value;
      if (oldest !== undefined) this.records.delete(oldest);
    }
  }
}
