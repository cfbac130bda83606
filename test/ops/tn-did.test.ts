import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MessageAcceptor } from "../../src/agent/acceptance.js";
import type { DidDocument } from "../../src/agent/did-document.js";
import { AgentDidResolver, KeyDirectory } from "../../src/agent/did-resolution.js";
import { didWebToUrl } from "../../src/agent/did-web-url.js";
import { type GatewayAgent, startGatewayAgent } from "../../src/agent/gateway-agent.js";
import { silentLogger } from "../../src/agent/logger.js";
import { tnDidDocument, tnDigitsOf, tnIdentity } from "../../src/agent/tn-did.js";
import { sipInviteToDsipInvite } from "../../src/mapping/call.js";
import { tnDidFor, toE164 } from "../../src/mapping/numbers.js";
import { type HttpListener, startHttpServer } from "../../src/ops/http-server.js";

const GW = "did:web:gateway.test";
const SDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n";

describe("tn DIDs over HTTP", () => {
  let dataDir: string;
  let agent: GatewayAgent;
  let http: HttpListener;
  let base: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "dsip-tn-"));
    agent = await startGatewayAgent({
      dataDir,
      did: GW,
      dsipEndpoints: ["wss://gateway.test/dsip"],
      logger: silentLogger,
      // What `start` passes: any possible number.
      servesNumber: (e164) => toE164(e164) === e164,
    });
    http = await startHttpServer("127.0.0.1", 0, agent);
    base = `http://127.0.0.1:${http.address.port}`;
  });

  afterAll(async () => {
    await http.close();
    await agent.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Fetches a did:web document from the test server at the path did:web resolution would use. */
  async function fetchDid(did: string): Promise<Response> {
    return fetch(`${base}${didWebToUrl(did).url.pathname}`);
  }

  it("serves /tn/<digits>/did.json with the gateway's keys and DSIP service", async () => {
    const tn = tnDidFor(GW, "+15551230001");
    expect(didWebToUrl(tn).url.href).toBe("https://gateway.test/tn/15551230001/did.json");
    const res = await fetchDid(tn);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/did+json");
    const doc = (await res.json()) as DidDocument;
    expect(doc.id).toBe(tn);
    expect(doc.controller).toBe(GW);
    expect(doc.authentication).toEqual([`${tn}#key-1`]);
    expect(doc.assertionMethod).toEqual([`${tn}#key-1`]);
    const own = agent.document.verificationMethod!;
    expect(doc.verificationMethod!.map((m) => m.publicKeyMultibase)).toEqual(
      own.map((m) => m.publicKeyMultibase),
    );
    expect(doc.verificationMethod!.every((m) => m.controller === tn && m.id.startsWith(`${tn}#`))).toBe(true);
    expect(doc.service).toEqual([
      { id: `${tn}#dsip`, type: "DSIPService", serviceEndpoint: { ws: ["wss://gateway.test/dsip"] } },
    ]);
  });

  it("answers 404 for numbers it does not serve and paths that are not tn documents", async () => {
    for (const path of [
      "/tn/0123456/did.json", // not E.164
      "/tn/1234567890123456/did.json", // 16 digits
      "/tn/1555/did.json", // not a possible number
      "/tn/15551230001", // no did.json
      "/x/tn/15551230001/did.json", // not where did:web puts the gateway's tn DIDs
      "/tn/+15551230001/did.json",
    ])
      expect((await fetch(`${base}${path}`)).status, path).toBe(404);
    expect((await fetch(`${base}/.well-known/did.json`)).status).toBe(200);
  });

  it("makes a dsip.invite the gateway signs as the caller's number verify against the served document", async () => {
    const msg = sipInviteToDsipInvite({
      id: "call-1",
      ts: Math.floor(Date.now() / 1000),
      gatewayDid: GW,
      calleeDid: "did:key:z6MkCallee",
      callerNumber: "+12015550123",
      sdp: SDP,
    });
    expect(msg.from).toBe("did:web:gateway.test:tn:12015550123");
    const signed = tnIdentity(agent.identity, msg.from).signer.sign(msg);
    expect(signed.sig.kid).toBe(`${msg.from}#key-1`);
    const served = (await (await fetchDid(msg.from)).json()) as DidDocument;
    const acceptor = new MessageAcceptor({
      keys: new KeyDirectory(
        new AgentDidResolver({ local: (did) => (did === served.id ? served : undefined) }),
      ),
    });
    await expect(acceptor.accept(JSON.parse(JSON.stringify(signed)))).resolves.toMatchObject({
      id: "call-1",
    });
    // The agent's own resolver answers the same DID without a fetch.
    expect(agent.documentFor(msg.from)).toEqual(served);
    expect(agent.documentFor("did:web:other.test:tn:12015550123")).toBeUndefined();
    expect(agent.documentFor(GW)).toBe(agent.document);
  });
});

describe("tn DID builders", () => {
  it("reads only the gateway's own tn DIDs", () => {
    expect(tnDigitsOf(GW, `${GW}:tn:15551230001`)).toBe("15551230001");
    expect(tnDigitsOf(GW, `${GW}:tn:05551230001`)).toBeUndefined();
    expect(tnDigitsOf(GW, "did:web:gateway.test.evil:tn:15551230001")).toBeUndefined();
    expect(tnDigitsOf(GW, `${GW}:tn:1555:x`)).toBeUndefined();
  });

  it("refuses to build documents or identities for DIDs that are not its numbers", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "dsip-tn-"));
    const agent = await startGatewayAgent({ dataDir, did: GW, dsipEndpoints: [], logger: silentLogger });
    try {
      expect(() => tnDidDocument(agent.identity, "did:web:other.test:tn:15551230001", [])).toThrow(TypeError);
      expect(() => tnIdentity(agent.identity, GW)).toThrow(TypeError);
      // Without servesNumber every well-formed number is served.
      expect(agent.documentFor(`${GW}:tn:1555`)?.id).toBe(`${GW}:tn:1555`);
    } finally {
      await agent.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
