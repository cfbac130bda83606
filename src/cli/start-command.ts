import { resolve } from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import pino from "pino";
import { ConfigError, DEFAULT_CONFIG_FILE, type GatewayConfig, loadConfig } from "../config/index.js";
import { reportConfigError } from "./config-commands.js";
import { EXIT_INVALID } from "./exit-codes.js";
import { type GatewayRuntime, startRuntime } from "./gateway-runtime.js";

export interface HostPort {
  host: string;
  port: number;
}

/** `HOST:PORT`, `[v6]:PORT` or `:PORT`. */
export function parseHostPort(value: string): HostPort {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:]*)):([0-9]{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port > 65535) throw new InvalidArgumentError("expected HOST:PORT, e.g. 127.0.0.1:8080");
  return { host: m[1] ?? (m[2] || "127.0.0.1"), port };
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function defaultDid(host: string, port: number): string {
  const loopback =
    host === "127.0.0.1" || host === "::1" || host === "localhost" || host === "0.0.0.0" || host === "::";
  const name = loopback ? "localhost" : host;
  return port === 443 ? `did:web:${name}` : `did:web:${name}%3A${port}`;
}

interface StartOptions {
  config?: string;
  http: HostPort;
  dataDir: string;
  did?: string;
  publicUrl?: string;
  allowPrivate: string[];
  pushWebhook?: string;
  drainTimeout: number;
}

function positiveSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError("expected seconds, e.g. 30");
  return n;
}

/**
 * `dsip-gateway start`: the SIP side (the B2BUA on sip.listen: trunks, routes,
 * overload, CDRs) and the HTTP listener with the embedded DSIP agent
 * (/.well-known/did.json, /healthz, /readyz, /metrics, the /dsip WebSocket).
 * Runs until SIGINT/SIGTERM, which drain calls (up to --drain-timeout) first.
 */
export function registerStartCommand(program: Command): void {
  program
    .command("start")
    .description("start the gateway with embedded defaults")
    .option("--config <file>", "YAML configuration file (default: config/default.yaml)")
    .option(
      "--http <host:port>",
      "HTTP listener (health, DID document, DSIP WebSocket); overrides http.listen",
      parseHostPort,
      {
        host: "127.0.0.1",
        port: 8080,
      },
    )
    .option("--data-dir <dir>", "where the gateway key and the relay database live", "./data")
    .option("--did <did>", "the gateway's did:web (default: did:web:localhost%3A<port> on loopback)")
    .option("--public-url <url>", "the DSIP WebSocket URL published in the DID document")
    .option(
      "--allow-private <cidr>",
      "let did:web resolution reach this private address (repeatable)",
      collect,
      [],
    )
    .option("--push-webhook <url>", "POST {relay, envelope_id} here when an envelope is stored")
    .option(
      "--drain-timeout <seconds>",
      "on SIGTERM, how long calls may run on before they are hung up",
      positiveSeconds,
      30,
    )
    .action(async (opts: StartOptions, command: Command) => {
      const configFile = opts.config ?? DEFAULT_CONFIG_FILE;
      let config: GatewayConfig;
      try {
        config = loadConfig(configFile);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        reportConfigError(err);
        process.exitCode = EXIT_INVALID;
        return;
      }
      const logger = pino({ name: "dsip-gateway", level: config.logging.level }, pino.destination(2));
      // An explicit --http wins over the file; otherwise the file (or its env override) decides.
      const { host, port } = command.getOptionValueSource("http") === "cli" ? opts.http : config.http.listen;
      const did = opts.did ?? defaultDid(host, port);
      const urlHost = host.includes(":") ? `[${host}]` : host;
      const publicUrl = opts.publicUrl ?? `ws://${urlHost}:${port}/dsip`;
      const dataDir = resolve(opts.dataDir);
      let runtime: GatewayRuntime;
      try {
        runtime = await startRuntime({
          config,
          logger,
          http: { host, port },
          dataDir,
          did,
          publicUrl,
          allowPrivate: opts.allowPrivate,
          pushWebhook: opts.pushWebhook,
        });
      } catch (err) {
        process.stderr.write(`dsip-gateway: ${(err as Error).message}\n`);
        process.exitCode = 1;
        return;
      }
      const { agent, gateway, http, media } = runtime;
      const base = `http://${urlHost}:${http.address.port}`;
      process.stdout.write(
        [
          "dsip-gateway 0.1.0",
          `gateway DID: ${agent.identity.did}`,
          `listening on ${base}`,
          `  GET ${base}/healthz`,
          `  GET ${base}/readyz`,
          `  GET ${base}/metrics`,
          `  GET ${base}/.well-known/did.json`,
          `  GET ${base}/tn/<E.164 digits>/did.json  (DIDs of numbers)`,
          `  WS  ws://${urlHost}:${http.address.port}/dsip  (DSIP: DID-Auth, routing, relay)`,
          `data dir: ${dataDir} (gateway-key.json, relay.sqlite)`,
          `SIP listening on ${gateway.listeners().join(", ")}`,
          `media engine: ${media.name}${config.media.anchorSip ? " (SIP calls anchored too)" : ""}`,
          `config: ${configFile} (${config.trunks.length} trunks, ${config.routes.length} routes)`,
          "also available: the SIP message layer (try: dsip-gateway sip parse FILE)",
          "",
        ].join("\n"),
      );
      logger.info({ did: agent.identity.did, http: `${host}:${http.address.port}` }, "gateway started");
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, "gateway stopping");
        await runtime.stop(opts.drainTimeout * 1000);
        process.exit(0);
      };
      process.once("SIGINT", () => void stop("SIGINT"));
      process.once("SIGTERM", () => void stop("SIGTERM"));
    });
}
