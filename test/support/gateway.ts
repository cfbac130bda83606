/**
 * An in-process gateway for the end-to-end tests: a temp YAML config (loaded
 * through loadConfig, so the tests exercise the real schema), short SIP timers
 * so drains take seconds, and helpers to wait for an empty gateway and read
 * the CDR stores.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import pino from "pino";
import { MessageAcceptor } from "../../src/agent/acceptance.js";
import { AgentDidResolver, KeyDirectory } from "../../src/agent/did-resolution.js";
import type { Identity } from "../../src/agent/wallet.js";
import { DsipClient } from "../../src/agent/ws-client.js";
import type { CallRecord } from "../../src/b2bua/cdr.js";
import { Gateway } from "../../src/b2bua/gateway.js";
import { type GatewayRuntime, startRuntime } from "../../src/cli/gateway-runtime.js";
import { loadConfig } from "../../src/config/index.js";
import { GatewayMetrics } from "../../src/ops/metrics.js";
import { waitFor } from "./wait.js";

/** T1 = 100 ms keeps Timers B/F/H/J (64·T1) at 6.4 s; T4 = 1 s bounds Timers I and K. */
export const GW_TIMERS = { t1: 100, t2: 4000, t4: 1000 };

export interface TestGateway {
  gw: Gateway;
  metrics: GatewayMetrics;
  dir: string;
  sqlite: string;
  jsonl: string;
  stop(): Promise<void>;
}

/**
 * A temp dir with a gateway.yaml: SIP (UDP and TCP) on `sipPort`, HTTP on `httpPort` when given, CDRs
 * in the dir, the log level from GW_TEST_LOG (default silent), then `body`; loaded like `start` does.
 */
function testConfig(prefix: string, sipPort: number, httpPort: number | undefined, body: string) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const sqlite = join(dir, "cdr.sqlite");
  const jsonl = join(dir, "cdr.jsonl");
  const file = join(dir, "gateway.yaml");
  writeFileSync(
    file,
    [
      "sip:",
      `  listen: ["udp:127.0.0.1:${sipPort}", "tcp:127.0.0.1:${sipPort}"]`,
      ...(httpPort === undefined ? [] : ["http:", `  listen: "127.0.0.1:${httpPort}"`]),
      "cdr:",
      `  sqlite: "${sqlite}"`,
      `  jsonl: "${jsonl}"`,
      "logging:",
      `  level: ${process.env.GW_TEST_LOG ?? "silent"}`,
      body,
    ].join("\n"),
  );
  const config = loadConfig(file, { env: {} });
  const metrics = new GatewayMetrics({ defaultMetrics: false });
  const logger = pino({ level: config.logging.level }, pino.destination(2));
  return { dir, sqlite, jsonl, config, metrics, logger };
}

/** `body` is the YAML after the sip/cdr keys (trunks, routes, limits …). */
export async function startTestGateway(sipPort: number, body: string): Promise<TestGateway> {
  const { dir, sqlite, jsonl, config, metrics, logger } = testConfig("dsip-gw-", sipPort, undefined, body);
  const gw = new Gateway(config, { logger, metrics, timers: GW_TIMERS });
  await gw.start();
  return {
    gw,
    metrics,
    dir,
    sqlite,
    jsonl,
    stop: async () => {
      await gw.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface TestRuntime extends TestGateway {
  runtime: GatewayRuntime;
  /** The gateway's did:web. */
  did: string;
  /** ws://…/dsip of the runtime's HTTP listener. */
  dsipUrl: string;
  /** A DSIP client on /dsip (not started) that resolves the gateway's own and tn DIDs from the running agent. */
  client(identity: Identity): DsipClient;
  /** Zero calls, dialogs, transactions and media sessions. */
  drained(timeoutMs?: number): Promise<void>;
}

/**
 * The whole gateway in process (agent, media engine, B2BUA, HTTP) as `start`
 * runs it. `body` is the YAML after sip/http/cdr/logging (media, trunks, routes, directory …).
 */
export async function startTestRuntime(
  sipPort: number,
  httpPort: number,
  body: string,
): Promise<TestRuntime> {
  const { dir, sqlite, jsonl, config, metrics, logger } = testConfig("dsip-rt-", sipPort, httpPort, body);
  const runtime = await startRuntime({
    config,
    logger,
    http: { host: "127.0.0.1", port: httpPort },
    dataDir: join(dir, "data"),
    did: `did:web:localhost%3A${httpPort}`,
    publicUrl: `ws://127.0.0.1:${httpPort}/dsip`,
    timers: GW_TIMERS,
    metrics,
  });
  const dsipUrl = `ws://127.0.0.1:${httpPort}/dsip`;
  return {
    runtime,
    gw: runtime.gateway,
    metrics,
    dir,
    sqlite,
    jsonl,
    did: runtime.agent.identity.did,
    dsipUrl,
    client(identity: Identity): DsipClient {
      // did:web on localhost is not reachable over HTTPS: the gateway's documents come from its agent.
      const resolver = new AgentDidResolver({ local: (d) => runtime.agent.documentFor(d) });
      return new DsipClient({
        url: dsipUrl,
        identity,
        acceptor: new MessageAcceptor({ keys: new KeyDirectory(resolver) }),
        reconnect: false,
      });
    },
    async drained(timeoutMs = 20_000) {
      await waitDrained(runtime.gateway, timeoutMs);
      await waitFor(() => runtime.media.sessions() === 0, timeoutMs, "the media engine to hold no session");
    },
    stop: async () => {
      await runtime.stop(0);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Waits for zero calls, dialogs, transactions and pending 2xx. */
export async function waitDrained(gw: Gateway, timeoutMs = 20_000): Promise<void> {
  await waitFor(
    () => {
      const c = gw.counts();
      return (
        c.calls === 0 &&
        c.dialogs.total === 0 &&
        c.transactions.total === 0 &&
        c.transactions.pending2xx === 0
      );
    },
    timeoutMs,
    "the gateway to hold no call, dialog or transaction",
  );
}

export function sqliteRecords(path: string): CallRecord[] {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare("SELECT record FROM cdr ORDER BY seq").all() as { record: string }[]).map(
      (r) => JSON.parse(r.record) as CallRecord,
    );
  } finally {
    db.close();
  }
}

export function jsonlRecords(path: string): CallRecord[] {
  let text = "";
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as CallRecord);
}

/** The SIPp scenario files of this repository. */
export const SCENARIOS = fileURLToPath(new URL("../sipp-scenarios/", import.meta.url));
/** A scenario of test/sipp-scenarios by name, or a path as given when absolute (a generated variant). */
export const scenario = (name: string): string => (isAbsolute(name) ? name : join(SCENARIOS, name));
