/**
 * Parser throughput, side by side in one run: our parser (with and without
 * message-level validation) against sip.js's Parser and sip@0.0.6's parse.
 * Every contender starts from the bytes a socket hands over (a Buffer); the
 * string conversion sip.js needs is part of its cost.
 *
 *   npm run bench:parse            (BENCH_SECONDS=2 to lengthen each round)
 */
import { createRequire } from "node:module";
import { parseMessage, validateMessage } from "../../src/sip/index.js";
import { INVITE, OK_200 } from "./messages.js";

const require = createRequire(import.meta.url);
const kirm = require("sip") as { parse(b: Buffer | string): unknown };
const { Parser, LoggerFactory } = (await import("sip.js/lib/core/index.js")) as unknown as {
  Parser: { parseMessage(s: string, logger: unknown): unknown };
  LoggerFactory: new () => { getLogger(c: string): unknown };
};
const logger = new LoggerFactory().getLogger("bench");

type Contender = { name: string; run: (b: Buffer) => unknown };

const contenders: Contender[] = [
  {
    name: "dsip-gateway parse+validate",
    run: (b) => {
      const m = parseMessage(b);
      validateMessage(m);
      return m;
    },
  },
  { name: "dsip-gateway parse only", run: (b) => parseMessage(b) },
  { name: "sip.js Parser.parseMessage", run: (b) => Parser.parseMessage(b.toString(), logger) },
  { name: "sip@0.0.6 parse", run: (b) => kirm.parse(b) },
];

const seconds = Number(process.env.BENCH_SECONDS ?? 1);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);

function measure(c: Contender, buf: Buffer): number {
  // Each contender must succeed on the input, or its number means nothing.
  if (!c.run(buf)) throw new Error(`${c.name} failed to parse the benchmark message`);
  const deadline = performance.now() + seconds * 1000;
  let n = 0;
  let sink = 0;
  const start = performance.now();
  while (performance.now() < deadline) {
    for (let i = 0; i < 200; i++) {
      // a fresh Buffer each time, as from a socket, so nobody caches by identity
      sink += c.run(Buffer.from(buf)) ? 1 : 0;
    }
    n += 200;
  }
  const elapsed = (performance.now() - start) / 1000;
  if (sink !== n) throw new Error("a parse failed during the run");
  return n / elapsed;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const inputs: Array<[string, Buffer]> = [
  [`INVITE with SDP (${Buffer.byteLength(INVITE)} B)`, Buffer.from(INVITE)],
  [`200 OK with SDP (${Buffer.byteLength(OK_200)} B)`, Buffer.from(OK_200)],
];

console.log(
  `parser benchmark: node ${process.version}, ${seconds}s × ${rounds} rounds per cell, median shown`,
);
for (const [label, buf] of inputs) {
  // warm-up so every contender is optimised before it is timed
  for (const c of contenders) for (let i = 0; i < 20000; i++) c.run(buf);
  const results = new Map<string, number[]>();
  for (let r = 0; r < rounds; r++) {
    for (const c of contenders) {
      const list = results.get(c.name) ?? [];
      list.push(measure(c, buf));
      results.set(c.name, list);
    }
  }
  const medians = contenders.map((c) => [c.name, median(results.get(c.name)!)] as const);
  const peers = medians.filter(([n]) => !n.startsWith("dsip-gateway"));
  const fastestPeer = Math.max(...peers.map(([, v]) => v));
  console.log(`\n${label}`);
  console.log(`${"parser".padEnd(30)} ${"msgs/s".padStart(12)} ${"vs fastest peer".padStart(16)}`);
  for (const [name, v] of medians) {
    console.log(
      `${name.padEnd(30)} ${Math.round(v).toLocaleString("en-US").padStart(12)} ${`${(v / fastestPeer).toFixed(2)}×`.padStart(16)}`,
    );
  }
}
