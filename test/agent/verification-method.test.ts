import { describe, expect, it } from "vitest";
import { base58Encode } from "../../src/agent/base58.js";
import type { DidDocument } from "../../src/agent/did-document.js";
import { ed25519Multibase, x25519Multibase } from "../../src/agent/did-key.js";
import {
  authenticationKeys,
  ed25519KeyOf,
  x25519KeyAgreementKey,
} from "../../src/agent/verification-method.js";
import { identity } from "./helpers.js";

const key = identity(5).publicKey;
const did = "did:web:example.com";

describe("verification methods", () => {
  it("reads every accepted Ed25519 form to the same raw key", () => {
    const forms = [
      { id: "#a", type: "Ed25519VerificationKey2018", controller: did, publicKeyBase58: base58Encode(key) },
      {
        id: "#b",
        type: "Ed25519VerificationKey2020",
        controller: did,
        publicKeyMultibase: ed25519Multibase(key),
      },
      { id: "#c", type: "Multikey", controller: did, publicKeyMultibase: ed25519Multibase(key) },
      {
        id: "#d",
        type: "JsonWebKey2020",
        controller: did,
        publicKeyJwk: { kty: "OKP", crv: "Ed25519", x: Buffer.from(key).toString("base64url") },
      },
    ];
    for (const vm of forms) expect(ed25519KeyOf(vm), vm.type).toEqual(key);
  });

  it("ignores other types, curves and malformed keys", () => {
    expect(
      ed25519KeyOf({
        id: "#x",
        type: "EcdsaSecp256k1VerificationKey2019",
        controller: did,
        publicKeyBase58: base58Encode(key),
      }),
    ).toBeUndefined();
    expect(
      ed25519KeyOf({
        id: "#x",
        type: "JsonWebKey2020",
        controller: did,
        publicKeyJwk: { kty: "EC", crv: "P-256", x: "AA" },
      }),
    ).toBeUndefined();
    expect(
      ed25519KeyOf({ id: "#x", type: "Ed25519VerificationKey2018", controller: did, publicKeyBase58: "abc" }),
    ).toBeUndefined();
    expect(
      ed25519KeyOf({ id: "#x", type: "Multikey", controller: did, publicKeyMultibase: x25519Multibase(key) }),
    ).toBeUndefined();
  });

  it("lists only keys in `authentication`, embedded or referenced, relative or absolute", () => {
    const doc: DidDocument = {
      id: did,
      verificationMethod: [
        { id: "#ref", type: "Multikey", controller: did, publicKeyMultibase: ed25519Multibase(key) },
        { id: `${did}#assert`, type: "Multikey", controller: did, publicKeyMultibase: ed25519Multibase(key) },
      ],
      authentication: [
        "#ref",
        {
          id: `${did}#embedded`,
          type: "Ed25519VerificationKey2018",
          controller: did,
          publicKeyBase58: base58Encode(key),
        },
        "#missing",
      ],
      assertionMethod: [`${did}#assert`],
      keyAgreement: [
        {
          id: "#x",
          type: "X25519KeyAgreementKey2020",
          controller: did,
          publicKeyMultibase: x25519Multibase(key),
        },
      ],
    };
    expect([...authenticationKeys(doc).keys()]).toEqual([`${did}#ref`, `${did}#embedded`]);
    expect(x25519KeyAgreementKey(doc)).toEqual(key);
  });
});
