/**
 * A private rtpengine (Debian `rtpengine-daemon`) for one test file: free ng/CLI
 * ports and its own media port range, config from config/rtpengine/rtpengine.conf
 * with those values replaced, always started with --config-file (otherwise the
 * Debian /etc/rtpengine/rtpengine.conf would be merged in).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { NgClient } from "../../src/media/ng.js";
import { findCommand, requirePeer } from "./sipp.js";

export const RTPENGINE_CONF = fileURLToPath(
  new URL("../../config/rtpengine/rtpengine.conf", import.meta.url),
);

/** True when rtpengine is installed; throws under CI=true when it is not. */
export function hasRtpengine(): boolean {
  return requirePeer("rtpengine");
}

export interface RunningRtpengine {
  host: string;
  ngPort: number;
  cliPort: number;
  portMin: number;
  portMax: number;
  log(): string;
  stop(): Promise<void>;
}

async function freeUdpPort(): Promise<number> {
  const s = createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export async function startRtpengine(opts: { mediaPorts?: number } = {}): Promise<RunningRtpengine> {
  const host = "127.0.0.1";
  const ngPort = await freeUdpPort();
  const cliPort = await freeUdpPort();
  const span = opts.mediaPorts ?? 100;
  // A media range of our own (rtpengine skips ports that are taken, so sharing the ephemeral range is safe).
  const portMin = 42000 + (process.pid % 80) * 200;
  const portMax = portMin + span - 1;
  const dir = mkdtempSync(join(tmpdir(), "rtpengine-"));
  const conf = readFileSync(RTPENGINE_CONF, "utf8")
    .replace(/^listen-ng\s*=.*$/m, `listen-ng = ${host}:${ngPort}`)
    .replace(/^listen-cli\s*=.*$/m, `listen-cli = ${host}:${cliPort}`)
    .replace(/^port-min\s*=.*$/m, `port-min = ${portMin}`)
    .replace(/^port-max\s*=.*$/m, `port-max = ${portMax}`);
  const confPath = join(dir, "rtpengine.conf");
  writeFileSync(confPath, conf);
  const child: ChildProcess = spawn(
    findCommand("rtpengine") ?? "rtpengine",
    [`--config-file=${confPath}`, "--config-section=rtpengine", `--pidfile=${join(dir, "rtpengine.pid")}`],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let log = "";
  const keep = (d: Buffer): void => {
    if (log.length < 200_000) log += d.toString();
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((r) => child.once("exit", () => r()));

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    rmSync(dir, { recursive: true, force: true });
  };

  // Ready when ng answers ping with pong.
  const ng = new NgClient(host, ngPort, 200);
  const deadline = Date.now() + 10_000;
  try {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`rtpengine exited during start-up:\n${log.slice(-3000)}`);
      if (await ng.ping().catch(() => false)) break;
      if (Date.now() > deadline)
        throw new Error(`rtpengine did not answer ping within 10 s:\n${log.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (e) {
    ng.close();
    await stop();
    throw e;
  }
  ng.close();
  return { host, ngPort, cliPort, portMin, portMax, log: () => log, stop };
}
