/**
 * Running SIPp (Debian sip-tester) from tests and the benchmark: bounded in
 * calls and time, statistics read from its CSV stat file.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The path of a command: on PATH, or in /usr/sbin or /sbin (daemons such as kamailio and dnsmasq). */
export function findCommand(cmd: string): string | undefined {
  try {
    return execFileSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return ["/usr/sbin", "/sbin"].map((d) => `${d}/${cmd}`).find((p) => existsSync(p));
  }
}

export function hasCommand(cmd: string): boolean {
  return findCommand(cmd) !== undefined;
}

/** In CI a missing peer is a failure; on a laptop the test may be skipped. */
export function requirePeer(cmd: string): boolean {
  const present = hasCommand(cmd);
  if (!present && process.env.CI === "true")
    throw new Error(`${cmd} is required in CI (scripts/install-debian-deps.sh)`);
  return present;
}

export interface SippStats {
  successful: number;
  failed: number;
  retransmissions: number;
  created: number;
  /** Every column of the last row of the CSV stat file, by header name. */
  raw: Record<string, string>;
}

export interface SippResult {
  exitCode: number | null;
  stats: SippStats;
  stderr: string;
  errors: string;
  /** Response-time samples in ms (with -trace_rtt), INVITE → 200. */
  rtt: number[];
}

export interface SippRun {
  /** "uac" / "uas" built-in or a scenario file path. */
  scenario: string;
  /** Remote host:port (omit for a UAS). */
  remote?: string;
  localPort: number;
  /** Local address for SIPp (default 127.0.0.1; "::1" for IPv6). */
  localIp?: string;
  transport?: "u1" | "t1";
  calls: number;
  rate?: number;
  /** Packet loss percentage (-lost). */
  lost?: number;
  timeoutMs: number;
  extra?: string[];
  /** Collect INVITE→200 response times (-trace_rtt). */
  rtt?: boolean;
}

function parseStatCsv(text: string): Record<string, string> {
  const lines = text.trim().split("\n");
  if (lines.length < 2) return {};
  const head = lines[0]!.split(";");
  const last = lines[lines.length - 1]!.split(";");
  const out: Record<string, string> = {};
  head.forEach((h, i) => {
    if (h) out[h] = last[i] ?? "";
  });
  return out;
}

function parseRtt(text: string): number[] {
  const out: number[] = [];
  for (const line of text.split("\n").slice(1)) {
    const cols = line.split(";");
    // Date_ms;response_time_ms;rtd_no
    const v = Number(cols[1]);
    if (cols.length >= 2 && Number.isFinite(v)) out.push(v);
  }
  return out;
}

export function runSipp(run: SippRun): Promise<SippResult> {
  const dir = mkdtempSync(join(tmpdir(), "sipp-"));
  const isFile = run.scenario.endsWith(".xml");
  const args = [
    ...(isFile ? ["-sf", run.scenario] : ["-sn", run.scenario]),
    ...(run.remote ? [run.remote] : []),
    "-i",
    run.localIp ?? "127.0.0.1",
    "-p",
    String(run.localPort),
    "-t",
    run.transport ?? "u1",
    "-m",
    String(run.calls),
    "-r",
    String(run.rate ?? 100),
    "-nostdin",
    "-trace_stat",
    "-stf",
    join(dir, "stat.csv"),
    "-fd",
    "3600",
    "-trace_err",
    "-error_file",
    join(dir, "err.log"),
    "-timeout",
    `${Math.ceil(run.timeoutMs / 1000)}s`,
    "-timeout_error",
    ...(run.lost ? ["-lost", String(run.lost)] : []),
    ...(run.rtt ? ["-trace_rtt", "-rtt_freq", "1"] : []),
    ...(run.extra ?? []),
  ];
  return spawnSipp(args, dir, run.timeoutMs);
}

/** Runs SIPp in the foreground (we need its exit code), killing it if it outlives its own -timeout. */
function spawnSipp(args: string[], dir: string, timeoutMs: number): Promise<SippResult> {
  return new Promise((resolve) => {
    const child = spawn("sipp", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      if (stderr.length < 20_000) stderr += d.toString();
    });
    const killer = setTimeout(() => child.kill("SIGKILL"), timeoutMs + 5000);
    child.on("close", (code) => {
      clearTimeout(killer);
      let raw: Record<string, string> = {};
      let errors = "";
      let rtt: number[] = [];
      try {
        raw = parseStatCsv(readFileSync(join(dir, "stat.csv"), "latin1"));
      } catch {}
      try {
        errors = readFileSync(join(dir, "err.log"), "latin1").slice(0, 5000);
      } catch {}
      try {
        // SIPp names it <scenario>_<pid>_rtt.csv in its working directory.
        const file = readdirSync(dir).find((f) => f.endsWith("_rtt.csv"));
        if (file) rtt = parseRtt(readFileSync(join(dir, file), "latin1"));
      } catch {}
      rmSync(dir, { recursive: true, force: true });
      resolve({
        exitCode: code,
        stderr,
        errors,
        rtt,
        stats: {
          successful: Number(raw["SuccessfulCall(C)"] ?? Number.NaN),
          failed: Number(raw["FailedCall(C)"] ?? Number.NaN),
          retransmissions: Number(raw["Retransmissions(C)"] ?? Number.NaN),
          created: Number(raw.TotalCallCreated ?? Number.NaN),
          raw,
        },
      });
    });
  });
}
