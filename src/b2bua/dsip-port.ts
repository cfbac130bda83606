/**
 * How the B2BUA reaches the DSIP side: a structural interface the start
 * command fills from the embedded agent (sign as an identity, deliver live or
 * at the relay), and the registry that hands each in-call DSIP message to the
 * call it belongs to. Calls are keyed by (peer DID, dsip.invite id): an id is
 * chosen by whoever sent the invite, so only the pair is unique, and a message
 * from anyone but the call's peer never reaches the call.
 */
import type { DsipMessage } from "../agent/index.js";

export interface DsipPort {
  /** The gateway's own DID. */
  readonly did: string;
  /** Whether a DID has a live connection to this gateway. */
  isOnline(did: string): boolean;
  /** Signs `message` as `as` (the gateway's DID or one of its tn DIDs) and delivers it; rejects when it cannot. */
  send(as: string, message: object): Promise<void>;
}

/** One side of a call that speaks DSIP. */
export interface DsipCallPeer {
  /** The DID at the other end of the DSIP leg. */
  readonly peer: string;
  onDsip(message: DsipMessage): void;
}

export class DsipCallRegistry {
  private readonly calls = new Map<string, DsipCallPeer>();

  private static key(peer: string, inviteId: string): string {
    return `${peer}\n${inviteId}`;
  }

  add(inviteId: string, call: DsipCallPeer): void {
    this.calls.set(DsipCallRegistry.key(call.peer, inviteId), call);
  }

  delete(inviteId: string, peer: string): void {
    this.calls.delete(DsipCallRegistry.key(peer, inviteId));
  }

  has(peer: string, inviteId: string): boolean {
    return this.calls.has(DsipCallRegistry.key(peer, inviteId));
  }

  /** The call `message` belongs to (by its `correlates` and sender), if any. */
  find(message: DsipMessage): DsipCallPeer | undefined {
    const correlates = (message as { correlates?: string }).correlates;
    if (correlates === undefined) return undefined;
    return this.calls.get(DsipCallRegistry.key(message.from, correlates));
  }

  get size(): number {
    return this.calls.size;
  }
}
