/**
 * The rate-stepping harness shared by the benchmarks: SIPp `uac` against one
 * target at increasing call rates, each step bounded in calls and time,
 * stopping at the first step with a failed call. Per step: calls completed,
 * failures, retransmissions, achieved rate and INVITE→200 percentiles.
 */
import { kamailioConfig, type RunningKamailio, startKamailio } from "../../test/support/kamailio.js";
import { hasCommand, runSipp, type SippResult } from "../../test/support/sipp.js";

export interface Step {
  rate: number;
  calls: number;
  ok: number;
  failed: number;
  retransmissions: number;
  achievedCps: number;
  p50: number;
  p99: number;
  clean: boolean;
  note?: string;
}

export interface SteppingOptions {
  rates: number[];
  seconds: number;
  /** SIPp's local port. */
  sippPort: number;
  /** Extra SIPp arguments (e.g. ["-s", "12015550123"]). */
  extra?: string[];
  /** A note appended to each step (live counts, heap …). */
  onStep?: () => string;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function toStep(rate: number, calls: number, elapsedMs: number, r: SippResult): Step {
  const rtt = [...r.rtt].sort((a, b) => a - b);
  const ok = r.stats.successful;
  const failed = Number.isNaN(r.stats.failed) ? calls : r.stats.failed;
  return {
    rate,
    calls,
    ok,
    failed,
    retransmissions: r.stats.retransmissions,
    achievedCps: Math.round((ok / elapsedMs) * 1000),
    p50: percentile(rtt, 50),
    p99: percentile(rtt, 99),
    // Zero failed calls, and the rate actually held: a system that answers every call but only at
    // 80 % of the requested rate has not passed that step.
    clean: r.exitCode === 0 && failed === 0 && ok === calls && ok / elapsedMs >= (0.95 * rate) / 1000,
  };
}

export async function stepRates(name: string, port: number, opts: SteppingOptions): Promise<Step[]> {
  const steps: Step[] = [];
  for (const rate of opts.rates) {
    const calls = rate * opts.seconds;
    const started = Date.now();
    const r = await runSipp({
      scenario: "uac",
      remote: `127.0.0.1:${port}`,
      localPort: opts.sippPort,
      calls,
      rate,
      timeoutMs: (opts.seconds + 20) * 1000,
      rtt: true,
      extra: ["-l", String(rate * 4), ...(opts.extra ?? [])],
    });
    const step = toStep(rate, calls, Date.now() - started, r);
    if (opts.onStep) step.note = opts.onStep();
    steps.push(step);
    console.error(
      `${name} @${rate} cps: ok ${step.ok}/${calls} failed ${step.failed} retrans ${step.retransmissions} p50 ${step.p50} ms p99 ${step.p99} ms${step.note ? ` ${step.note}` : ""}`,
    );
    if (!step.clean) {
      if (r.errors) console.error(`${name} @${rate} cps: SIPp errors: ${r.errors.slice(0, 1500)}`);
      break;
    }
    await new Promise((res) => setTimeout(res, 1000));
  }
  return steps;
}

/** The highest step with zero failed calls. */
export function best(steps: Step[]): Step | undefined {
  return steps.filter((s) => s.clean).at(-1);
}

export function cell(s: Step | undefined): string {
  if (!s) return "-";
  // Not clean without failures: the rate requested was not held.
  const status = s.clean ? "ok" : s.failed > 0 ? `FAIL ${s.failed}` : "slow";
  return `${s.achievedCps} cps ${status}, p50 ${s.p50} / p99 ${s.p99} ms`;
}

/**
 * The same steps against a Kamailio running `config` from config/kamailio/
 * (`kamailio.env` for configs that read #!defenvs, `kamailio.args` for more
 * options). A string says why Kamailio could not be measured.
 */
export async function stepKamailio(
  config: string,
  port: number,
  opts: SteppingOptions,
  kamailio: { env?: Record<string, string>; args?: string[] } = {},
): Promise<Step[] | string> {
  if (!hasCommand("kamailio")) return "kamailio not installed";
  let running: RunningKamailio;
  try {
    running = await startKamailio(kamailioConfig(config), [`udp:127.0.0.1:${port}`], kamailio);
  } catch (err) {
    return (err as Error).message.slice(0, 300);
  }
  try {
    return await stepRates("kamailio", port, opts);
  } finally {
    await running.stop();
  }
}

/**
 * The reference the transaction benchmark runs beside ours: Kamailio
 * answering statelessly (config/kamailio/bench.cfg).
 */
export function stepKamailioStateless(port: number, opts: SteppingOptions): Promise<Step[] | string> {
  return stepKamailio("bench.cfg", port, opts);
}

export interface Column {
  label: string;
  /** A string says why the column could not be measured. */
  steps: Step[] | string;
}

/** Prints any number of systems' steps side by side, one row per rate. */
export function printColumns(title: string, columns: Column[], rates: number[]): void {
  const width = 40;
  console.log(`\n${title}`);
  console.log(`${"rate".padEnd(6)}${columns.map((c) => `| ${c.label.padEnd(width)}`).join("")}`);
  console.log(`${"-".repeat(6)}${columns.map(() => `+${"-".repeat(width + 1)}`).join("")}`);
  for (const rate of rates) {
    const cells = columns.map((c) =>
      typeof c.steps === "string" ? c.steps.slice(0, width) : cell(c.steps.find((s) => s.rate === rate)),
    );
    if (columns.every((c) => typeof c.steps === "string" || !c.steps.some((s) => s.rate === rate))) continue;
    console.log(`${String(rate).padEnd(6)}${cells.map((x) => `| ${x.padEnd(width)}`).join("")}`);
  }
}

/** Prints ours and Kamailio's steps side by side, then each one's highest clean rate. */
export function printSideBySide(
  title: string,
  oursLabel: string,
  ours: Step[],
  kam: Step[] | string,
  rates: number[],
): void {
  const kamSteps = typeof kam === "string" ? [] : kam;
  console.log(`\n${title}`);
  console.log(`${"rate".padEnd(8)}| ${oursLabel.padEnd(44)}| Kamailio (stateless sl_send_reply)`);
  console.log(`${"-".repeat(8)}+${"-".repeat(45)}+${"-".repeat(44)}`);
  for (const rate of rates) {
    const o = ours.find((s) => s.rate === rate);
    const k = kamSteps.find((s) => s.rate === rate);
    if (!o && !k) continue;
    console.log(
      `${String(rate).padEnd(8)}| ${cell(o).padEnd(44)}| ${typeof kam === "string" ? kam : cell(k)}`,
    );
  }
  const bo = best(ours);
  const bk = best(kamSteps);
  const ratio = bo && bk ? ` — ratio ${(bo.rate / bk.rate).toFixed(2)}×` : "";
  console.log(
    `\nhighest clean rate: ours ${bo ? `${bo.rate} cps (p50 ${bo.p50} ms, p99 ${bo.p99} ms)` : "none"}; ` +
      `kamailio ${bk ? `${bk.rate} cps (p50 ${bk.p50} ms, p99 ${bk.p99} ms)` : typeof kam === "string" ? kam : "none"}${ratio}`,
  );
  const topped = (steps: Step[]) => steps.length === rates.length && steps.every((s) => s.clean);
  if (topped(ours) || topped(kamSteps))
    console.log("(clean at the top step: limited by SIPp or the steps, not by itself)");
}
