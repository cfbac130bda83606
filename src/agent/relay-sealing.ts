/**
 * Wrapping a signed message into a `dsip.envelope.v1` for an offline recipient,
 * and unwrapping it on the recipient's side.
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import type { DidDocument } from "./did-document.js";
import { openPayload, sealPayload } from "./envelope-crypto.js";
import { newMessageId } from "./ids.js";
import { canonicalBytes } from "./jcs.js";
import type { MessageOf } from "./messages.js";
import { authenticationKeys, x25519KeyAgreementKey } from "./verification-method.js";
import type { Identity } from "./wallet.js";

export type Envelope = MessageOf<"dsip.envelope.v1">;

/**
 * The X25519 key to encrypt to: the document's keyAgreement key, else the
 * Montgomery form of its first authentication key (as did:key derives it).
 */
export function recipientX25519Key(doc: DidDocument): Uint8Array | undefined {
  const agreement = x25519KeyAgreementKey(doc);
  if (agreement) return agreement;
  const first = authenticationKeys(doc).values().next().value;
  return first ? ed25519.utils.toMontgomery(first) : undefined;
}

export function sealEnvelope(
  sender: Identity,
  message: object,
  to: string,
  recipientKey: Uint8Array,
  exp: number,
  now: number,
): Envelope {
  const id = newMessageId();
  const sealed = sealPayload(canonicalBytes(message), recipientKey, { id, from: sender.did, to });
  return sender.signer.sign({
    type: "dsip.envelope.v1" as const,
    id,
    ts: now,
    from: sender.did,
    to,
    exp,
    ...sealed,
  });
}

/** The inner message as decoded JSON; throws EnvelopeDecryptError or SyntaxError. */
export function openEnvelope(recipient: Identity, envelope: Envelope): unknown {
  const plain = openPayload(envelope, recipient.x25519Secret, {
    id: envelope.id,
    from: envelope.from,
    to: envelope.to,
  });
  return JSON.parse(plain.toString("utf8"));
}
