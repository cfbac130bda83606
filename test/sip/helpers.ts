import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  type AnySipMessage,
  checkRequestSupport,
  checkResponseAtUac,
  DEFAULT_UAS_POLICY,
  parseMessage,
  SipParseError,
  type UasPolicy,
  validateMessage,
} from "../../src/sip/index.js";

export const TORTURE_DIR = fileURLToPath(new URL("../../node_modules/sip/test/messages/", import.meta.url));
export const FIXTURES = fileURLToPath(new URL("../fixtures/", import.meta.url));

export function torture(name: string): Buffer {
  return readFileSync(`${TORTURE_DIR}${name}.dat`);
}

/** Builds a CRLF message from lines, as SIP wants it on the wire. */
export function crlf(...lines: string[]): Buffer {
  return Buffer.from(lines.join("\r\n"), "utf8");
}

export type Outcome = "accept" | "drop" | number;

/** parse + validate: what the message layer alone decides. */
export function messageOutcome(buf: Buffer): { outcome: Outcome; reason?: string; msg?: AnySipMessage } {
  try {
    const msg = parseMessage(buf);
    validateMessage(msg);
    return { outcome: "accept", msg };
  } catch (err) {
    if (!(err instanceof SipParseError)) throw err;
    return { outcome: err.drop ? "drop" : err.status, reason: err.reason };
  }
}

/** parse + validate + the UAS/UAC checks that follow (RFC 3261 §8.1.3.3, §8.2). */
export function elementOutcome(
  buf: Buffer,
  policy: UasPolicy = DEFAULT_UAS_POLICY,
): { outcome: Outcome; reason?: string } {
  const first = messageOutcome(buf);
  if (first.outcome !== "accept" || !first.msg) return first;
  const msg = first.msg;
  if (msg.isRequest) {
    const rejection = checkRequestSupport(msg, policy);
    return rejection ? { outcome: rejection.status, reason: rejection.reason } : { outcome: "accept" };
  }
  const drop = checkResponseAtUac(msg.via);
  return drop ? { outcome: "drop", reason: drop } : { outcome: "accept" };
}
