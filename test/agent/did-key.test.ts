import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { base58Decode, base58Encode } from "../../src/agent/base58.js";
import {
  decodeEd25519Multibase,
  didKeyDocument,
  didKeyFromPublicKey,
  publicKeyFromDidKey,
} from "../../src/agent/did-key.js";
import { authenticationKeys } from "../../src/agent/verification-method.js";
import { didKeyIdentity } from "../../src/agent/wallet.js";

const vectors = JSON.parse(
  readFileSync(new URL("../fixtures/identity-vectors.json", import.meta.url), "utf8"),
);

describe("did:key (W3C vectors)", () => {
  for (const v of vectors.did_key.vectors as {
    did: string;
    seed_hex: string;
    publicKeyBase58: string;
    x25519_keyAgreement_id: string;
  }[]) {
    it(`derives ${v.did.slice(0, 20)}… from seed ${v.seed_hex.slice(-2)}`, () => {
      const id = didKeyIdentity(new Uint8Array(Buffer.from(v.seed_hex, "hex")));
      expect(id.did).toBe(v.did);
      expect(base58Encode(id.publicKey)).toBe(v.publicKeyBase58);
      expect(publicKeyFromDidKey(v.did)).toEqual(id.publicKey);
      const doc = didKeyDocument(v.did)!;
      expect(doc.keyAgreement?.[0]).toMatchObject({ id: `${v.did}${v.x25519_keyAgreement_id}` });
      expect([...authenticationKeys(doc).keys()]).toEqual([`${v.did}#${v.did.slice(8)}`]);
    });
  }

  it("matches the RFC 8037 key's did:key", () => {
    const x = Buffer.from(vectors.jose_eddsa_rfc8037.jwk_private.x, "base64url");
    expect(didKeyFromPublicKey(new Uint8Array(x))).toBe(vectors.jose_eddsa_rfc8037.did_key_of_this_key);
  });

  it("refuses malformed did:keys", () => {
    const good = vectors.did_key.vectors[0].did as string;
    expect(publicKeyFromDidKey(good.replace("z6Mk", "6Mk"))).toBeUndefined(); // no multibase z
    expect(publicKeyFromDidKey(good + "1")).toBeUndefined(); // 35 bytes
    expect(publicKeyFromDidKey(good.slice(0, -1))).toBeUndefined(); // 33 bytes
    expect(publicKeyFromDidKey("did:key:z0OIl")).toBeUndefined(); // not base58
    // An X25519 did:key has the wrong multicodec for authentication.
    expect(
      decodeEd25519Multibase(vectors.did_key.vectors[0].x25519_keyAgreement_id.slice(1)),
    ).toBeUndefined();
    // 0xed01 followed by a y-coordinate that is not on the curve.
    const notOnCurve = new Uint8Array(34);
    notOnCurve.set([0xed, 0x01, 2], 0);
    notOnCurve.fill(0xff, 3);
    notOnCurve[33] = 0x7f;
    expect(decodeEd25519Multibase("z" + base58Encode(notOnCurve))).toBeUndefined();
  });

  it("round-trips base58 with leading zeros", () => {
    const bytes = new Uint8Array([0, 0, 1, 2, 255]);
    expect(base58Decode(base58Encode(bytes))).toEqual(bytes);
    expect(base58Decode("0OIl")).toBeUndefined();
  });
});
