/**
 * `dsip-gateway did …` and `dsip-gateway dsip …`: DIDs, signing and verifying
 * messages, and a small DSIP client (listen/send) against a running gateway.
 */
import { readFile } from "node:fs/promises";
import { type Command, InvalidArgumentError } from "commander";
import { MessageAcceptor } from "../agent/acceptance.js";
import type { DidDocument } from "../agent/did-document.js";
import { AgentDidResolver, KeyDirectory } from "../agent/did-resolution.js";
import { type DsipError, toDsipError } from "../agent/errors.js";
import { newMessageId } from "../agent/ids.js";
import {
  didKeyIdentity,
  generateSeed,
  type Identity,
  KeyFileError,
  keyFileFor,
  loadIdentity,
  seedFromHex,
  writeKeyFile,
} from "../agent/wallet.js";
import { DsipClient, type Outgoing } from "../agent/ws-client.js";
import { type CallEvent, Softphone } from "../softphone/softphone.js";
import { EXIT_INVALID, EXIT_OK, EXIT_USAGE } from "./exit-codes.js";

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function parseSeed(value: string): Uint8Array {
  try {
    return seedFromHex(value);
  } catch {
    throw new InvalidArgumentError("expected 64 hex digits");
  }
}

export function usageError(message: string): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(EXIT_USAGE);
}

async function readInput(file: string | undefined): Promise<string> {
  try {
    if (file === undefined || file === "-") {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString("utf8");
    }
    return await readFile(file, "utf8");
  } catch (err) {
    return usageError(`cannot read ${file ?? "stdin"}: ${(err as Error).message}`);
  }
}

async function loadKey(path: string): Promise<Identity> {
  try {
    return await loadIdentity(path);
  } catch (err) {
    return usageError(
      err instanceof KeyFileError ? err.message : `cannot read key ${path}: ${(err as Error).message}`,
    );
  }
}

export interface ResolverFlags {
  allowPrivate: string[];
  ca?: string;
}

async function resolverFrom(flags: ResolverFlags, local?: DidDocument): Promise<AgentDidResolver> {
  const ca = flags.ca
    ? await readFile(flags.ca, "utf8").catch(() => usageError(`cannot read ${flags.ca}`))
    : undefined;
  return new AgentDidResolver({
    web: { allowPrivateAddresses: flags.allowPrivate, ...(ca ? { ca } : {}) },
    ...(local ? { local: (did: string) => (did === local.id ? local : undefined) } : {}),
  });
}

function printError(err: DsipError): void {
  process.stdout.write(
    `${JSON.stringify({ valid: false, code: err.code, reason: err.reason, detail: err.detail })}\n`,
  );
}

/** ws(s)://host/dsip from a gateway URL given as ws(s):// or http(s)://, path defaulting to /dsip. */
export function gatewayUrls(value: string): { ws: string; didJson: string } {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return usageError(`not a URL: ${value}`);
  }
  const secure = url.protocol === "wss:" || url.protocol === "https:";
  if (!["ws:", "wss:", "http:", "https:"].includes(url.protocol))
    usageError("gateway URL must be ws(s):// or http(s)://");
  const path = url.pathname === "/" ? "/dsip" : url.pathname;
  return {
    ws: `${secure ? "wss" : "ws"}://${url.host}${path}`,
    didJson: `${secure ? "https" : "http"}://${url.host}/.well-known/did.json`,
  };
}

/**
 * A client for `dsip listen`/`send`. The gateway's own document is read from the
 * gateway it connects to (on loopback the did:web of a development gateway is
 * not reachable over HTTPS); every other DID resolves normally.
 */
export async function connectClient(
  gateway: string,
  keyPath: string,
  reconnect: boolean,
  flags: ResolverFlags,
): Promise<DsipClient> {
  const identity = await loadKey(keyPath);
  const urls = gatewayUrls(gateway);
  let gatewayDoc: DidDocument | undefined;
  try {
    const res = await fetch(urls.didJson, { signal: AbortSignal.timeout(5000), redirect: "error" });
    if (res.ok) gatewayDoc = (await res.json()) as DidDocument;
  } catch {
    // Without it, the gateway's did:web is resolved like any other.
  }
  const resolver = await resolverFrom(flags, gatewayDoc);
  const acceptor = new MessageAcceptor({ keys: new KeyDirectory(resolver) });
  return new DsipClient({ url: urls.ws, identity, acceptor, reconnect });
}

export function line(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("expected a positive number");
  return n;
}

interface AnswerFlags {
  answer?: boolean;
  tone?: number;
  record?: string;
  duration?: number;
}

const CALL_TYPES = new Set([
  "dsip.invite",
  "dsip.progress",
  "dsip.answer",
  "dsip.ice",
  "dsip.bye",
  "dsip.cancel",
]);

/** One JSON line per call event, flat so that `jq` and the tests can pick fields directly. */
export function callEventLine(e: CallEvent): Record<string, unknown> {
  if (e.type === "ended") {
    const { id, ...rest } = e.result;
    return { event: "ended", call: id, ...rest };
  }
  return { event: e.type, ...Object.fromEntries(Object.entries(e).filter(([k]) => k !== "type")) };
}

export function registerAgentCommands(program: Command): void {
  const did = program.command("did").description("DIDs: create and resolve");

  did
    .command("new")
    .description("create an Ed25519 key and print its did:key")
    .option("--seed <hex>", "derive the key from this 32-byte seed (tests)", parseSeed)
    .option("--out <file>", "write the key file here (mode 0600)")
    .option("--did <did>", "record that this key acts as this did:web")
    .action(async (opts: { seed?: Uint8Array; out?: string; did?: string }) => {
      const seed = opts.seed ?? generateSeed();
      const identity = didKeyIdentity(seed);
      if (opts.out) {
        try {
          await writeKeyFile(opts.out, keyFileFor(seed, opts.did));
        } catch (err) {
          usageError(`cannot write ${opts.out}: ${(err as Error).message}`);
        }
      } else {
        process.stderr.write("note: key not saved (use --out FILE)\n");
      }
      process.stdout.write(`${opts.did ?? identity.did}\n`);
    });

  did
    .command("resolve")
    .description("resolve a DID (did:key, did:web) and print its document")
    .argument("<did>")
    .option("--allow-private <cidr>", "let did:web reach this private address (repeatable)", collect, [])
    .option("--ca <file>", "extra trusted CA certificate (PEM)")
    .action(async (didArg: string, opts: ResolverFlags) => {
      const resolver = await resolverFrom(opts);
      try {
        line(await resolver.resolveDocument(didArg));
        process.exit(EXIT_OK);
      } catch (err) {
        printError(toDsipError(err));
        process.exit(EXIT_INVALID);
      }
    });

  const dsip = program.command("dsip").description("DSIP messages: sign, verify, listen, send");

  dsip
    .command("sign")
    .description("sign a message (fills id, ts and from when absent)")
    .requiredOption("--key <file>", "key file")
    .argument("[file]", "message JSON, or - for stdin", "-")
    .action(async (file: string, opts: { key: string }) => {
      const identity = await loadKey(opts.key);
      let message: unknown;
      try {
        message = JSON.parse(await readInput(file));
      } catch {
        usageError("the message is not JSON");
      }
      if (typeof message !== "object" || message === null || Array.isArray(message))
        usageError("the message is not a JSON object");
      const filled = {
        id: newMessageId(),
        ts: Math.floor(Date.now() / 1000),
        from: identity.did,
        ...message,
      };
      line(identity.signer.sign(filled));
    });

  dsip
    .command("verify")
    .description("verify a signed message: exit 0 valid, 1 invalid (code and reason printed)")
    .argument("[file]", "message JSON, or - for stdin", "-")
    .option("--skew <seconds>", "allowed clock skew", (v) => Number.parseInt(v, 10), 120)
    .option("--allow-private <cidr>", "let did:web reach this private address (repeatable)", collect, [])
    .option("--ca <file>", "extra trusted CA certificate (PEM)")
    .action(async (file: string, opts: ResolverFlags & { skew: number }) => {
      const text = await readInput(file);
      const acceptor = new MessageAcceptor({
        keys: new KeyDirectory(await resolverFrom(opts)),
        skewSeconds: opts.skew,
      });
      try {
        const message = await acceptor.acceptFrame(text);
        line({ valid: true, type: message.type, id: message.id, from: message.from, kid: message.sig.kid });
        process.exit(EXIT_OK);
      } catch (err) {
        printError(toDsipError(err));
        process.exit(EXIT_INVALID);
      }
    });

  dsip
    .command("listen")
    .description(
      "connect to a gateway and print arrivals as JSON lines; with --answer, answer calls with audio",
    )
    .requiredOption("--gateway <url>", "gateway URL, e.g. ws://127.0.0.1:8080/dsip")
    .requiredOption("--key <file>", "key file")
    .option("--answer", "answer incoming dsip.invite with WebRTC audio (PCMU) and print call events")
    .option("--tone <hz>", "with --answer: send this tone (default: silence)", positiveNumber)
    .option("--record <file>", "with --answer: write what the caller sends to this WAV ({call} = call id)")
    .option("--duration <seconds>", "with --answer: hang up this long after answering", positiveNumber)
    .option("--allow-private <cidr>", "let did:web reach this private address (repeatable)", collect, [])
    .option("--ca <file>", "extra trusted CA certificate (PEM)")
    .action(async (opts: { gateway: string; key: string } & AnswerFlags & ResolverFlags) => {
      if (!opts.answer && (opts.tone !== undefined || opts.record || opts.duration !== undefined))
        usageError("--tone, --record and --duration need --answer");
      const client = await connectClient(opts.gateway, opts.key, true, opts);
      // With --answer the call's own messages are shown as call events instead (SDPs are long).
      const phone = opts.answer ? new Softphone(client) : undefined;
      phone?.listen({ answer: true, tone: opts.tone, record: opts.record, durationS: opts.duration });
      phone?.on("call", (e) => line(callEventLine(e)));
      client.on("ready", (ok) =>
        line({ event: "ready", did: client.did, gateway: ok.from, queued: ok.queued }),
      );
      client.on("message", (a) => {
        if (phone && CALL_TYPES.has(a.message.type)) return;
        line({ event: "message", ...(a.envelopeId ? { envelope: a.envelopeId } : {}), message: a.message });
      });
      client.on("refused", (e) =>
        line({ event: "refused", code: e.code, reason: e.reason, correlates: e.correlates }),
      );
      client.on("invalid", (e) => line({ event: "invalid", code: e.code, reason: e.reason }));
      client.on("disconnected", (code) => line({ event: "disconnected", code }));
      const stop = () => void (phone ? phone.close() : client.close()).then(() => process.exit(EXIT_OK));
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      await client.start(24 * 3600_000).catch((err: Error) => {
        process.stderr.write(`error: ${err.message}\n`);
        process.exit(EXIT_INVALID);
      });
    });

  dsip
    .command("send")
    .description("sign a message and send it through a gateway (exit 1 if the gateway refuses it)")
    .requiredOption("--gateway <url>", "gateway URL, e.g. ws://127.0.0.1:8080/dsip")
    .requiredOption("--key <file>", "key file")
    .argument("<message>", "message JSON file (- for stdin); id, ts and from are filled when absent")
    .option("--allow-private <cidr>", "let did:web reach this private address (repeatable)", collect, [])
    .option("--ca <file>", "extra trusted CA certificate (PEM)")
    .action(async (file: string, opts: { gateway: string; key: string } & ResolverFlags) => {
      let message: Outgoing;
      try {
        message = JSON.parse(await readInput(file)) as Outgoing;
      } catch {
        return usageError("the message is not JSON");
      }
      if (typeof message !== "object" || message === null || typeof message.type !== "string") {
        usageError("the message needs a string `type`");
      }
      const client = await connectClient(opts.gateway, opts.key, false, opts);
      try {
        await client.start(10_000);
      } catch (err) {
        process.stderr.write(`error: ${(err as Error).message}\n`);
        process.exit(EXIT_INVALID);
      }
      const refusals: { code: number; reason: string; correlates?: string | undefined }[] = [];
      client.on("refused", (e) =>
        refusals.push({ code: e.code, reason: e.reason, correlates: e.correlates }),
      );
      const sent = client.send(message);
      await client.flush();
      await client.close();
      const refusal = refusals.find((r) => r.correlates === sent.id);
      if (refusal) {
        line({ sent: false, id: sent.id, code: refusal.code, reason: refusal.reason });
        process.exit(EXIT_INVALID);
      }
      line({ sent: true, id: sent.id, message: sent });
      process.exit(EXIT_OK);
    });
}
