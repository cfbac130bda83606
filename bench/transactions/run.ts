/**
 * Transaction-layer benchmark: SIPp `uac` (INVITE → 200 → ACK → BYE → 200)
 * against our minimal UAS, stepping the call rate, and the same steps against
 * Kamailio answering statelessly (config/kamailio/bench.cfg) as a reference,
 * in one run. Prints, per system, the highest rate with zero failed calls and
 * the INVITE→200 response time percentiles (SIPp's -trace_rtt, 1 ms resolution).
 *
 *   npm run bench:transactions            # default steps
 *   BENCH_RATES=200,400 BENCH_SECONDS=5 npm run bench:transactions
 *
 * Loopback only; every step is bounded in calls and time.
 */
import { kamailioConfig, type RunningKamailio, startKamailio } from "../../test/support/kamailio.js";
import { startMinimalUas } from "../../test/support/minimal-uas.js";
import { hasCommand } from "../../test/support/sipp.js";
import { best, cell, type Step, stepRates as stepRatesOn } from "../lib/stepping.js";

const RATES = (process.env.BENCH_RATES ?? "250,500,1000,1500,2000,2500,3000").split(",").map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const UAS_PORT = 26060;
const KAMAILIO_PORT = 26070;
const SIPP_PORT = 26061;

const stepping = { rates: RATES, seconds: SECONDS, sippPort: SIPP_PORT };

function stepRates(name: string, port: number, onStep?: () => string): Promise<Step[]> {
  return stepRatesOn(name, port, { ...stepping, ...(onStep ? { onStep } : {}) });
}

async function benchOurs(): Promise<Step[]> {
  const uas = await startMinimalUas({ transports: [{ protocol: "UDP", host: "127.0.0.1", port: UAS_PORT }] });
  try {
    return await stepRates("ours", UAS_PORT, () => {
      const c = uas.stack.counts();
      const heapMb = process.memoryUsage().heapUsed / 1e6;
      return `(live transactions ${c.total}, heap ${heapMb.toFixed(0)} MB)`;
    });
  } finally {
    await uas.stack.close();
  }
}

async function benchKamailio(): Promise<Step[] | string> {
  if (!hasCommand("kamailio")) return "kamailio not installed";
  let kamailio: RunningKamailio;
  try {
    kamailio = await startKamailio(kamailioConfig("bench.cfg"), [`udp:127.0.0.1:${KAMAILIO_PORT}`]);
  } catch (err) {
    return (err as Error).message.slice(0, 300);
  }
  try {
    return await stepRates("kamailio", KAMAILIO_PORT);
  } finally {
    await kamailio.stop();
  }
}

async function main(): Promise<void> {
  if (!hasCommand("sipp")) throw new Error("sipp (Debian sip-tester) is required");
  const started = Date.now();
  const ours = await benchOurs();
  const kam = await benchKamailio();
  const kamSteps = typeof kam === "string" ? [] : kam;
  console.log(`\nSIPp uac → UAS over UDP on loopback, ${SECONDS} s per step, INVITE→200 response times`);
  console.log(`${"rate".padEnd(8)}| ${"our UAS (stateful)".padEnd(44)}| Kamailio (stateless sl_send_reply)`);
  console.log(`${"-".repeat(8)}+${"-".repeat(45)}+${"-".repeat(44)}`);
  for (const rate of RATES) {
    const o = ours.find((s) => s.rate === rate);
    const k = kamSteps.find((s) => s.rate === rate);
    if (!o && !k) continue;
    console.log(
      `${String(rate).padEnd(8)}| ${cell(o).padEnd(44)}| ${typeof kam === "string" ? kam : cell(k)}`,
    );
  }
  const bo = best(ours);
  const bk = best(kamSteps);
  console.log(
    `\nhighest clean rate: ours ${bo ? `${bo.rate} cps (p50 ${bo.p50} ms, p99 ${bo.p99} ms)` : "none"}; ` +
      `kamailio ${bk ? `${bk.rate} cps (p50 ${bk.p50} ms, p99 ${bk.p99} ms)` : typeof kam === "string" ? kam : "none"}`,
  );
  const topped = (steps: Step[]) => steps.length === RATES.length && steps.every((s) => s.clean);
  if (topped(ours) || topped(kamSteps))
    console.log("(a system clean at the top step is limited by SIPp, not by itself)");
  console.log(`total ${Math.round((Date.now() - started) / 1000)} s`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
