import { existsSync } from "node:fs";
import type { Command } from "commander";
import { ConfigError, formatIssue, type GatewayConfig, loadConfig } from "../config/index.js";
import { EXIT_INVALID, EXIT_OK, EXIT_USAGE } from "./exit-codes.js";

function hostPort(h: { host: string; port: number }): string {
  return h.host.includes(":") ? `[${h.host}]:${h.port}` : `${h.host}:${h.port}`;
}

/** One line saying what the configuration amounts to. */
export function summariseConfig(file: string, c: GatewayConfig): string {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  return [
    `${file}: valid`,
    `SIP ${c.sip.listen.map((l) => `${l.transport}:${hostPort(l)}`).join(" ")}`,
    `HTTP ${hostPort(c.http.listen)}`,
    plural(c.trunks.length, "trunk"),
    plural(c.routes.length, "route"),
    `${c.directory.length} directory ${c.directory.length === 1 ? "entry" : "entries"}`,
    `emergency ${c.emergency.numbers.join(",") || "none"}`,
  ].join("; ");
}

/** Prints a ConfigError as one line per problem on stderr. */
export function reportConfigError(err: ConfigError): void {
  process.stderr.write(
    `${err.source}: ${err.issues.length} error(s)\n${err.issues.map((i) => `  ${formatIssue(i)}\n`).join("")}`,
  );
}

export function registerConfigCommands(program: Command): void {
  program
    .command("check-config")
    .description("validate a configuration file (exit 0 valid, 1 invalid, 2 usage)")
    .requiredOption("--config <file>", "YAML configuration file")
    .action((opts: { config: string }) => {
      if (!existsSync(opts.config)) {
        process.stderr.write(`dsip-gateway check-config: no such file: ${opts.config}\n`);
        process.exitCode = EXIT_USAGE;
        return;
      }
      try {
        const config = loadConfig(opts.config);
        process.stdout.write(`${summariseConfig(opts.config, config)}\n`);
        process.exitCode = EXIT_OK;
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        reportConfigError(err);
        process.exitCode = EXIT_INVALID;
      }
    });
}
