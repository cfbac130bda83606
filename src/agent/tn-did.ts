/**
 * DIDs for the telephone numbers the gateway speaks for (ARCHITECTURE §4):
 * `did:web:<gateway host>:tn:<E.164 digits>`, resolved per did:web at
 * https://<host>/tn/<digits>/did.json. Their documents carry the gateway's own
 * keys, so a message the gateway signs as a number verifies like any other;
 * `controller` says who stands behind them.
 */
import type { DidDocument } from "./did-document.js";
import { didWebIdentity, gatewayDidDocument, type Identity } from "./wallet.js";

/** E.164 without "+": a country code never starts with 0, at most 15 digits. */
const TN_DIGITS = /^[1-9][0-9]{1,14}$/;

/**
 * The digits of `did` when it is a tn DID directly under `gatewayDid`, else
 * undefined. The comparison is exact: the gateway only ever issues the form
 * it writes itself (lower-case host, "%3A" before a port).
 */
export function tnDigitsOf(gatewayDid: string, did: string): string | undefined {
  const prefix = `${gatewayDid}:tn:`;
  if (!did.startsWith(prefix)) return undefined;
  const digits = did.slice(prefix.length);
  return TN_DIGITS.test(digits) ? digits : undefined;
}

/** The tn DID of `digits` (E.164 without "+") under the gateway's did:web. */
export function tnDidOf(gatewayDid: string, digits: string): string {
  if (!TN_DIGITS.test(digits)) throw new TypeError(`${digits} is not E.164 digits`);
  return `${gatewayDid}:tn:${digits}`;
}

/**
 * The document of a tn DID: the gateway's keys under the tn DID's own ids
 * (`<tn DID>#key-1`, so the acceptance check "kid belongs to from" holds) and
 * the gateway's DSIP service, with the gateway as controller.
 */
export function tnDidDocument(
  gatewayIdentity: Identity,
  tnDid: string,
  dsipEndpoints: readonly string[],
): DidDocument {
  if (tnDigitsOf(gatewayIdentity.did, tnDid) === undefined)
    throw new TypeError(`${tnDid} is not a tn DID of ${gatewayIdentity.did}`);
  const doc = gatewayDidDocument({ ...gatewayIdentity, did: tnDid }, dsipEndpoints);
  return { ...doc, controller: gatewayIdentity.did };
}

/** The gateway acting as one of its numbers: same key, `kid` = `<tn DID>#key-1`. */
export function tnIdentity(gatewayIdentity: Identity, tnDid: string): Identity {
  if (tnDigitsOf(gatewayIdentity.did, tnDid) === undefined)
    throw new TypeError(`${tnDid} is not a tn DID of ${gatewayIdentity.did}`);
  return didWebIdentity(gatewayIdentity.seed, tnDid);
}

/**
 * A tn DID's document derived from the gateway's published document (what a
 * client that trusts the gateway's document can do without another fetch):
 * the same keys and service under the tn DID's ids, the gateway as controller.
 * Undefined when `tnDid` is not one of that gateway's tn DIDs.
 */
export function tnDidDocumentFromGateway(gatewayDoc: DidDocument, tnDid: string): DidDocument | undefined {
  if (tnDigitsOf(gatewayDoc.id, tnDid) === undefined) return undefined;
  const gw = gatewayDoc.id;
  const rename = (v: unknown): unknown => {
    if (typeof v === "string")
      return v === gw ? tnDid : v.startsWith(`${gw}#`) ? tnDid + v.slice(gw.length) : v;
    if (Array.isArray(v)) return v.map(rename);
    if (v && typeof v === "object")
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, rename(x)]));
    return v;
  };
  return { ...(rename(gatewayDoc) as DidDocument), controller: gw };
}
