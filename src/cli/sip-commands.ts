import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { describeMessage, parseMessage, SipParseError, validateMessage } from "../sip/index.js";
import { EXIT_INVALID, EXIT_OK, EXIT_USAGE } from "./exit-codes.js";

/** What one input came to: a described message, or the reason and the server's answer. */
type Judgement =
  | { valid: true; description: Record<string, unknown> }
  | { valid: false; status: number | "drop"; reason: string };

export function judgeSipMessage(buf: Buffer): Judgement {
  try {
    const msg = parseMessage(buf, { framing: "datagram" });
    validateMessage(msg);
    return { valid: true, description: describeMessage(msg) };
  } catch (err) {
    if (err instanceof SipParseError)
      return { valid: false, status: err.drop ? "drop" : err.status, reason: err.reason };
    throw err;
  }
}

function readInput(file: string): Buffer {
  return file === "-" ? readFileSync(0) : readFileSync(file);
}

export function registerSipCommands(program: Command): void {
  const sip = program.command("sip").description("SIP tools");
  sip
    .command("parse")
    .description("parse SIP messages and judge them as a server would (exit 0 valid, 1 invalid)")
    .argument("[files...]", "message files, or - for standard input", ["-"])
    .action((files: string[]) => {
      const inputs = files.length === 0 ? ["-"] : files;
      if (inputs.length === 1) {
        const file = inputs[0]!;
        let buf: Buffer;
        try {
          buf = readInput(file);
        } catch (err) {
          process.stderr.write(`dsip-gateway sip parse: cannot read ${file}: ${(err as Error).message}\n`);
          process.exitCode = EXIT_USAGE;
          return;
        }
        const j = judgeSipMessage(buf);
        if (j.valid) {
          process.stdout.write(`${JSON.stringify(j.description, null, 2)}\n`);
          process.exitCode = EXIT_OK;
        } else {
          const answer = j.status === "drop" ? "drop (no response)" : `answer ${j.status}`;
          process.stdout.write(`${JSON.stringify({ valid: false, status: j.status, reason: j.reason })}\n`);
          process.stderr.write(`invalid: ${j.reason}; a server would ${answer}\n`);
          process.exitCode = EXIT_INVALID;
        }
        return;
      }
      let allValid = true;
      for (const file of inputs) {
        let line: Record<string, unknown>;
        try {
          const j = judgeSipMessage(readInput(file));
          line = j.valid ? { file, valid: true } : { file, valid: false, status: j.status, reason: j.reason };
          if (!j.valid) allValid = false;
        } catch (err) {
          allValid = false;
          line = { file, valid: false, reason: `cannot read: ${(err as Error).message}` };
        }
        process.stdout.write(`${JSON.stringify(line)}\n`);
      }
      process.exitCode = allValid ? EXIT_OK : EXIT_INVALID;
    });
}
