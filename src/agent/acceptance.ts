/**
 * The acceptance pipeline every incoming DSIP message goes through (ARCHITECTURE §4).
 * Cheap checks come first so that junk costs little: size, JSON, schema, clock
 * (`ts` skew, `exp`), then the key (`kid` in the `from` DID's `authentication`),
 * the signature, and last the replay cache — only signed messages may enter it,
 * so a forger cannot burn someone else's ids.
 */

import type { AuthenticationKeySource } from "./did-resolution.js";
import { verifyMessageSignature } from "./envelope-signature.js";
import {
  ExpiredError,
  FutureTimestampError,
  KidNotAuthorizedError,
  MalformedJsonError,
  OversizeError,
  ReplayError,
  StaleTimestampError,
} from "./errors.js";
import { type DsipMessage, parseMessage } from "./messages.js";
import { ReplayCache } from "./replay-cache.js";

export interface AcceptanceOptions {
  keys: AuthenticationKeySource;
  /** Allowed clock difference either way, in seconds. */
  skewSeconds?: number;
  /** How long ids are remembered; at least twice the skew so a replay cannot outlive it. */
  replayWindowSeconds?: number;
  maxReplayEntries?: number;
  maxMessageBytes?: number;
  /** Unix seconds; injectable for tests. */
  now?: () => number;
}

export interface AcceptOptions {
  /**
   * The message waited at a relay: its `ts` may be old (its `exp` still applies).
   * Replays stay refused by the id cache.
   */
  storedAndForwarded?: boolean;
}

export const DEFAULT_SKEW_SECONDS = 120;
export const DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024;

export function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}

export class MessageAcceptor {
  readonly skewSeconds: number;
  readonly maxMessageBytes: number;
  private readonly keys: AuthenticationKeySource;
  private readonly replay: ReplayCache;
  private readonly now: () => number;

  constructor(options: AcceptanceOptions) {
    this.keys = options.keys;
    this.skewSeconds = options.skewSeconds ?? DEFAULT_SKEW_SECONDS;
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.now = options.now ?? unixNow;
    const window = Math.max(options.replayWindowSeconds ?? 0, 2 * this.skewSeconds + 1);
    this.replay = new ReplayCache(window, options.maxReplayEntries);
  }

  /** Parses and accepts one wire frame. Throws a DsipError naming the first failed check. */
  async acceptFrame(frame: string | Buffer, options?: AcceptOptions): Promise<DsipMessage> {
    const size = typeof frame === "string" ? Buffer.byteLength(frame) : frame.length;
    if (size > this.maxMessageBytes) throw new OversizeError(`${size} > ${this.maxMessageBytes} bytes`);
    let value: unknown;
    try {
      value = JSON.parse(typeof frame === "string" ? frame : frame.toString("utf8"));
    } catch {
      throw new MalformedJsonError("not JSON");
    }
    return this.accept(value, options);
  }

  /** Accepts an already decoded message; the object itself is returned, never a copy. */
  async accept(value: unknown, options?: AcceptOptions): Promise<DsipMessage> {
    parseMessage(value);
    const message = value as DsipMessage;
    this.checkClock(message, options?.storedAndForwarded === true);
    const { kid } = message.sig;
    if (!kid.startsWith(`${message.from}#`)) throw new KidNotAuthorizedError("kid is not a key of `from`");
    const keys = await this.keys.authenticationKeys(message.from);
    const key = keys.get(kid);
    if (!key) throw new KidNotAuthorizedError("kid is not in the authentication relationship");
    verifyMessageSignature(message, key);
    if (!this.replay.checkAndRemember(`${message.from}\n${message.id}`, this.now())) {
      throw new ReplayError(message.id.slice(0, 64));
    }
    return message;
  }

  private checkClock(message: DsipMessage, storedAndForwarded: boolean): void {
    const now = this.now();
    if (!storedAndForwarded && now - message.ts > this.skewSeconds)
      throw new StaleTimestampError(`ts is ${now - message.ts} s old`);
    if (message.ts - now > this.skewSeconds)
      throw new FutureTimestampError(`ts is ${message.ts - now} s ahead`);
    if (message.exp !== undefined && message.exp <= now) throw new ExpiredError();
  }
}
