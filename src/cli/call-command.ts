/**
 * `dsip-gateway call TARGET`: places one DSIP call with WebRTC audio through a
 * gateway and exits 0 only if it was answered and ended normally (a BYE from
 * either side). Progress goes to stdout as JSON lines, the failure to stderr.
 */
import type { Command } from "commander";
import { TargetSchema } from "../agent/messages.js";
import { Softphone } from "../softphone/softphone.js";
import {
  callEventLine,
  collect,
  connectClient,
  line,
  positiveNumber,
  type ResolverFlags,
  usageError,
} from "./agent-commands.js";
import { EXIT_INVALID, EXIT_OK } from "./exit-codes.js";

interface CallFlags extends ResolverFlags {
  gateway: string;
  key: string;
  tone?: number;
  record?: string;
  duration?: number;
  ringTimeout: number;
}

export function registerCallCommand(program: Command): void {
  program
    .command("call")
    .description("call a DID or tel: target through a gateway with WebRTC audio (PCMU); exit 0 if answered")
    .argument("<target>", "callee: a DID, or tel:+… for the gateway's PSTN side")
    .requiredOption("--gateway <url>", "gateway URL, e.g. ws://127.0.0.1:8080/dsip")
    .requiredOption("--key <file>", "key file")
    .option("--tone <hz>", "send this tone (default: silence)", positiveNumber)
    .option("--record <file>", "write what the callee sends to this WAV (16-bit PCM, 8 kHz, mono)")
    .option(
      "--duration <seconds>",
      "hang up this long after the answer (default: wait for the callee)",
      positiveNumber,
    )
    .option("--ring-timeout <seconds>", "cancel when not answered within this long", positiveNumber, 30)
    .option("--allow-private <cidr>", "let did:web reach this private address (repeatable)", collect, [])
    .option("--ca <file>", "extra trusted CA certificate (PEM)")
    .action(async (target: string, opts: CallFlags) => {
      if (!TargetSchema.safeParse(target).success) usageError(`not a DID or tel: URI: ${target}`);
      const client = await connectClient(opts.gateway, opts.key, false, opts);
      try {
        await client.start(10_000);
      } catch (err) {
        process.stderr.write(`error: ${(err as Error).message}\n`);
        process.exit(EXIT_INVALID);
      }
      const phone = new Softphone(client);
      phone.on("call", (e) => line(callEventLine(e)));
      const abort = new AbortController();
      const stop = () => abort.abort();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      let result: Awaited<ReturnType<Softphone["call"]>>;
      try {
        result = await phone.call(target, {
          tone: opts.tone,
          record: opts.record,
          durationS: opts.duration,
          ringTimeoutS: opts.ringTimeout,
          signal: abort.signal,
        });
      } catch (err) {
        process.stderr.write(`error: ${(err as Error).message}\n`);
        await phone.close();
        process.exit(EXIT_INVALID);
      }
      await phone.close();
      if (result.status === "completed") process.exit(EXIT_OK);
      const error = result.error;
      process.stderr.write(
        error
          ? `error: call ${result.status}: ${error.code} ${error.reason}${error.detail ? ` (${error.detail})` : ""}\n`
          : `error: call ${result.status}: ${result.reason}\n`,
      );
      process.exit(EXIT_INVALID);
    });
}
