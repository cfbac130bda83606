/** The live transactions, by key, with counts per kind for metrics and leak checks. */
import type { Transaction, TransactionKind } from "./base.js";
import type { InviteClientTransaction } from "./invite-client.js";
import type { InviteServerTransaction } from "./invite-server.js";
import type { NonInviteClientTransaction } from "./non-invite-client.js";
import type { NonInviteServerTransaction } from "./non-invite-server.js";

export type ClientTransaction = InviteClientTransaction | NonInviteClientTransaction;
export type AnyServerTransaction = InviteServerTransaction | NonInviteServerTransaction;

export interface TransactionCounts {
  inviteClient: number;
  nonInviteClient: number;
  inviteServer: number;
  nonInviteServer: number;
  total: number;
}

export class TransactionTable {
  readonly client = new Map<string, ClientTransaction>();
  readonly server = new Map<string, AnyServerTransaction>();
  /**
   * Server transactions per source IP still waiting for the TU's final response, so one peer
   * cannot tie up the TU. Answered ones only absorb retransmissions for 32 s (Timers J and L);
   * counting them would refuse a single trunk at ~150 calls/s (two per call for 32 s each).
   */
  private readonly perSource = new Map<string, number>();
  private readonly pending = new WeakSet<AnyServerTransaction>();
  private readonly perKind: Record<TransactionKind, number> = {
    "invite-client": 0,
    "non-invite-client": 0,
    "invite-server": 0,
    "non-invite-server": 0,
  };

  addClient(tx: ClientTransaction): void {
    this.client.set(tx.key, tx);
    this.perKind[tx.kind]++;
  }

  addServer(tx: AnyServerTransaction): void {
    this.server.set(tx.key, tx);
    this.perKind[tx.kind]++;
    const host = tx.source.host;
    this.perSource.set(host, (this.perSource.get(host) ?? 0) + 1);
    this.pending.add(tx);
  }

  /** The transaction sent its final response, or ended: it no longer counts against its source. */
  answered(tx: AnyServerTransaction): void {
    if (!this.pending.delete(tx)) return;
    const host = tx.source.host;
    const n = (this.perSource.get(host) ?? 1) - 1;
    if (n <= 0) this.perSource.delete(host);
    else this.perSource.set(host, n);
  }

  serverCountFrom(host: string): number {
    return this.perSource.get(host) ?? 0;
  }

  /** Called from the transaction's termination; only removes the entry if it is still this transaction. */
  remove(tx: Transaction): void {
    const map: Map<string, Transaction> =
      tx.kind === "invite-client" || tx.kind === "non-invite-client" ? this.client : this.server;
    if (map.get(tx.key) === tx) {
      map.delete(tx.key);
      this.perKind[tx.kind]--;
    }
    if (map === this.server) this.answered(tx as AnyServerTransaction);
  }

  counts(): TransactionCounts {
    const k = this.perKind;
    return {
      inviteClient: k["invite-client"],
      nonInviteClient: k["non-invite-client"],
      inviteServer: k["invite-server"],
      nonInviteServer: k["non-invite-server"],
      total: this.client.size + this.server.size,
    };
  }

  all(): Transaction[] {
    return [...this.client.values(), ...this.server.values()];
  }
}
