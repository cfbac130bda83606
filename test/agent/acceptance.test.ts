import { describe, expect, it } from "vitest";
import { MessageAcceptor } from "../../src/agent/acceptance.js";
import type { DidDocument } from "../../src/agent/did-document.js";
import { ed25519Multibase } from "../../src/agent/did-key.js";
import { AgentDidResolver, KeyDirectory } from "../../src/agent/did-resolution.js";
import { privateKeyFromSeed } from "../../src/agent/ed25519-keys.js";
import { createMessageSigner } from "../../src/agent/envelope-signature.js";
import { didWebIdentity } from "../../src/agent/wallet.js";
import { identity, invite, nextId, seed } from "./helpers.js";

const alice = identity(1);
const bob = identity(2);
const NOW = 1_800_000_000;

function acceptor(local?: (did: string) => DidDocument | undefined) {
  return new MessageAcceptor({
    keys: new KeyDirectory(new AgentDidResolver({ local })),
    now: () => NOW,
    skewSeconds: 60,
  });
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "accepted";
  } catch (err) {
    const e = err as { code?: number; reason?: string };
    return `${e.code} ${e.reason}`;
  }
}

describe("MessageAcceptor", () => {
  it("accepts a fresh signed message once, then refuses the replay", async () => {
    const a = acceptor();
    const signed = alice.signer.sign(invite(alice, bob.did, NOW));
    expect(await codeOf(a.accept(signed))).toBe("accepted");
    expect(await codeOf(a.accept(structuredClone(signed)))).toBe("409 id:replay");
    // The same id from another sender is a different message.
    const fromBob = bob.signer.sign({ ...invite(bob, alice.did, NOW), id: signed.id });
    expect(await codeOf(a.accept(fromBob))).toBe("accepted");
  });

  it("gives each rejection its own code", async () => {
    const a = acceptor();
    const sign = (m: object) => alice.signer.sign(m);
    const base = () => invite(alice, bob.did, NOW);
    const signAs = (did: string, m: object) =>
      createMessageSigner(`${did}#k`, privateKeyFromSeed(alice.seed)).sign(m);
    const cases: [string, () => Promise<unknown>][] = [
      ["400 malformed:json", () => a.acceptFrame("{not json")],
      ["413 size:too-large", () => a.acceptFrame(JSON.stringify({ pad: "x".repeat(300 * 1024) }))],
      ["415 type:unknown", () => a.accept(sign({ ...base(), type: "dsip.teleport" }))],
      ["422 schema:invalid", () => a.accept(sign({ ...base(), ts: "yesterday" }))],
      ["422 schema:invalid", () => a.accept({ ...base() })],
      ["408 ts:stale", () => a.accept(sign({ ...base(), ts: NOW - 61 }))],
      ["412 ts:future", () => a.accept(sign({ ...base(), ts: NOW + 61 }))],
      ["410 exp:expired", () => a.accept(sign({ ...base(), exp: NOW - 1 }))],
      ["401 sig:invalid", () => a.accept({ ...sign(base()), to: alice.did })],
      ["405 auth:kid-not-in-authentication", () => a.accept({ ...sign(base()), from: bob.did })],
      [
        "404 did:not-found",
        () => a.accept(signAs("did:key:z6MkNotAKey", { ...base(), from: "did:key:z6MkNotAKey" })),
      ],
      [
        "404 did:not-found",
        () => a.accept(signAs("did:example:123", { ...base(), from: "did:example:123" })),
      ],
    ];
    for (const [expected, p] of cases) expect(await codeOf(p())).toBe(expected);
  });

  it("accepts a message signed by any authentication key of a rotated did:web", async () => {
    const did = "did:web:voice.example:users:carol";
    const oldKey = didWebIdentity(seed(10), did);
    const newKey = { ...didWebIdentity(seed(11), did) };
    const signerNew = didWebIdentity(seed(11), did);
    const revoked = didWebIdentity(seed(12), did);
    const doc: DidDocument = {
      id: did,
      verificationMethod: [
        {
          id: "#key-1",
          type: "Ed25519VerificationKey2020",
          controller: did,
          publicKeyMultibase: ed25519Multibase(oldKey.publicKey),
        },
        {
          id: `${did}#key-2`,
          type: "JsonWebKey2020",
          controller: did,
          publicKeyJwk: {
            kty: "OKP",
            crv: "Ed25519",
            x: Buffer.from(newKey.publicKey).toString("base64url"),
          },
        },
        {
          id: "#key-3",
          type: "Multikey",
          controller: did,
          publicKeyMultibase: ed25519Multibase(revoked.publicKey),
        },
      ],
      authentication: ["#key-1", `${did}#key-2`],
      assertionMethod: ["#key-3"],
    };
    const a = acceptor((d) => (d === did ? doc : undefined));
    const msg = () => ({ type: "dsip.ping", id: nextId(), ts: NOW, from: did });
    expect(await codeOf(a.accept(oldKey.signer.sign(msg())))).toBe("accepted");
    const key2 = createMessageSigner(`${did}#key-2`, privateKeyFromSeed(signerNew.seed));
    expect(await codeOf(a.accept(key2.sign(msg())))).toBe("accepted");
    // key-3 is only an assertion key: not good for authenticating messages.
    const key3 = createMessageSigner(`${did}#key-3`, privateKeyFromSeed(revoked.seed));
    expect(await codeOf(a.accept(key3.sign(msg())))).toBe("405 auth:kid-not-in-authentication");
  });

  it("keeps the replay cache bounded", async () => {
    const { ReplayCache } = await import("../../src/agent/replay-cache.js");
    const cache = new ReplayCache(600, 100);
    for (let i = 0; i < 1000; i++) expect(cache.checkAndRemember(`id-${i}`, NOW)).toBe(true);
    expect(cache.size).toBeLessThanOrEqual(100);
    expect(cache.checkAndRemember("id-999", NOW)).toBe(false);
    // Past the window an id may come back (the ts check refuses such an old message anyway).
    expect(cache.checkAndRemember("id-999", NOW + 601)).toBe(true);
  });
});
