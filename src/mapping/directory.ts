/**
 * The number/DID directory: which DID a SIP number or user reaches (SIP →
 * DSIP) and which number a DID shows when it calls out (DSIP → SIP). Built once
 * from the validated config; lookups are exact on canonical forms, so callers
 * normalise first (normaliseNumber, with the trunk's number format).
 */
import type { DirectoryEntryConfig, GatewayConfig } from "../config/index.js";
import { type CalledNumber, numberFromTnDid, tnDidFor } from "./numbers.js";

/** What a DID shows on the SIP side. No `e164` means anonymous. */
export interface PresentedIdentity {
  e164?: string;
  display?: string;
}

export class Directory {
  private readonly byNumber = new Map<string, DirectoryEntryConfig>();
  private readonly byUser = new Map<string, DirectoryEntryConfig>();
  private readonly byDid = new Map<string, DirectoryEntryConfig>();

  /**
   * `entries` as compiled by the config (numbers already E.164, duplicates
   * refused there). A hand-built list keeps the first entry of a duplicate.
   */
  constructor(
    readonly gatewayDid: string,
    readonly entries: readonly DirectoryEntryConfig[] = [],
  ) {
    for (const e of entries) {
      if (e.number !== undefined && !this.byNumber.has(e.number)) this.byNumber.set(e.number, e);
      if (e.user !== undefined && !this.byUser.has(e.user)) this.byUser.set(e.user, e);
      // The first entry that presents a number names the DID's identity on SIP.
      const held = this.byDid.get(e.did);
      if (!held || (held.present === undefined && e.present !== undefined)) this.byDid.set(e.did, e);
    }
  }

  static fromConfig(config: Pick<GatewayConfig, "directory">, gatewayDid: string): Directory {
    return new Directory(gatewayDid, config.directory);
  }

  /** SIP → DSIP: the DID an E.164 number reaches. */
  didForNumber(e164: string): string | undefined {
    return this.byNumber.get(e164)?.did;
  }

  /** SIP → DSIP: the DID a SIP user part reaches (case-sensitive, RFC 3261 §19.1.4). */
  didForUser(user: string): string | undefined {
    return this.byUser.get(user)?.did;
  }

  /**
   * SIP → DSIP for a called number as routing normalised it: E.164 numbers by
   * number; users and non-E.164 dial strings (extensions like "1001") by user.
   */
  didForCalled(called: CalledNumber): string | undefined {
    if (called.kind === "e164") return this.didForNumber(called.number);
    return this.didForUser(called.number);
  }

  /**
   * DSIP → SIP: the identity a calling DID shows. A DID with no entry, or an
   * entry without a number (a user entry without `present`), is anonymous.
   */
  presentedFor(did: string): PresentedIdentity {
    const e = this.byDid.get(did);
    if (!e) return {};
    return {
      ...(e.present !== undefined ? { e164: e.present } : {}),
      ...(e.display !== undefined ? { display: e.display } : {}),
    };
  }

  /** True when the number is one of the directory's (it then has DSIP users behind it). */
  hasNumber(e164: string): boolean {
    return this.byNumber.has(e164);
  }

  /** The gateway's tn DID for a number (`did:web:<host>:tn:<digits>`). */
  tnDid(e164: string): string {
    return tnDidFor(this.gatewayDid, e164);
  }

  /** The number of one of the gateway's tn DIDs, or undefined. */
  numberOf(did: string): string | undefined {
    return numberFromTnDid(this.gatewayDid, did);
  }
}
