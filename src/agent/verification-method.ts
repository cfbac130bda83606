/**
 * Normalises verification methods of any accepted type to raw 32-byte Ed25519
 * keys, and answers "which keys may authenticate as this DID".
 */
import { base58Decode } from "./base58.js";
import type { DidDocument, VerificationMethod } from "./did-document.js";
import { decodeEd25519Multibase, isValidEd25519Point } from "./did-key.js";

export const ACCEPTED_VERIFICATION_METHOD_TYPES = [
  "Ed25519VerificationKey2018",
  "Ed25519VerificationKey2020",
  "Multikey",
  "JsonWebKey2020",
] as const;

const ACCEPTED = new Set<string>(ACCEPTED_VERIFICATION_METHOD_TYPES);

/** The raw Ed25519 key of a verification method, or undefined when it is not an acceptable Ed25519 key. */
export function ed25519KeyOf(vm: VerificationMethod): Uint8Array | undefined {
  if (!ACCEPTED.has(vm.type)) return undefined;
  if (typeof vm.publicKeyMultibase === "string") return decodeEd25519Multibase(vm.publicKeyMultibase);
  if (typeof vm.publicKeyBase58 === "string") {
    const raw = base58Decode(vm.publicKeyBase58);
    return raw && raw.length === 32 && isValidEd25519Point(raw) ? raw : undefined;
  }
  const jwk = vm.publicKeyJwk;
  if (
    jwk &&
    typeof jwk === "object" &&
    jwk.kty === "OKP" &&
    jwk.crv === "Ed25519" &&
    typeof jwk.x === "string"
  ) {
    if (!/^[A-Za-z0-9_-]{43}$/.test(jwk.x)) return undefined;
    const raw = new Uint8Array(Buffer.from(jwk.x, "base64url"));
    return raw.length === 32 && isValidEd25519Point(raw) ? raw : undefined;
  }
  return undefined;
}

/** A relative reference (`#key-1`) or absolute DID URL, made absolute against the document id. */
export function absoluteId(docId: string, ref: string): string {
  return ref.startsWith("#") ? docId + ref : ref;
}

/**
 * Every key in the `authentication` relationship, by absolute key id. Several
 * keys are the rotation case: a message verifies against any of them.
 */
export function authenticationKeys(doc: DidDocument): Map<string, Uint8Array> {
  const byId = new Map<string, VerificationMethod>();
  for (const vm of Array.isArray(doc.verificationMethod) ? doc.verificationMethod : []) {
    if (vm && typeof vm.id === "string") byId.set(absoluteId(doc.id, vm.id), vm);
  }
  const keys = new Map<string, Uint8Array>();
  for (const entry of Array.isArray(doc.authentication) ? doc.authentication : []) {
    const vm = typeof entry === "string" ? byId.get(absoluteId(doc.id, entry)) : entry;
    if (!vm || typeof vm !== "object" || typeof vm.id !== "string") continue;
    const key = ed25519KeyOf(vm);
    if (key) keys.set(absoluteId(doc.id, vm.id), key);
  }
  return keys;
}

/** The first X25519 key agreement key (Multikey `z6LS…` or X25519 JWK), if any. */
export function x25519KeyAgreementKey(doc: DidDocument): Uint8Array | undefined {
  const byId = new Map<string, VerificationMethod>();
  for (const vm of Array.isArray(doc.verificationMethod) ? doc.verificationMethod : []) {
    if (vm && typeof vm.id === "string") byId.set(absoluteId(doc.id, vm.id), vm);
  }
  for (const entry of Array.isArray(doc.keyAgreement) ? doc.keyAgreement : []) {
    const vm = typeof entry === "string" ? byId.get(absoluteId(doc.id, entry)) : entry;
    if (!vm || typeof vm !== "object") continue;
    if (typeof vm.publicKeyMultibase === "string" && vm.publicKeyMultibase.startsWith("z")) {
      const bytes = base58Decode(vm.publicKeyMultibase.slice(1));
      if (bytes && bytes.length === 34 && bytes[0] === 0xec && bytes[1] === 0x01) return bytes.slice(2);
    }
    const jwk = vm.publicKeyJwk;
    if (jwk && jwk.kty === "OKP" && jwk.crv === "X25519" && typeof jwk.x === "string") {
      const raw = new Uint8Array(Buffer.from(jwk.x, "base64url"));
      if (raw.length === 32) return raw;
    }
  }
  return undefined;
}
