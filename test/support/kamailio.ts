/** Starting and stopping a Kamailio (Debian `kamailio`) in the foreground with a config from config/kamailio/. */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { findCommand } from "./sipp.js";

export const KAMAILIO_MODULES = [
  "/usr/lib/x86_64-linux-gnu/kamailio/modules",
  "/usr/lib/kamailio/modules",
].find((d) => existsSync(d));

export function kamailioConfig(name: string): string {
  return fileURLToPath(new URL(`../../config/kamailio/${name}`, import.meta.url));
}

export interface RunningKamailio {
  /** The main process; its workers are its children. */
  pid: number;
  log(): string;
  stop(): Promise<void>;
}

/**
 * Starts Kamailio listening on `listen` (e.g. "udp:127.0.0.1:25080"); rejects if it exits during start-up.
 * `env` adds variables for configs that read them with #!defenvs; `args` adds command-line options
 * (e.g. a larger shared-memory pool for benchmarks).
 */
export async function startKamailio(
  config: string,
  listen: string[],
  opts: { env?: Record<string, string>; args?: string[] } = {},
): Promise<RunningKamailio> {
  const { env, args = [] } = opts;
  if (!KAMAILIO_MODULES) throw new Error("Kamailio module directory not found");
  const runDir = mkdtempSync(join(tmpdir(), "kamailio-"));
  const child: ChildProcess = spawn(
    findCommand("kamailio") ?? "kamailio",
    [
      "-f",
      config,
      "-L",
      KAMAILIO_MODULES,
      ...listen.flatMap((l) => ["-l", l]),
      "-DD",
      "-E",
      "-Y",
      runDir,
      ...args,
    ],
    { stdio: ["ignore", "ignore", "pipe"], ...(env ? { env: { ...process.env, ...env } } : {}) },
  );
  let log = "";
  child.stderr?.on("data", (d: Buffer) => {
    if (log.length < 20_000) log += d.toString();
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  await Promise.race([exited, new Promise((r) => setTimeout(r, 1500))]);
  if (child.exitCode !== null || child.signalCode !== null) {
    rmSync(runDir, { recursive: true, force: true });
    throw new Error(`kamailio did not start:\n${log.slice(0, 2000)}`);
  }
  return {
    pid: child.pid ?? 0,
    log: () => log,
    async stop() {
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      rmSync(runDir, { recursive: true, force: true });
    },
  };
}
