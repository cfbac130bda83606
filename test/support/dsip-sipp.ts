/**
 * The DSIP ⇄ SIP e2e harness shared by the files that put the whole gateway
 * (in process) between DSIP softphones and SIPp: a config with a PBX trunk
 * (SIPp uac), a carrier trunk (SIPp uas), a route for +1201555012x and one
 * directory number for the DSIP callee; either media engine (rtpengine started
 * privately); softphones on /dsip; SIPp runs with media ports; and a cleanup
 * that holds every test to leaving no call, dialog, transaction or media
 * session behind. Each file gives its own ports.
 */
import { expect } from "vitest";
import type { Identity } from "../../src/agent/wallet.js";
import { type CallEvent, Softphone } from "../../src/softphone/softphone.js";
import { scenario, startTestRuntime, type TestRuntime, waitDrained } from "./gateway.js";
import { type RunningRtpengine, startRtpengine } from "./rtpengine.js";
import { runSipp, type SippResult } from "./sipp.js";
import { waitFor } from "./wait.js";

export type Engine = "embedded" | "rtpengine" | "dead-rtpengine";

export interface HarnessPorts {
  gw: number;
  http: number;
  uac: number;
  uas: number;
  uasMedia: number;
  uacMedia: number;
  /** The embedded engine's port range. */
  mediaMin: number;
  mediaMax: number;
  /** A UDP port nothing answers on (the "dead-rtpengine" engine). */
  deadNg: number;
}

export const NUMBER = "+12015550123";
export const DSIP_USER_NUMBER = "+12015550199";

export class DsipSippHarness {
  t: TestRuntime | undefined;
  private rtpe: RunningRtpengine | undefined;
  private readonly phones: Softphone[] = [];

  constructor(
    readonly ports: HarnessPorts,
    /** The DSIP user DSIP_USER_NUMBER reaches. */
    private readonly callee: Identity,
  ) {}

  get rt(): TestRuntime {
    if (!this.t) throw new Error("start() first");
    return this.t;
  }

  config(engine: Engine): string {
    const p = this.ports;
    const media =
      engine === "dead-rtpengine"
        ? `media:
  engine: rtpengine
  rtpengine: { address: "127.0.0.1:${p.deadNg}", timeoutMs: 300 }`
        : engine === "embedded"
          ? `media:
  engine: embedded
  embedded: { host: "127.0.0.1", portMin: ${p.mediaMin}, portMax: ${p.mediaMax} }`
          : `media:
  engine: rtpengine
  rtpengine: { address: "127.0.0.1:${this.rtpe!.ngPort}", timeoutMs: 2000 }`;
    return `${media}
dsip:
  noAnswerTimeout: 20
trunks:
  - name: pbx
    address: "127.0.0.1:${p.uac}"
    inbound:
      acl: ["127.0.0.1/32"]
  - name: carrier
    address: "127.0.0.1:${p.uas}"
routes:
  - match: "\\\\+1201555012[0-9]"
    to: "trunk:carrier"
directory:
  - number: "${DSIP_USER_NUMBER}"
    did: "${this.callee.did}"`;
  }

  async start(engine: Engine): Promise<TestRuntime> {
    if (engine === "rtpengine") this.rtpe = await startRtpengine();
    this.t = await startTestRuntime(this.ports.gw, this.ports.http, this.config(engine));
    return this.t;
  }

  async phone(who: Identity): Promise<Softphone> {
    const p = await Softphone.connect({
      url: this.rt.dsipUrl,
      key: who,
      softphone: { media: { iceAdditionalHostAddresses: ["127.0.0.1"] } },
    });
    this.phones.push(p);
    return p;
  }

  /** SIPp as the carrier's phone; `file` is a scenario name or path, "uas" the built-in. */
  sippUas(file = "uas", calls = 1): Promise<SippResult> {
    return runSipp({
      scenario: file === "uas" ? "uas" : scenario(file),
      localPort: this.ports.uas,
      calls,
      timeoutMs: 40_000,
      extra: ["-mi", "127.0.0.1", "-mp", String(this.ports.uasMedia)],
    });
  }

  /** SIPp on the PBX trunk calling `service`. */
  sippUac(file: string, service: string, extra: string[] = []): Promise<SippResult> {
    return runSipp({
      scenario: file === "uac" ? "uac" : scenario(file),
      remote: `127.0.0.1:${this.ports.gw}`,
      localPort: this.ports.uac,
      calls: 1,
      rate: 1,
      timeoutMs: 40_000,
      extra: ["-s", service, "-mi", "127.0.0.1", "-mp", String(this.ports.uacMedia), ...extra],
    });
  }

  /** For afterEach: phones closed, then nothing may be left in the gateway or its engine. */
  async cleanup(): Promise<void> {
    await Promise.all(this.phones.splice(0).map((p) => p.close().catch(() => {})));
    const current = this.t;
    this.t = undefined;
    if (current) {
      try {
        await waitDrained(current.gw);
        await waitFor(() => current.runtime.media.sessions() === 0, 10_000, "no media session left");
      } finally {
        await current.stop();
      }
    }
    if (process.env.RTPE_LOG) console.log(this.rtpe?.log());
    await this.rtpe?.stop();
    this.rtpe = undefined;
  }
}

/** One SIPp call, finished cleanly. */
export function ok(r: SippResult): void {
  expect({ exit: r.exitCode, ok: r.stats.successful, failed: r.stats.failed, errors: r.errors }).toEqual({
    exit: 0,
    ok: 1,
    failed: 0,
    errors: "",
  });
}

export function ended(events: CallEvent[]): Extract<CallEvent, { type: "ended" }> | undefined {
  return events.find((e) => e.type === "ended") as Extract<CallEvent, { type: "ended" }> | undefined;
}
