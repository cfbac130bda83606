/**
 * The key wallet: Ed25519 keys on disk (a JWK file, mode 0600) and the identities
 * built on them — did:key for clients and tests, did:web for the gateway itself.
 */
import { randomBytes } from "node:crypto";
import { chmod, open, readFile, stat } from "node:fs/promises";
import { ed25519 } from "@noble/curves/ed25519.js";
import { type DidDocument, DSIP_SERVICE_TYPE } from "./did-document.js";
import { didKeyFromPublicKey, ed25519Multibase, x25519Multibase } from "./did-key.js";
import { privateKeyFromSeed } from "./ed25519-keys.js";
import { createMessageSigner, type MessageSigner } from "./envelope-signature.js";

export interface KeyFile {
  kty: "OKP";
  crv: "Ed25519";
  x: string;
  d: string;
  /** The DID this key acts as; absent means its did:key. */
  did?: string;
}

export class KeyFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KeyFileError";
  }
}

export interface Identity {
  readonly did: string;
  readonly kid: string;
  readonly seed: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly signer: MessageSigner;
  /** The X25519 secret for decrypting relay envelopes addressed to this identity. */
  readonly x25519Secret: Uint8Array;
}

export function generateSeed(): Uint8Array {
  return new Uint8Array(randomBytes(32));
}

export function seedFromHex(hex: string): Uint8Array {
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new KeyFileError("a seed is 64 hex digits (32 bytes)");
  return new Uint8Array(Buffer.from(hex, "hex"));
}

/** An identity acting as its did:key (`kid` = `did#fingerprint`). */
export function didKeyIdentity(seed: Uint8Array): Identity {
  const publicKey = ed25519.getPublicKey(seed);
  const did = didKeyFromPublicKey(publicKey);
  return buildIdentity(seed, publicKey, did, `${did}#${did.slice("did:key:".length)}`);
}

/** An identity acting as a did:web whose document lists this key as `#key-1`. */
export function didWebIdentity(seed: Uint8Array, did: string): Identity {
  const publicKey = ed25519.getPublicKey(seed);
  return buildIdentity(seed, publicKey, did, `${did}#key-1`);
}

function buildIdentity(seed: Uint8Array, publicKey: Uint8Array, did: string, kid: string): Identity {
  return {
    did,
    kid,
    seed,
    publicKey,
    signer: createMessageSigner(kid, privateKeyFromSeed(seed)),
    x25519Secret: ed25519.utils.toMontgomerySecret(seed),
  };
}

export function identityFromKeyFile(file: KeyFile): Identity {
  const seed = new Uint8Array(Buffer.from(file.d, "base64url"));
  if (seed.length !== 32) throw new KeyFileError("key file: d is not a 32-byte Ed25519 seed");
  const identity = file.did?.startsWith("did:web:") ? didWebIdentity(seed, file.did) : didKeyIdentity(seed);
  if (Buffer.from(identity.publicKey).toString("base64url") !== file.x) {
    throw new KeyFileError("key file: x does not match d");
  }
  return identity;
}

export function keyFileFor(seed: Uint8Array, did?: string): KeyFile {
  const x = Buffer.from(ed25519.getPublicKey(seed)).toString("base64url");
  const file: KeyFile = { kty: "OKP", crv: "Ed25519", x, d: Buffer.from(seed).toString("base64url") };
  if (did) file.did = did;
  return file;
}

/** Writes a new key file with mode 0600; refuses to overwrite an existing one. */
export async function writeKeyFile(path: string, file: KeyFile): Promise<void> {
  const handle = await open(path, "wx", 0o600);
  try {
    await handle.writeFile(JSON.stringify(file, null, 2) + "\n");
  } finally {
    await handle.close();
  }
  // The umask may have narrowed the mode further, never widened it; make it exact.
  await chmod(path, 0o600);
}

export async function readKeyFile(path: string): Promise<KeyFile> {
  const info = await stat(path);
  if (process.platform !== "win32" && (info.mode & 0o077) !== 0) {
    throw new KeyFileError(
      `${path}: key file is readable by others (mode ${(info.mode & 0o777).toString(8)}); chmod 600 it`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, "utf8"));
  } catch {
    throw new KeyFileError(`${path}: not a JSON key file`);
  }
  const f = parsed as Partial<KeyFile>;
  if (f?.kty !== "OKP" || f.crv !== "Ed25519" || typeof f.d !== "string" || typeof f.x !== "string") {
    throw new KeyFileError(`${path}: expected an Ed25519 OKP JWK with d and x`);
  }
  return f as KeyFile;
}

export async function loadIdentity(path: string): Promise<Identity> {
  return identityFromKeyFile(await readKeyFile(path));
}

/** Loads the key file, creating it with a fresh key the first time. */
export async function loadOrCreateKeyFile(path: string, did?: string): Promise<KeyFile> {
  try {
    return await readKeyFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  const file = keyFileFor(generateSeed(), did);
  await writeKeyFile(path, file);
  return file;
}

/** The DID document the gateway serves for its own did:web at /.well-known/did.json. */
export function gatewayDidDocument(identity: Identity, dsipEndpoints: readonly string[]): DidDocument {
  const did = identity.did;
  return {
    "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
    id: did,
    verificationMethod: [
      {
        id: `${did}#key-1`,
        type: "Multikey",
        controller: did,
        publicKeyMultibase: ed25519Multibase(identity.publicKey),
      },
      {
        id: `${did}#x25519-1`,
        type: "Multikey",
        controller: did,
        publicKeyMultibase: x25519Multibase(ed25519.utils.toMontgomery(identity.publicKey)),
      },
    ],
    authentication: [`${did}#key-1`],
    assertionMethod: [`${did}#key-1`],
    keyAgreement: [`${did}#x25519-1`],
    service: [{ id: `${did}#dsip`, type: DSIP_SERVICE_TYPE, serviceEndpoint: { ws: [...dsipEndpoints] } }],
  };
}
