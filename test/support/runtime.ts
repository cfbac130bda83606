/**
 * The whole gateway in process (agent + media engine + B2BUA + HTTP, as
 * `dsip-gateway start` runs it) for e2e tests with DSIP peers: a temp YAML config
 * loaded through loadConfig, short SIP timers, a temp data dir, and DSIP clients
 * that resolve the gateway's own did:web and tn DIDs from the running agent.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { MessageAcceptor } from "../../src/agent/acceptance.js";
import { AgentDidResolver, KeyDirectory } from "../../src/agent/did-resolution.js";
import type { Identity } from "../../src/agent/wallet.js";
import { DsipClient } from "../../src/agent/ws-client.js";
import { type GatewayRuntime, startRuntime } from "../../src/cli/gateway-runtime.js";
import { loadConfig } from "../../src/config/index.js";
import { GW_TIMERS, waitDrained } from "./gateway.js";
import { waitFor } from "./wait.js";

export interface TestRuntime {
  rt: GatewayRuntime;
  did: string;
  url: string;
  dir: string;
  /** An authenticated DSIP client on /dsip (not started). */
  client(identity: Identity): DsipClient;
  /** Zero calls, dialogs, transactions and media sessions. */
  drained(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** `body` is the YAML after the sip/http/cdr/logging keys (trunks, routes, directory, media …). */
export async function startTestRuntime(
  sipPort: number,
  httpPort: number,
  body: string,
): Promise<TestRuntime> {
  const dir = mkdtempSync(join(tmpdir(), "dsip-rt-"));
  const file = join(dir, "gateway.yaml");
  writeFileSync(
    file,
    [
      "sip:",
      `  listen: ["udp:127.0.0.1:${sipPort}"]`,
      "http:",
      `  listen: "127.0.0.1:${httpPort}"`,
      "cdr:",
      "  sqlite: null",
      "  jsonl: null",
      "logging:",
      `  level: ${process.env.GW_TEST_LOG ?? "silent"}`,
      body,
    ].join("\n"),
  );
  const config = loadConfig(file, { env: {} });
  const logger = pino({ level: config.logging.level }, pino.destination(2));
  const did = `did:web:localhost%3A${httpPort}`;
  const url = `ws://127.0.0.1:${httpPort}/dsip`;
  const rt = await startRuntime({
    config,
    logger,
    http: { host: "127.0.0.1", port: httpPort },
    dataDir: join(dir, "data"),
    did,
    publicUrl: url,
    timers: GW_TIMERS,
  });
  return {
    rt,
    did,
    url,
    dir,
    client(identity: Identity): DsipClient {
      // The gateway's document and its tn DIDs' documents come from the running agent (did:web on
      // localhost is not reachable over HTTPS); everything else would resolve normally.
      const resolver = new AgentDidResolver({ local: (d) => rt.agent.documentFor(d) });
      return new DsipClient({
        url,
        identity,
        acceptor: new MessageAcceptor({ keys: new KeyDirectory(resolver) }),
        reconnect: false,
      });
    },
    async drained(timeoutMs = 20_000) {
      await waitDrained(rt.gateway, timeoutMs);
      await waitFor(() => rt.media.sessions() === 0, timeoutMs, "the media engine to hold no session");
    },
    async stop() {
      await rt.stop(2000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
