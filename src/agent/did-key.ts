/**
 * did:key for Ed25519 (w3c-ccg did-method-key): `did:key:z` + base58btc(0xed 0x01 ‖ key).
 * The X25519 key agreement key is the Montgomery form of the same key (0xec 0x01).
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { base58Decode, base58Encode } from "./base58.js";
import type { DidDocument } from "./did-document.js";

const ED25519_CODEC = [0xed, 0x01] as const;
const X25519_CODEC = [0xec, 0x01] as const;

function multibaseKey(codec: readonly [number, number], key: Uint8Array): string {
  const bytes = new Uint8Array(34);
  bytes[0] = codec[0];
  bytes[1] = codec[1];
  bytes.set(key, 2);
  return "z" + base58Encode(bytes);
}

/** `z6Mk…` multibase of an Ed25519 public key (also its did:key fingerprint). */
export function ed25519Multibase(publicKey: Uint8Array): string {
  if (publicKey.length !== 32) throw new RangeError("an Ed25519 public key is 32 bytes");
  return multibaseKey(ED25519_CODEC, publicKey);
}

export function x25519Multibase(publicKey: Uint8Array): string {
  return multibaseKey(X25519_CODEC, publicKey);
}

export function didKeyFromPublicKey(publicKey: Uint8Array): string {
  return "did:key:" + ed25519Multibase(publicKey);
}

/**
 * Decodes a `z6Mk…` multibase Ed25519 key. Returns undefined unless it is exactly
 * 34 bytes with multicodec 0xed01 and the key is a valid curve point.
 */
export function decodeEd25519Multibase(multibase: string): Uint8Array | undefined {
  if (!multibase.startsWith("z") || multibase.length > 60) return undefined;
  const bytes = base58Decode(multibase.slice(1));
  if (bytes?.length !== 34 || bytes[0] !== ED25519_CODEC[0] || bytes[1] !== ED25519_CODEC[1]) {
    return undefined;
  }
  const key = bytes.slice(2);
  return isValidEd25519Point(key) ? key : undefined;
}

export function isValidEd25519Point(key: Uint8Array): boolean {
  try {
    ed25519.Point.fromBytes(key);
    return true;
  } catch {
    return false;
  }
}

/** The Ed25519 public key of a did:key, or undefined if it is not a valid Ed25519 did:key. */
export function publicKeyFromDidKey(did: string): Uint8Array | undefined {
  if (!did.startsWith("did:key:")) return undefined;
  return decodeEd25519Multibase(did.slice("did:key:".length));
}

/** The DID document of an Ed25519 did:key, with Multikey verification methods. */
export function didKeyDocument(did: string): DidDocument | undefined {
  const publicKey = publicKeyFromDidKey(did);
  if (!publicKey) return undefined;
  const fingerprint = did.slice("did:key:".length);
  const vmId = `${did}#${fingerprint}`;
  const x25519Key = x25519Multibase(ed25519.utils.toMontgomery(publicKey));
  const kaId = `${did}#${x25519Key}`;
  return {
    "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
    id: did,
    verificationMethod: [{ id: vmId, type: "Multikey", controller: did, publicKeyMultibase: fingerprint }],
    authentication: [vmId],
    assertionMethod: [vmId],
    capabilityInvocation: [vmId],
    capabilityDelegation: [vmId],
    keyAgreement: [{ id: kaId, type: "Multikey", controller: did, publicKeyMultibase: x25519Key }],
  };
}
