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
import { startMinimalUas } from "../../test/support/minimal-uas.js";
import { hasCommand } from "../../test/support/sipp.js";
import {
  printSideBySide,
  type Step,
  stepKamailioStateless,
  stepRates as stepRatesOn,
} from "../lib/stepping.js";

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

async function main(): Promise<void> {
  if (!hasCommand("sipp")) throw new Error("sipp (Debian sip-tester) is required");
  const started = Date.now();
  const ours = await benchOurs();
  const kam = await stepKamailioStateless(KAMAILIO_PORT, stepping);
  printSideBySide(
    `SIPp uac → UAS over UDP on loopback, ${SECONDS} s per step, INVITE→200 response times`,
    "our UAS (stateful)",
    ours,
    kam,
    RATES,
  );
  console.log(`total ${Math.round((Date.now() - started) / 1000)} s`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
