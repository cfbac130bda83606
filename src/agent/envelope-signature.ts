/**
 * DSIP envelope signatures (ARCHITECTURE §4): `sig = {alg:"EdDSA", kid, jws}` where
 * `jws` is a detached compact JWS (RFC 7515 App. F) over JCS(message without `sig`).
 * The protected header is exactly `{"alg":"EdDSA","kid":<kid>}`.
 */
import { sign as cryptoSign, verify as cryptoVerify, type KeyObject } from "node:crypto";
import { BadSignatureError } from "./errors.js";
import { canonicalBytes } from "./jcs.js";

export interface Signature {
  alg: "EdDSA";
  kid: string;
  jws: string;
}

export interface MessageSigner {
  /** DID URL of the signing key, e.g. `did:key:z6Mk…#z6Mk…`. */
  readonly kid: string;
  sign<M extends object>(message: M): M & { sig: Signature };
}

function protectedHeader(kid: string): string {
  return Buffer.from(JSON.stringify({ alg: "EdDSA", kid }), "utf8").toString("base64url");
}

function withoutSig(message: object): object {
  if (!Object.hasOwn(message, "sig")) return message;
  const { sig: _sig, ...rest } = message as { sig?: unknown };
  return rest;
}

function signingInput(protectedB64: string, message: object): Buffer {
  const payload = canonicalBytes(withoutSig(message)).toString("base64url");
  return Buffer.from(`${protectedB64}.${payload}`, "ascii");
}

export function createMessageSigner(kid: string, privateKey: KeyObject): MessageSigner {
  const protectedB64 = protectedHeader(kid);
  return {
    kid,
    sign<M extends object>(message: M): M & { sig: Signature } {
      const unsigned = withoutSig(message) as M;
      const signature = cryptoSign(null, signingInput(protectedB64, unsigned), privateKey);
      return {
        ...unsigned,
        sig: { alg: "EdDSA", kid, jws: `${protectedB64}..${signature.toString("base64url")}` },
      };
    },
  };
}

const headerCache = new Map<string, string>();

/** The `kid` named by a detached JWS's protected header; throws BadSignatureError if malformed. */
function checkedProtectedHeader(protectedB64: string, kid: string): void {
  if (headerCache.get(protectedB64) === kid) return;
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(protectedB64, "base64url").toString("utf8"));
  } catch {
    throw new BadSignatureError("protected header is not JSON");
  }
  const h = header as { alg?: unknown; kid?: unknown; crit?: unknown };
  if (typeof header !== "object" || header === null || h.alg !== "EdDSA") {
    throw new BadSignatureError("protected header alg must be EdDSA");
  }
  if (h.kid !== kid) throw new BadSignatureError("protected header kid differs from sig.kid");
  if (h.crit !== undefined) throw new BadSignatureError("crit is not supported");
  // Bounded: a flood of distinct headers only costs re-parsing.
  if (headerCache.size > 10_000) headerCache.clear();
  headerCache.set(protectedB64, kid);
}

/**
 * Verifies `message.sig` with `publicKey`. Throws BadSignatureError when the JWS is
 * malformed or does not verify. Does not check who the key belongs to.
 */
export function verifyMessageSignature(message: { sig: Signature }, publicKey: KeyObject): void {
  const { jws, kid } = message.sig;
  const dot = jws.indexOf("..");
  if (dot <= 0 || jws.indexOf(".", dot + 2) !== -1)
    throw new BadSignatureError("jws is not <protected>..<sig>");
  const protectedB64 = jws.slice(0, dot);
  checkedProtectedHeader(protectedB64, kid);
  const signature = Buffer.from(jws.slice(dot + 2), "base64url");
  if (signature.length !== 64) throw new BadSignatureError("an Ed25519 signature is 64 bytes");
  if (!cryptoVerify(null, signingInput(protectedB64, message), publicKey, signature)) {
    throw new BadSignatureError("signature does not verify");
  }
}
