#!/usr/bin/env node
// The `dsip-gateway` command. Each command group lives in its own module under
// src/cli/ and registers itself here; this file only wires them together.
import { Command } from "commander";
import { registerAgentCommands } from "./cli/agent-commands.js";
import { registerCallCommand } from "./cli/call-command.js";
import { registerConfigCommands } from "./cli/config-commands.js";
import { EXIT_USAGE } from "./cli/exit-codes.js";
import { registerSipCommands } from "./cli/sip-commands.js";
import { registerStartCommand } from "./cli/start-command.js";

const program = new Command();
program
  .name("dsip-gateway")
  .description("SIP/PSTN ⇄ DSIP gateway (B2BUA) and NG911 bridge")
  .version("0.1.0")
  .exitOverride()
  .configureOutput({ outputError: (str, write) => write(str) });

registerStartCommand(program);
registerConfigCommands(program);
registerSipCommands(program);
registerAgentCommands(program);
registerCallCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  const code = (err as { code?: string; exitCode?: number }).code;
  if (code === "commander.helpDisplayed" || code === "commander.version") process.exit(0);
  if (typeof code === "string" && code.startsWith("commander.")) process.exit(EXIT_USAGE);
  throw err;
}
