import { type ChildProcessWithoutNullStreams, execFile, spawn } from "node:child_process";
import { createServer } from "node:net";

/** Runs the CLI from source (no build needed) as a real process. */
export const CLI = ["--import", "tsx", "src/cli.ts"];

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], input?: string): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [...CLI, ...args],
      { timeout: 20_000 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: unknown }).code as number) : 0;
        resolve({ code: typeof code === "number" ? code : 1, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** A long-running CLI process whose stdout is read line by line. */
export class CliProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly lines: string[] = [];
  private buffer = "";
  stderr = "";

  /**
   * `env` replaces the isolation defaults: without it, `start` gets SIP ports of
   * its own (test files run in parallel and the default config binds 5060) and
   * no CDR files in the working directory.
   */
  constructor(args: string[], env?: Record<string, string>) {
    this.child = spawn(process.execPath, [...CLI, ...args], {
      env: { ...process.env, ...(env ?? isolatedGatewayEnv()) },
    });
    this.child.stdout.on("data", (chunk: Buffer) => {
      this.buffer += chunk.toString();
      const parts = this.buffer.split("\n");
      this.buffer = parts.pop() ?? "";
      this.lines.push(...parts);
    });
    this.child.stderr.on("data", (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
  }

  /** JSON lines printed so far (non-JSON lines skipped). */
  json(): Record<string, unknown>[] {
    return this.lines.flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }

  async waitForLine(match: (line: string) => boolean, timeoutMs = 20_000): Promise<string> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.find(match);
      if (found !== undefined) return found;
      if (this.child.exitCode !== null)
        throw new Error(`process exited (${this.child.exitCode}): ${this.stderr}`);
      if (Date.now() > until)
        throw new Error(`timeout waiting for a line; got:\n${this.lines.join("\n")}\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once("exit", () => resolve());
      this.child.kill(signal);
    });
  }
}

/** A SIP port pair nobody else in this test run picked (UDP and TCP on the same number). */
export function isolatedGatewayEnv(): Record<string, string> {
  const port = 30000 + Math.floor(Math.random() * 9000);
  return {
    DSIP_GATEWAY_SIP_LISTEN: `udp:127.0.0.1:${port},tcp:127.0.0.1:${port}`,
    DSIP_GATEWAY_CDR_SQLITE: "off",
    DSIP_GATEWAY_CDR_JSONL: "off",
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
