/**
 * Messages between bench/dsip/run.ts and its load-generator children. The
 * generators run in their own processes so their CPU (signing, verifying,
 * werift's ICE/DTLS/SRTP) is never counted as the gateway's.
 */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";

export interface GatewayTarget {
  /** ws://127.0.0.1:…/dsip */
  url: string;
  /** The gateway's own DID document URL base, http://127.0.0.1:… */
  httpBase: string;
}

export type ToSignaling =
  | ({ type: "setup"; connections: number; offerSdp: boolean } & GatewayTarget)
  | { type: "step"; rate: number; seconds: number; holdMs: number; answerTimeoutMs: number; number: string }
  | { type: "close" };

export interface SignalingStepResult {
  attempted: number;
  answered: number;
  failed: number;
  /** Invite sent → dsip.answer received, ms, sorted. */
  setupMs: number[];
  /** First invite → last call finished. */
  elapsedMs: number;
  /** What the failures were (dsip.error code or "timeout"), with counts. */
  failures: Record<string, number>;
}

export type FromSignaling =
  | { type: "ready"; connections: number; sdpBytes: number }
  | ({ type: "result" } & SignalingStepResult)
  | { type: "error"; message: string };

export type ToMedia =
  | ({ type: "setup"; reflectorPort: number } & GatewayTarget)
  | { type: "calls"; count: number; number: string; upTimeoutMs: number }
  | { type: "hangup" }
  | { type: "close" };

export type FromMedia =
  | { type: "ready" }
  | { type: "up"; answered: number; connected: number; failed: number; setupMs: number }
  | {
      type: "down";
      completed: number;
      packetsSent: number;
      packetsReceived: number;
      answeredSeconds: number;
      /** RTP packets the SIP-side reflector sent back. */
      reflected: number;
    }
  | { type: "error"; message: string };

/** A TypeScript child through tsx, with an IPC channel. */
export function forkWorker(file: string): ChildProcess {
  return fork(fileURLToPath(new URL(file, import.meta.url)), [], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
}

/** Sends one request and waits for the next message of one of `types` (or an error/exit). */
export function request<T extends { type: string }>(
  child: ChildProcess,
  message: unknown,
  types: string[],
  timeoutMs: number,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => done(new Error(`no ${types.join("/")} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onMessage = (m: T | { type: "error"; message: string }) => {
      if (m.type === "error") done(new Error(`generator: ${(m as { message: string }).message}`));
      else if (types.includes(m.type)) done(undefined, m as T);
    };
    const onExit = (code: number | null) => done(new Error(`generator exited (${code})`));
    function done(err?: Error, value?: T): void {
      clearTimeout(timer);
      child.off("message", onMessage);
      child.off("exit", onExit);
      if (err) reject(err);
      else resolve(value!);
    }
    child.on("message", onMessage);
    child.on("exit", onExit);
    child.send(message as object);
  });
}
