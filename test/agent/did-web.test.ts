import { readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MessageAcceptor } from "../../src/agent/acceptance.js";
import { AddressPolicy } from "../../src/agent/address-policy.js";
import { ed25519Multibase } from "../../src/agent/did-key.js";
import { AgentDidResolver, KeyDirectory } from "../../src/agent/did-resolution.js";
import { DidWebResolver } from "../../src/agent/did-web-resolver.js";
import { didWebToUrl } from "../../src/agent/did-web-url.js";
import { didWebIdentity } from "../../src/agent/wallet.js";
import { nextId, seed } from "./helpers.js";
import { makeTestPki, type TestPki } from "./test-ca.js";

const vectors = JSON.parse(
  readFileSync(new URL("../fixtures/identity-vectors.json", import.meta.url), "utf8"),
);

let pki: TestPki;
let server: Server;
let port: number;
let requests = 0;
const routes = new Map<string, (res: import("node:http").ServerResponse) => void>();

function didFor(path = ""): string {
  return `did:web:localhost%3A${port}${path}`;
}

function docFor(did: string, keys: Uint8Array[]): object {
  return {
    "@context": ["https://www.w3.org/ns/did/v1"],
    id: did,
    verificationMethod: keys.map((k, i) => ({
      id: `${did}#key-${i + 1}`,
      type: "Ed25519VerificationKey2020",
      controller: did,
      publicKeyMultibase: ed25519Multibase(k),
    })),
    authentication: keys.map((_, i) => `#key-${i + 1}`),
  };
}

beforeAll(async () => {
  pki = makeTestPki();
  server = createServer({ key: pki.keyPem, cert: pki.certPem }, (req, res) => {
    requests++;
    const handler = routes.get(req.url ?? "");
    if (handler) handler(res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(pki.dir, { recursive: true, force: true });
});

function resolver(extra: Partial<ConstructorParameters<typeof DidWebResolver>[0]> = {}) {
  return new DidWebResolver({ ca: pki.caPem, allowPrivateAddresses: ["127.0.0.1"], ...extra });
}

async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "resolved";
  } catch (err) {
    const e = err as { code?: number; reason?: string; message: string };
    return `${e.code} ${e.reason} ${e.message}`;
  }
}

describe("did:web URL mapping", () => {
  it("maps the spec examples", () => {
    for (const [did, url] of vectors.did_web_url_mapping as [string, string][]) {
      expect(didWebToUrl(did).url.toString()).toBe(url);
    }
  });

  it("refuses IP literals, userinfo, traversal and encoded slashes", () => {
    for (const bad of [
      "did:web:127.0.0.1",
      "did:web:user@example.com",
      "did:web:example.com:..:etc",
      "did:web:example.com:a%2Fb",
      "did:web:example.com%3A99999",
      "did:web:",
      "did:web:[::1]",
    ]) {
      expect(() => didWebToUrl(bad), bad).toThrow();
    }
  });

  it("refuses private, loopback and reserved addresses unless allowlisted", () => {
    const policy = new AddressPolicy();
    for (const a of [
      "127.0.0.1",
      "10.1.2.3",
      "192.168.1.1",
      "169.254.169.254",
      "::1",
      "fd00::1",
      "::ffff:127.0.0.1",
      "0.0.0.0",
    ]) {
      expect(policy.isAllowed(a), a).toBe(false);
    }
    expect(policy.isAllowed("8.8.8.8")).toBe(true);
    expect(new AddressPolicy(["127.0.0.1", "10.0.0.0/8"]).isAllowed("10.9.9.9")).toBe(true);
  });
});

describe("did:web resolution over HTTPS (local test CA)", () => {
  it("resolves host and path forms, then serves from the cache", async () => {
    const key = didWebIdentity(seed(20), "x").publicKey;
    routes.set("/.well-known/did.json", (res) => res.end(JSON.stringify(docFor(didFor(), [key]))));
    routes.set("/users/alice/did.json", (res) =>
      res.end(JSON.stringify(docFor(didFor(":users:alice"), [key]))),
    );
    const r = resolver();
    expect((await r.resolve(didFor())).id).toBe(didFor());
    expect((await r.resolve(didFor(":users:alice"))).id).toBe(didFor(":users:alice"));
    const before = requests;
    await r.resolve(didFor());
    expect(requests).toBe(before);
  });

  it("refuses a loopback address without an allowlist entry", async () => {
    expect(await failure(resolver({ allowPrivateAddresses: [] }).resolve(didFor()))).toMatch(
      /^502 did:resolution-failed .*private/,
    );
  });

  it("refuses a certificate from an unknown CA", async () => {
    expect(
      await failure(new DidWebResolver({ allowPrivateAddresses: ["127.0.0.1"] }).resolve(didFor())),
    ).toMatch(/^502 /);
  });

  it("follows a same-host redirect and refuses one to another host", async () => {
    const key = didWebIdentity(seed(21), "x").publicKey;
    routes.set("/same/did.json", (res) => res.writeHead(302, { location: "/same2/did.json" }).end());
    routes.set("/same2/did.json", (res) => res.end(JSON.stringify(docFor(didFor(":same"), [key]))));
    routes.set("/cross/did.json", (res) =>
      res.writeHead(302, { location: `https://other.localhost:${port}/cross/did.json` }).end(),
    );
    expect((await resolver().resolve(didFor(":same"))).id).toBe(didFor(":same"));
    expect(await failure(resolver().resolve(didFor(":cross")))).toMatch(/^502 .*redirect to another host/);
  });

  it("refuses an oversize document, declared or streamed", async () => {
    const big = JSON.stringify({ id: didFor(":big"), pad: "x".repeat(100 * 1024) });
    routes.set("/big/did.json", (res) => res.end(big));
    routes.set("/chunked/did.json", (res) => {
      res.writeHead(200, { "content-type": "application/json" });
      for (let i = 0; i < 100; i++) res.write("x".repeat(1024));
      res.end();
    });
    expect(await failure(resolver().resolve(didFor(":big")))).toMatch(/^502 .*too large/);
    expect(await failure(resolver().resolve(didFor(":chunked")))).toMatch(/^502 .*too large/);
  });

  it("times out on a server that does not answer", async () => {
    routes.set("/slow/did.json", () => {
      /* never answers */
    });
    const started = Date.now();
    expect(await failure(resolver({ timeoutMs: 300 }).resolve(didFor(":slow")))).toMatch(
      /^504 did:resolution-timeout/,
    );
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("refuses a document whose id is another DID, and maps 404 to did:not-found", async () => {
    routes.set("/liar/did.json", (res) => res.end(JSON.stringify(docFor(didFor(":someone-else"), []))));
    expect(await failure(resolver().resolve(didFor(":liar")))).toMatch(/^502 .*id differs/);
    expect(await failure(resolver().resolve(didFor(":nobody")))).toMatch(/^404 did:not-found/);
  });

  it("limits concurrent fetches per host", async () => {
    let active = 0;
    let peak = 0;
    const key = didWebIdentity(seed(22), "x").publicKey;
    for (let i = 0; i < 6; i++) {
      routes.set(`/held${i}/did.json`, (res) => {
        active++;
        peak = Math.max(peak, active);
        setTimeout(() => {
          active--;
          res.end(JSON.stringify(docFor(didFor(`:held${i}`), [key])));
        }, 60);
      });
    }
    const r = resolver({ maxPerHost: 2 });
    const docs = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => r.resolve(didFor(`:held${i}`))));
    expect(docs).toHaveLength(6);
    expect(peak).toBe(2);
  });

  it("verifies messages signed by any authentication key of a rotated did:web", async () => {
    const did = didFor(":users:rotating");
    const k1 = didWebIdentity(seed(30), did);
    const k2 = didWebIdentity(seed(31), did);
    routes.set("/users/rotating/did.json", (res) =>
      res.end(JSON.stringify(docFor(did, [k1.publicKey, k2.publicKey]))),
    );
    const acceptor = new MessageAcceptor({
      keys: new KeyDirectory(
        new AgentDidResolver({ web: { ca: pki.caPem, allowPrivateAddresses: ["127.0.0.1"] } }),
      ),
    });
    const { createMessageSigner } = await import("../../src/agent/envelope-signature.js");
    const { privateKeyFromSeed } = await import("../../src/agent/ed25519-keys.js");
    const ts = Math.floor(Date.now() / 1000);
    for (const [i, id] of [k1, k2].entries()) {
      const signer = createMessageSigner(`${did}#key-${i + 1}`, privateKeyFromSeed(id.seed));
      await expect(
        acceptor.accept(signer.sign({ type: "dsip.ping", id: nextId(), ts, from: did })),
      ).resolves.toBeDefined();
    }
  });
});
