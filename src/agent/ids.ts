import { randomBytes, randomUUID } from "node:crypto";

export function newMessageId(): string {
  return randomUUID();
}

/** A DID-Auth challenge nonce: 32 random bytes, base64url. */
export function newNonce(): string {
  return randomBytes(32).toString("base64url");
}
