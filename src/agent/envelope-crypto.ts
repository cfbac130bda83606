/**
 * Payload encryption for `dsip.envelope.v1` (proposal §21.B): ECIES over X25519
 * with an ephemeral sender key, HKDF-SHA256, and AES-256-GCM. The relay stores
 * what it cannot read.
 *
 *   shared = X25519(ephemeral secret, recipient X25519 key)
 *   key    = HKDF-SHA256(ikm = shared, salt = epk ‖ recipient key, info = "dsip-envelope-v1", 32)
 *   payload_enc = AES-256-GCM(key, nonce, JCS(inner message), aad = "dsip.envelope.v1|" + from + "|" + to + "|" + id) ‖ tag
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { x25519 } from "@noble/curves/ed25519.js";

const INFO = Buffer.from("dsip-envelope-v1", "utf8");

export interface SealedPayload {
  epk: string;
  nonce: string;
  payload_enc: string;
}

export interface EnvelopeBinding {
  id: string;
  from: string;
  to: string;
}

export class EnvelopeDecryptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EnvelopeDecryptError";
  }
}

function aad(binding: EnvelopeBinding): Buffer {
  return Buffer.from(`dsip.envelope.v1|${binding.from}|${binding.to}|${binding.id}`, "utf8");
}

function deriveKey(shared: Uint8Array, epk: Uint8Array, recipient: Uint8Array): Buffer {
  return Buffer.from(hkdfSync("sha256", shared, Buffer.concat([epk, recipient]), INFO, 32));
}

export function sealPayload(
  plaintext: Uint8Array,
  recipientX25519: Uint8Array,
  binding: EnvelopeBinding,
): SealedPayload {
  const ephemeral = x25519.utils.randomSecretKey();
  const epk = x25519.getPublicKey(ephemeral);
  const key = deriveKey(x25519.getSharedSecret(ephemeral, recipientX25519), epk, recipientX25519);
  const nonce = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  cipher.setAAD(aad(binding));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return {
    epk: Buffer.from(epk).toString("base64url"),
    nonce: nonce.toString("base64url"),
    payload_enc: body.toString("base64url"),
  };
}

export function openPayload(
  sealed: SealedPayload,
  recipientSecret: Uint8Array,
  binding: EnvelopeBinding,
): Buffer {
  const epk = Buffer.from(sealed.epk, "base64url");
  const nonce = Buffer.from(sealed.nonce, "base64url");
  const body = Buffer.from(sealed.payload_enc, "base64url");
  if (epk.length !== 32 || nonce.length !== 12 || body.length < 16)
    throw new EnvelopeDecryptError("malformed envelope");
  const recipient = x25519.getPublicKey(recipientSecret);
  let key: Buffer;
  try {
    key = deriveKey(x25519.getSharedSecret(recipientSecret, epk), epk, recipient);
  } catch {
    throw new EnvelopeDecryptError("bad ephemeral key");
  }
  const decipher = createDecipheriv("aes-256-gcm", key, nonce);
  decipher.setAAD(aad(binding));
  decipher.setAuthTag(body.subarray(body.length - 16));
  try {
    return Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]);
  } catch {
    throw new EnvelopeDecryptError("authentication failed");
  }
}
