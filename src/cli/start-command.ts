import type { Command } from "commander";

/**
 * `dsip-gateway start`: for now the gateway has only its SIP message layer, so
 * start says what exists instead of pretending to listen.
 */
export function registerStartCommand(program: Command): void {
  program
    .command("start")
    .description("start the gateway with embedded defaults")
    .option("--config <file>", "YAML configuration file")
    .action(() => {
      process.stdout.write(
        [
          "dsip-gateway 0.1.0",
          "available now: the SIP message layer (parser, serializer, URIs, multipart bodies)",
          "  try: dsip-gateway sip parse FILE",
          "not yet: SIP transports, the B2BUA and the DSIP agent (see the open issues)",
          "",
        ].join("\n"),
      );
    });
}
