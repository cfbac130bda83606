import { chmodSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { didKeyDocument } from "../../src/agent/did-key.js";
import { authenticationKeys } from "../../src/agent/verification-method.js";
import {
  didWebIdentity,
  gatewayDidDocument,
  generateSeed,
  keyFileFor,
  loadIdentity,
  loadOrCreateKeyFile,
  writeKeyFile,
} from "../../src/agent/wallet.js";

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "dsip-wallet-"));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("wallet", () => {
  it("writes key files with mode 0600 and loads them back", async () => {
    const path = join(tempDir(), "k.json");
    const seed = generateSeed();
    await writeKeyFile(path, keyFileFor(seed));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const id = await loadIdentity(path);
    expect(id.seed).toEqual(seed);
    expect(didKeyDocument(id.did)).toBeDefined();
    await expect(writeKeyFile(path, keyFileFor(seed))).rejects.toThrow(); // never overwrites
  });

  it("refuses a key file others can read", async () => {
    const path = join(tempDir(), "k.json");
    await writeKeyFile(path, keyFileFor(generateSeed()));
    chmodSync(path, 0o644);
    await expect(loadIdentity(path)).rejects.toThrow(/readable by others/);
  });

  it("creates the gateway key once and keeps it", async () => {
    const path = join(tempDir(), "gw.json");
    const first = await loadOrCreateKeyFile(path, "did:web:gw.example");
    const second = await loadOrCreateKeyFile(path, "did:web:gw.example");
    expect(second).toEqual(first);
  });

  it("publishes the gateway did:web document with its key and DSIP service", () => {
    const id = didWebIdentity(generateSeed(), "did:web:gw.example");
    const doc = gatewayDidDocument(id, ["wss://gw.example/dsip"]);
    expect([...authenticationKeys(doc).entries()]).toEqual([["did:web:gw.example#key-1", id.publicKey]]);
    expect(doc.service).toEqual([
      {
        id: "did:web:gw.example#dsip",
        type: "DSIPService",
        serviceEndpoint: { ws: ["wss://gw.example/dsip"] },
      },
    ]);
  });
});
