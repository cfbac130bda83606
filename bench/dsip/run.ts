/**
 * DSIP benchmark: the whole gateway in process (startRuntime: agent, B2BUA,
 * HTTP /dsip; logging warn, CDRs to SQLite and JSON lines), driven from
 * child processes so the load generators' CPU never counts as the gateway's.
 *
 * 1. Signaling. BENCH_CONNECTIONS WebSocket connections, each a distinct
 *    did:key that passed DID-Auth, send signed dsip.invite to tel:+1201555…;
 *    the gateway routes them to a SIPp `uas` on a trunk. Per call: invite →
 *    dsip.answer → hold → dsip.bye. Setup time is invite sent → answer
 *    received. The gateway runs with the pass-through media engine (the
 *    invite's SDP still goes through the engine interface, but no ICE/DTLS/
 *    SRTP work is done), so this is the call path alone. In the same run, at
 *    the same steps and with the same hold, SIPp `uac` → the same gateway →
 *    the same SIPp `uas` (bench/lib/stepping.ts), and the two side by side.
 * 2. Media. For each engine (embedded; rtpengine when installed, started as
 *    test/support/rtpengine.ts does): N concurrent calls from werift DSIP
 *    peers (one softphone in a child process) bridged to plain RTP: SIPp
 *    answers (uas-basic.xml, SDP naming the generator's RTP reflector, which
 *    returns every packet under its own SSRC). CPU of the engine over a
 *    steady window: the gateway process (process.cpuUsage) for embedded,
 *    /proc/<pid>/stat of rtpengine for rtpengine; calls per core = N / CPU
 *    fraction. The generator's and SIPp's CPU are shown apart.
 *
 *   npm run bench:dsip
 *   BENCH_RATES=50,100 BENCH_SECONDS=3 BENCH_MEDIA_CALLS=10 npm run bench:dsip
 *
 * Knobs (environment):
 *   BENCH_RATES          call rates to step through, calls/s (50,100,200,300,400,600,800)
 *   BENCH_SECONDS        seconds per step (5)
 *   BENCH_HOLD_MS        hold between answer and bye, both benchmarks (100)
 *   BENCH_CONNECTIONS    DSIP connections / identities (50)
 *   BENCH_MEDIA_CALLS    concurrent media calls per measurement (10,25,50); "0" skips media
 *   BENCH_MEDIA_SECONDS  CPU measuring window per level (8)
 *   BENCH_MEDIA_ENGINES  engines to measure (embedded,rtpengine)
 *   BENCH_SDP=plain      a minimal RTP/AVP SDP in the invites instead of a werift WebRTC offer
 */
import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { PassThroughMediaEngine } from "../../src/b2bua/media.js";
import { type GatewayRuntime, startRuntime } from "../../src/cli/gateway-runtime.js";
import { loadConfig } from "../../src/config/index.js";
import type { MediaEngine } from "../../src/media/index.js";
import { GatewayMetrics } from "../../src/ops/metrics.js";
import { scenario, sqliteRecords } from "../../test/support/gateway.js";
import { hasRtpengine, type RunningRtpengine, startRtpengine } from "../../test/support/rtpengine.js";
import { hasCommand } from "../../test/support/sipp.js";
import { best, cell, percentile, type Step, stepRates } from "../lib/stepping.js";
import {
  type FromMedia,
  type FromSignaling,
  forkWorker,
  request,
  type SignalingStepResult,
  type ToMedia,
  type ToSignaling,
} from "./protocol.js";

const list = (v: string | undefined, d: string): number[] => (v ?? d).split(",").filter(Boolean).map(Number);
const RATES = list(process.env.BENCH_RATES, "50,100,200,300,400,600,800");
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const HOLD_MS = Number(process.env.BENCH_HOLD_MS ?? 100);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const MEDIA_CALLS = list(process.env.BENCH_MEDIA_CALLS, "10,25,50").filter((n) => n > 0);
const MEDIA_SECONDS = Number(process.env.BENCH_MEDIA_SECONDS ?? 8);
const MEDIA_ENGINES = (process.env.BENCH_MEDIA_ENGINES ?? "embedded,rtpengine").split(",");
const PLAIN_SDP = process.env.BENCH_SDP === "plain";

// Ports of this benchmark only (bench/b2bua uses 2636x, the e2e tests 28xxx).
const GW = 26460;
const HTTP = 26480;
const SIPP_UAC = 26461;
const SIPP_UAS = 26462;
const SIPP_MEDIA = 26500;
/** The generator's RTP reflector, named in the SIP callee's SDP. */
const REFLECTOR = 26510;
const EMBEDDED_PORTS = { min: 26600, max: 26999 };
const NUMBER = "12015550123";
/** What the gateway waits for before giving up on a DSIP call's answer. */
const ANSWER_TIMEOUT_MS = 10_000;

interface Running {
  runtime: GatewayRuntime;
  dir: string;
  stop(): Promise<void>;
}

async function startGateway(mediaYaml: string, media?: MediaEngine): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), "dsip-bench-dsip-"));
  const file = join(dir, "gateway.yaml");
  writeFileSync(
    file,
    `sip:
  listen: ["udp:127.0.0.1:${GW}"]
http:
  listen: "127.0.0.1:${HTTP}"
cdr:
  sqlite: "${join(dir, "cdr.sqlite")}"
  jsonl: "${join(dir, "cdr.jsonl")}"
logging:
  level: warn
${mediaYaml}
dsip:
  noAnswerTimeout: 20
trunks:
  - name: pbx
    address: "127.0.0.1:${SIPP_UAC}"
    inbound:
      acl: ["127.0.0.1/32"]
  - name: carrier
    address: "127.0.0.1:${SIPP_UAS}"
routes:
  - match: ".*"
    to: "trunk:carrier"
`,
  );
  const config = loadConfig(file, { env: {} });
  const runtime = await startRuntime({
    config,
    logger: pino({ level: "warn" }, pino.destination(2)),
    http: { host: "127.0.0.1", port: HTTP },
    dataDir: join(dir, "data"),
    did: `did:web:localhost%3A${HTTP}`,
    publicUrl: `ws://127.0.0.1:${HTTP}/dsip`,
    metrics: new GatewayMetrics({ defaultMetrics: false }),
    ...(media ? { media } : {}),
  });
  return {
    runtime,
    dir,
    stop: async () => {
      await runtime.stop(2000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A SIPp uas (built-in, or `scenarioFile`) for a whole phase, stopped by us rather than by a call count. */
function startSippUas(scenarioFile?: string, extra: string[] = []): ChildProcess {
  return spawn(
    "sipp",
    [
      ...(scenarioFile ? ["-sf", scenarioFile] : ["-sn", "uas"]),
      "-i",
      "127.0.0.1",
      "-p",
      String(SIPP_UAS),
      "-nostdin",
      "-fd",
      "3600",
      "-max_socket",
      "60000",
      ...extra,
    ],
    { stdio: "ignore" },
  );
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Until the gateway holds no call or dialog (the next step starts without
 * leftovers). Completed transactions are not waited for: with the real T1 they
 * linger 32 s in Timer J/K, as they would in production between bursts.
 */
async function drained(rt: GatewayRuntime, timeoutMs = 40_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const c = rt.gateway.counts();
    if (c.calls === 0 && c.dialogs.total === 0) return true;
    await sleep(200);
  }
  return false;
}

function dsipStep(rate: number, r: SignalingStepResult): Step {
  const calls = rate * SECONDS;
  return {
    rate,
    calls,
    ok: r.answered,
    failed: r.failed,
    retransmissions: 0,
    achievedCps: Math.round((r.answered / r.elapsedMs) * 1000),
    p50: Math.round(percentile(r.setupMs, 50) * 10) / 10,
    p99: Math.round(percentile(r.setupMs, 99) * 10) / 10,
    // The same bar as bench/lib/stepping.ts: every call answered, none failed, the rate held.
    clean: r.failed === 0 && r.answered === calls && r.answered / r.elapsedMs >= (0.95 * rate) / 1000,
    ...(Object.keys(r.failures).length > 0 ? { note: JSON.stringify(r.failures) } : {}),
  };
}

/** Per DSIP step: gateway / generator CPU, % of one core over the step. */
const cpuNotes = new Map<number, string>();

async function benchSignaling(): Promise<{ dsip: Step[]; sip: Step[]; sdpBytes: number }> {
  const gw = await startGateway("", new PassThroughMediaEngine());
  const uas = startSippUas();
  const gen = forkWorker("./signaling-load.ts");
  try {
    await sleep(500);
    const ready = await request<Extract<FromSignaling, { type: "ready" }>>(
      gen,
      {
        type: "setup",
        connections: CONNECTIONS,
        offerSdp: !PLAIN_SDP,
        url: `ws://127.0.0.1:${HTTP}/dsip`,
        httpBase: `http://127.0.0.1:${HTTP}`,
      } satisfies ToSignaling,
      ["ready"],
      60_000,
    );
    console.error(`dsip: ${ready.connections} connections authenticated, invite SDP ${ready.sdpBytes} bytes`);
    const dsip: Step[] = [];
    let seenRecords = 0;
    for (const rate of RATES) {
      const cpu0 = process.cpuUsage();
      const gen0 = procCpuSeconds(gen.pid);
      const t0 = performance.now();
      const r = await request<Extract<FromSignaling, { type: "result" }>>(
        gen,
        {
          type: "step",
          rate,
          seconds: SECONDS,
          holdMs: HOLD_MS,
          answerTimeoutMs: ANSWER_TIMEOUT_MS,
          number: NUMBER,
        } satisfies ToSignaling,
        ["result"],
        (SECONDS + 60) * 1000,
      );
      const cpu = process.cpuUsage(cpu0);
      const wallMs = performance.now() - t0;
      const gwCpu = ((cpu.user + cpu.system) / 1000 / wallMs) * 100;
      const genCpu = ((procCpuSeconds(gen.pid) - gen0) * 1000 * 100) / wallMs;
      const step = dsipStep(rate, r);
      cpuNotes.set(rate, `${gwCpu.toFixed(0)} / ${genCpu.toFixed(0)} %`);
      dsip.push(step);
      const m = process.memoryUsage();
      console.error(
        `dsip @${rate} cps: attempted ${r.attempted} answered ${r.answered} failed ${r.failed} p50 ${step.p50} ms p99 ${step.p99} ms ` +
          `(CPU gateway ${gwCpu.toFixed(0)} % generator ${genCpu.toFixed(0)} %, heap ${(m.heapUsed / 1e6).toFixed(0)} MB)${step.note ? ` ${step.note}` : ""}`,
      );
      if (!(await drained(gw.runtime)))
        console.error("dsip: the gateway did not drain; later steps are suspect");
      // The gateway's own account of the step's calls that did not end 200: where a failure happened.
      gw.runtime.gateway.cdr?.flush();
      const records = sqliteRecords(join(gw.dir, "cdr.sqlite"));
      const notOk: Record<string, number> = {};
      for (const rec of records.slice(seenRecords)) {
        if (rec.status === 200) continue;
        const key = `${rec.status} ${rec.reason}`.slice(0, 80);
        notOk[key] = (notOk[key] ?? 0) + 1;
      }
      seenRecords = records.length;
      if (Object.keys(notOk).length > 0) {
        step.note = `${step.note ?? ""} gateway CDRs not 200: ${JSON.stringify(notOk)}`.trim();
        console.error(`dsip @${rate} cps: gateway CDRs not 200: ${JSON.stringify(notOk)}`);
      }
      if (!step.clean) break;
      await sleep(1000);
    }
    const sip = await stepRates("sip→sip", GW, {
      rates: RATES,
      seconds: SECONDS,
      sippPort: SIPP_UAC,
      extra: ["-s", NUMBER, "-d", String(HOLD_MS)],
    });
    return { dsip, sip, sdpBytes: ready.sdpBytes };
  } finally {
    await request(gen, { type: "close" }, ["never"], 5000).catch(() => {});
    await stopChild(gen);
    await stopChild(uas);
    await gw.stop();
  }
}

function printSignaling(dsip: Step[], sip: Step[], sdpBytes: number): void {
  console.log(
    `\n1. Signaling: ${CONNECTIONS} DSIP connections (did:key, DID-Auth, Ed25519 on every frame) vs SIPp uac, ` +
      `both → gateway → SIPp uas, ${SECONDS} s per step, hold ${HOLD_MS} ms`,
  );
  console.log(
    `   media engine: pass-through (no WebRTC work; the ${sdpBytes}-byte ${PLAIN_SDP ? "plain" : "werift WebRTC"} offer is handed on as is); CDRs on; logging warn`,
  );
  console.log("   setup time: DSIP invite sent → dsip.answer received; SIP INVITE sent → 200 received");
  const w = 46;
  console.log(
    `${"rate".padEnd(6)}| ${"DSIP → SIP (answered/attempted)".padEnd(w)}| ${"DSIP CPU gw/gen".padEnd(16)}| SIP → SIP (SIPp uac)`,
  );
  console.log(`${"-".repeat(6)}+${"-".repeat(w + 1)}+${"-".repeat(17)}+${"-".repeat(w)}`);
  for (const rate of RATES) {
    const d = dsip.find((s) => s.rate === rate);
    const s = sip.find((x) => x.rate === rate);
    if (!d && !s) continue;
    const dc = d ? `${d.ok}/${d.calls} ${cell(d)}` : "-";
    const sc = s ? `${s.ok}/${s.calls} ${cell(s)}` : "-";
    console.log(
      `${String(rate).padEnd(6)}| ${dc.padEnd(w)}| ${(cpuNotes.get(rate) ?? "-").padEnd(16)}| ${sc}`,
    );
  }
  for (const d of dsip) if (d.note) console.log(`   DSIP @${d.rate}: failures ${d.note}`);
  const bd = best(dsip);
  const bs = best(sip);
  const ratio = bd && bs ? ` — DSIP/SIP ${(bd.rate / bs.rate).toFixed(2)}×` : "";
  console.log(
    `highest clean rate: DSIP ${bd ? `${bd.rate} cps (p50 ${bd.p50} / p99 ${bd.p99} ms)` : "none"}; ` +
      `SIP ${bs ? `${bs.rate} cps (p50 ${bs.p50} / p99 ${bs.p99} ms)` : "none"}${ratio}`,
  );
  if (sip.some((s) => s.failed > 0))
    console.log(
      "   (SIP → SIP failures are 503s when every SIPp call comes from 127.0.0.1: the stack refuses a source above " +
        "10,000 live server transactions, and each call leaves two (INVITE accepted, BYE) for 64·T1 = 32 s across steps " +
        "run back to back; DSIP → SIP leaves none there, SIPp uas only answers. See the SIPp errors on stderr.)",
    );
  const topped = (steps: Step[]) => steps.length === RATES.length && steps.every((s) => s.clean);
  if (topped(dsip) || topped(sip))
    console.log("(clean at the top step: raise BENCH_RATES to find the limit)");
}

/** utime + stime of a process, in seconds. */
function procCpuSeconds(pid: number | undefined): number {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    // Gone (SIPp or a generator died): the row then shows NaN rather than the run failing.
    return Number.NaN;
  }
  // Fields after the command name, which may itself contain spaces or parentheses.
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(f[11]) + Number(f[12]);
  // CLK_TCK is 100 on Linux for every architecture Node ships for.
  return ticks / 100;
}

/** Our direct child named `comm` (rtpengine's pid is not exposed by test/support/rtpengine.ts). */
function childPid(comm: string): number | undefined {
  for (const task of readdirSync(`/proc/${process.pid}/task`)) {
    let children = "";
    try {
      children = readFileSync(`/proc/${process.pid}/task/${task}/children`, "utf8");
    } catch {
      continue;
    }
    for (const pid of children.trim().split(/\s+/).filter(Boolean).map(Number)) {
      try {
        if (readFileSync(`/proc/${pid}/comm`, "utf8").trim() === comm) return pid;
      } catch {}
    }
  }
  return undefined;
}

interface MediaRow {
  engine: string;
  calls: number;
  connected: number;
  sessions: number;
  engineCpu: number;
  gatewayCpu: number;
  generatorCpu: number;
  sippCpu: number;
  perCore: number;
  setupS: number;
  /** Reflector returns over softphone sends: audio reached the SIP side. */
  toSip: number;
  /** Softphone receptions over sends: audio came back through the engine. */
  back: number;
}

async function benchMedia(engine: string): Promise<MediaRow[]> {
  let rtpe: RunningRtpengine | undefined;
  let rtpePid: number | undefined;
  if (engine === "rtpengine") {
    rtpe = await startRtpengine({ mediaPorts: 1000 });
    rtpePid = childPid("rtpengine");
    if (rtpePid === undefined) throw new Error("rtpengine started but its pid is not among our children");
  }
  const yaml =
    engine === "embedded"
      ? `media:\n  engine: embedded\n  embedded: { host: "127.0.0.1", portMin: ${EMBEDDED_PORTS.min}, portMax: ${EMBEDDED_PORTS.max} }`
      : `media:\n  engine: rtpengine\n  rtpengine: { address: "127.0.0.1:${rtpe!.ngPort}", timeoutMs: 2000 }`;
  const gw = await startGateway(yaml);
  // uas-basic.xml with the reflector's port in its SDP: SIPp answers, the generator's reflector talks.
  const uasXml = join(gw.dir, "uas-reflector.xml");
  writeFileSync(
    uasXml,
    readFileSync(scenario("uas-basic.xml"), "utf8").replace("[media_port]", String(REFLECTOR)),
  );
  const uas = startSippUas(uasXml, ["-mi", "127.0.0.1", "-mp", String(SIPP_MEDIA)]);
  const gen = forkWorker("./media-load.ts");
  const rows: MediaRow[] = [];
  try {
    await sleep(500);
    await request(
      gen,
      {
        type: "setup",
        reflectorPort: REFLECTOR,
        url: `ws://127.0.0.1:${HTTP}/dsip`,
        httpBase: `http://127.0.0.1:${HTTP}`,
      } satisfies ToMedia,
      ["ready"],
      30_000,
    );
    for (const n of MEDIA_CALLS) {
      const up = await request<Extract<FromMedia, { type: "up" }>>(
        gen,
        { type: "calls", count: n, number: NUMBER, upTimeoutMs: 60_000 } satisfies ToMedia,
        ["up"],
        120_000,
      );
      // Let the last DTLS handshakes and jitter settle: the window is meant to see steady relaying only.
      await sleep(1500);
      const sessions = gw.runtime.media.sessions();
      const before = {
        gw: process.cpuUsage(),
        rtpe: rtpePid ? procCpuSeconds(rtpePid) : 0,
        gen: procCpuSeconds(gen.pid),
        sipp: procCpuSeconds(uas.pid),
        t: performance.now(),
      };
      await sleep(MEDIA_SECONDS * 1000);
      const wall = (performance.now() - before.t) / 1000;
      const g = process.cpuUsage(before.gw);
      const gatewayCpu = (g.user + g.system) / 1e6 / wall;
      const rtpeCpu = rtpePid ? (procCpuSeconds(rtpePid) - before.rtpe) / wall : 0;
      const generatorCpu = (procCpuSeconds(gen.pid) - before.gen) / wall;
      const sippCpu = (procCpuSeconds(uas.pid) - before.sipp) / wall;
      const down = await request<Extract<FromMedia, { type: "down" }>>(
        gen,
        { type: "hangup" },
        ["down"],
        60_000,
      );
      const engineCpu = engine === "embedded" ? gatewayCpu : rtpeCpu;
      const toSip = down.packetsSent > 0 ? down.reflected / down.packetsSent : 0;
      const back = down.packetsSent > 0 ? down.packetsReceived / down.packetsSent : 0;
      const row: MediaRow = {
        engine,
        calls: n,
        connected: up.connected,
        sessions,
        engineCpu,
        gatewayCpu,
        generatorCpu,
        sippCpu,
        perCore: engineCpu > 0 ? up.connected / engineCpu : Number.NaN,
        setupS: up.setupMs / 1000,
        toSip,
        back,
      };
      rows.push(row);
      console.error(
        `media ${engine} ${n} calls: connected ${up.connected} (failed ${up.failed}), engine sessions ${sessions}, ` +
          `engine CPU ${(engineCpu * 100).toFixed(1)} %, gateway ${(gatewayCpu * 100).toFixed(1)} %, generator ${(generatorCpu * 100).toFixed(1)} %, ` +
          `SIPp ${(sippCpu * 100).toFixed(1)} %, softphones sent ${down.packetsSent} received ${down.packetsReceived}, reflector returned ${down.reflected}`,
      );
      if (!(await drained(gw.runtime))) console.error(`media ${engine}: the gateway did not drain`);
      await sleep(1000);
    }
  } finally {
    await request(gen, { type: "close" }, ["never"], 10_000).catch(() => {});
    await stopChild(gen);
    await stopChild(uas);
    await gw.stop();
    await rtpe?.stop();
  }
  return rows;
}

function printMedia(rows: MediaRow[], skipped: string[]): void {
  console.log(
    `\n2. Media: concurrent DSIP (werift, ICE + DTLS-SRTP, PCMU 20 ms) ⇄ RTP (SIPp uas + RTP reflector) calls, ${MEDIA_SECONDS} s window`,
  );
  console.log(
    "   CPU = share of one core over the window; engine = gateway process (embedded) or rtpengine process; generator and SIPp shown apart",
  );
  console.log(
    `${"engine".padEnd(10)}${"calls".padStart(6)}${"up".padStart(5)}${"engine CPU".padStart(12)}${"calls/core".padStart(12)}${"gw CPU".padStart(9)}${"generator".padStart(11)}${"SIPp".padStart(8)}${"to SIP".padStart(8)}${"back".padStart(6)}${"setup s".padStart(9)}`,
  );
  for (const r of rows)
    console.log(
      `${r.engine.padEnd(10)}${String(r.calls).padStart(6)}${String(r.connected).padStart(5)}${`${(r.engineCpu * 100).toFixed(1)} %`.padStart(12)}${(Number.isFinite(r.perCore) ? r.perCore.toFixed(0) : "-").padStart(12)}${`${(r.gatewayCpu * 100).toFixed(1)} %`.padStart(9)}${`${(r.generatorCpu * 100).toFixed(0)} %`.padStart(11)}${`${(r.sippCpu * 100).toFixed(0)} %`.padStart(8)}${r.toSip.toFixed(2).padStart(8)}${r.back.toFixed(2).padStart(6)}${r.setupS.toFixed(1).padStart(9)}`,
    );
  // Low N carries a fixed cost (timers, the agent, rtpengine's housekeeping); the slope between the
  // smallest and largest N is closer to what one more call costs.
  for (const engine of new Set(rows.map((r) => r.engine))) {
    const mine = rows.filter((r) => r.engine === engine && r.connected > 0);
    const lo = mine[0];
    const hi = mine.at(-1);
    if (!lo || !hi || hi === lo || hi.engineCpu <= lo.engineCpu) continue;
    const perCore = (hi.connected - lo.connected) / (hi.engineCpu - lo.engineCpu);
    console.log(
      `   ${engine}: marginal ${perCore.toFixed(0)} calls/core (${lo.connected} → ${hi.connected} calls: +${((hi.engineCpu - lo.engineCpu) * 100).toFixed(1)} % of a core)`,
    );
  }
  console.log(
    "   to SIP = RTP packets the reflector got over those the softphones sent; back = softphone receptions over sends",
  );
  console.log(
    "   setup s = time to place the N calls and see every one's ICE + DTLS connected (40 ms apart)",
  );
  for (const s of skipped) console.log(`(${s})`);
}

async function main(): Promise<void> {
  if (!hasCommand("sipp")) throw new Error("sipp (Debian sip-tester) is required");
  const started = Date.now();
  const sig = await benchSignaling();
  const rows: MediaRow[] = [];
  const skipped: string[] = [];
  if (MEDIA_CALLS.length > 0) {
    for (const engine of MEDIA_ENGINES) {
      if (engine === "rtpengine" && !hasRtpengine()) {
        skipped.push("rtpengine not installed: not measured");
        continue;
      }
      try {
        rows.push(...(await benchMedia(engine)));
      } catch (err) {
        skipped.push(`${engine}: ${(err as Error).message.slice(0, 300)}`);
      }
    }
  }
  printSignaling(sig.dsip, sig.sip, sig.sdpBytes);
  if (MEDIA_CALLS.length > 0) printMedia(rows, skipped);
  console.log(`\ntotal ${Math.round((Date.now() - started) / 1000)} s`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
