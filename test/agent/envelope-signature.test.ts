import { verify as nodeVerify } from "node:crypto";
import { ed25519 } from "@noble/curves/ed25519.js";
import { describe, expect, it } from "vitest";
import { publicKeyFromRaw } from "../../src/agent/ed25519-keys.js";
import { verifyMessageSignature } from "../../src/agent/envelope-signature.js";
import { BadSignatureError } from "../../src/agent/errors.js";
import { canonicalJson } from "../../src/agent/jcs.js";
import { identity, invite } from "./helpers.js";

const alice = identity(1);
const bob = identity(2);

function signingInput(jws: string, message: object): Uint8Array {
  const [protectedB64] = jws.split("..");
  const { sig: _s, ...rest } = message as { sig?: unknown };
  return new Uint8Array(
    Buffer.from(`${protectedB64}.${Buffer.from(canonicalJson(rest)).toString("base64url")}`),
  );
}

describe("envelope signatures", () => {
  it("signs a detached JWS over JCS that @noble/curves verifies", () => {
    const signed = alice.signer.sign(invite(alice, bob.did));
    expect(signed.sig.alg).toBe("EdDSA");
    expect(signed.sig.kid).toBe(alice.kid);
    const [protectedB64, sigB64] = signed.sig.jws.split("..");
    expect(JSON.parse(Buffer.from(protectedB64!, "base64url").toString())).toEqual({
      alg: "EdDSA",
      kid: alice.kid,
    });
    const signature = new Uint8Array(Buffer.from(sigB64!, "base64url"));
    expect(ed25519.verify(signature, signingInput(signed.sig.jws, signed), alice.publicKey)).toBe(true);
    // Ed25519 is deterministic: the independent implementation produces the same bytes.
    expect(
      Buffer.from(ed25519.sign(signingInput(signed.sig.jws, signed), alice.seed)).toString("base64url"),
    ).toBe(sigB64);
  });

  it("verifies with node:crypto what @noble/curves signed", () => {
    const message = invite(alice, bob.did);
    const protectedB64 = Buffer.from(JSON.stringify({ alg: "EdDSA", kid: alice.kid })).toString("base64url");
    const input = Buffer.from(`${protectedB64}.${Buffer.from(canonicalJson(message)).toString("base64url")}`);
    const signature = ed25519.sign(new Uint8Array(input), alice.seed);
    const signed = {
      ...message,
      sig: {
        alg: "EdDSA" as const,
        kid: alice.kid,
        jws: `${protectedB64}..${Buffer.from(signature).toString("base64url")}`,
      },
    };
    expect(() => verifyMessageSignature(signed, publicKeyFromRaw(alice.publicKey))).not.toThrow();
    expect(nodeVerify(null, input, publicKeyFromRaw(alice.publicKey), signature)).toBe(true);
  });

  it("is independent of property order and whitespace (JCS)", () => {
    const signed = alice.signer.sign(invite(alice, bob.did));
    const reordered = JSON.parse(
      JSON.stringify(Object.fromEntries(Object.entries(signed).reverse()), null, 2),
    );
    expect(() => verifyMessageSignature(reordered, publicKeyFromRaw(alice.publicKey))).not.toThrow();
  });

  it("fails on a changed field, a wrong key, a bad header or a truncated signature", () => {
    const signed = alice.signer.sign(invite(alice, bob.did));
    const key = publicKeyFromRaw(alice.publicKey);
    const tampered = { ...signed, to: alice.did };
    expect(() => verifyMessageSignature(tampered, key)).toThrow(BadSignatureError);
    expect(() => verifyMessageSignature(signed, publicKeyFromRaw(bob.publicKey))).toThrow(BadSignatureError);
    expect(() => verifyMessageSignature({ ...signed, sig: { ...signed.sig, kid: bob.kid } }, key)).toThrow(
      /kid/,
    );
    const [p, s] = signed.sig.jws.split("..");
    expect(() =>
      verifyMessageSignature({ ...signed, sig: { ...signed.sig, jws: `${p}..${s!.slice(4)}` } }, key),
    ).toThrow(BadSignatureError);
    const noneHeader = Buffer.from(JSON.stringify({ alg: "none", kid: alice.kid })).toString("base64url");
    expect(() =>
      verifyMessageSignature({ ...signed, sig: { ...signed.sig, jws: `${noneHeader}..${s}` } }, key),
    ).toThrow(/alg/);
  });
});
