import { x25519 } from "@noble/curves/ed25519.js";
import { describe, expect, it } from "vitest";
import { didKeyDocument } from "../../src/agent/did-key.js";
import { openPayload, sealPayload } from "../../src/agent/envelope-crypto.js";
import { x25519KeyAgreementKey } from "../../src/agent/verification-method.js";
import { identity } from "./helpers.js";

const bob = identity(2);
const eve = identity(3);
const binding = { id: "env-1", from: "did:web:gw.example", to: bob.did };

describe("envelope payload encryption (X25519 ECIES + AES-256-GCM)", () => {
  const recipientKey = x25519KeyAgreementKey(didKeyDocument(bob.did)!)!;

  it("uses the did:key keyAgreement key, which matches the wallet's X25519 secret", () => {
    expect(x25519.getPublicKey(bob.x25519Secret)).toEqual(recipientKey);
  });

  it("round-trips and hides the plaintext", () => {
    const plaintext = Buffer.from('{"type":"dsip.msg","secret":"hello bob"}');
    const sealed = sealPayload(plaintext, recipientKey, binding);
    expect(Buffer.from(sealed.payload_enc, "base64url").includes(Buffer.from("hello"))).toBe(false);
    expect(openPayload(sealed, bob.x25519Secret, binding).toString()).toBe(plaintext.toString());
  });

  it("fails for another recipient, another binding or a flipped bit", () => {
    const sealed = sealPayload(Buffer.from("x"), recipientKey, binding);
    expect(() => openPayload(sealed, eve.x25519Secret, binding)).toThrow(/authentication/);
    expect(() => openPayload(sealed, bob.x25519Secret, { ...binding, id: "env-2" })).toThrow(
      /authentication/,
    );
    const body = Buffer.from(sealed.payload_enc, "base64url");
    body[0]! ^= 1;
    expect(() =>
      openPayload({ ...sealed, payload_enc: body.toString("base64url") }, bob.x25519Secret, binding),
    ).toThrow();
  });
});
