import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MessageAcceptor } from "../../src/agent/acceptance.js";
import { AgentDidResolver, KeyDirectory } from "../../src/agent/did-resolution.js";
import {
  type GatewayAgent,
  type GatewayAgentOptions,
  startGatewayAgent,
} from "../../src/agent/gateway-agent.js";
import { silentLogger } from "../../src/agent/logger.js";
import type { MessageOf } from "../../src/agent/messages.js";
import type { Identity } from "../../src/agent/wallet.js";
import { type Arrival, DsipClient } from "../../src/agent/ws-client.js";
import { type HttpListener, startHttpServer } from "../../src/ops/http-server.js";

export interface TestGateway {
  agent: GatewayAgent;
  http: HttpListener;
  url: string;
  dataDir: string;
  stop(): Promise<void>;
}

export async function startTestGateway(
  extra: Partial<GatewayAgentOptions> = {},
  dataDir = mkdtempSync(join(tmpdir(), "dsip-gw-")),
): Promise<TestGateway> {
  const agent = await startGatewayAgent({
    ...extra,
    dataDir,
    did: "did:web:gateway.test",
    dsipEndpoints: ["ws://127.0.0.1/dsip"],
    logger: silentLogger,
  });
  const http = await startHttpServer("127.0.0.1", 0, agent);
  return {
    agent,
    http,
    dataDir,
    url: `ws://127.0.0.1:${http.address.port}/dsip`,
    async stop() {
      await agent.server.close();
      await http.close();
      await agent.close();
    },
  };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export function clientFor(gw: TestGateway, identity: Identity, reconnect = false): DsipClient {
  const doc = gw.agent.document;
  const resolver = new AgentDidResolver({ local: (did) => (did === doc.id ? doc : undefined) });
  return new DsipClient({
    url: gw.url,
    identity,
    acceptor: new MessageAcceptor({ keys: new KeyDirectory(resolver) }),
    reconnect,
    minBackoffMs: 50,
    maxBackoffMs: 200,
  });
}

export function nextEvent<T>(client: DsipClient, event: "refused" | "message", timeoutMs = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${timeoutMs} ms`)), timeoutMs);
    client.once(event, (value: unknown) => {
      clearTimeout(timer);
      resolve(value as T);
    });
  });
}

export const nextRefusal = (c: DsipClient) => nextEvent<MessageOf<"dsip.error">>(c, "refused");
export const nextArrival = (c: DsipClient) => nextEvent<Arrival>(c, "message");

export function collectArrivals(client: DsipClient): Arrival[] {
  const arrivals: Arrival[] = [];
  client.on("message", (a) => {
    if (a.message.type !== "dsip.ping") arrivals.push(a);
  });
  return arrivals;
}

export async function waitFor(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}
