/** Small single-value headers: numbers, method pairs and token lists. */
import { badRequest } from "../errors.js";
import {
  isDigits,
  isToken,
  type Params,
  parseBoundedInt,
  readTokenWithParams,
  skipWs,
  splitList,
} from "../grammar.js";

/** RFC 3261 §8.1.1.5: the sequence number must be less than 2^31. */
export const MAX_CSEQ = 2 ** 31 - 1;
export const MAX_MAX_FORWARDS = 255;
/** RFC 3261 §20.19: larger Expires values are treated as 2^32-1. */
export const MAX_DELTA_SECONDS = 2 ** 32 - 1;

export interface CSeq {
  seq: number;
  method: string;
}

export function parseCSeq(text: string): CSeq {
  let i = skipWs(text, 0);
  const start = i;
  while (i < text.length && text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x39) i++;
  const seq = parseBoundedInt(text.slice(start, i), MAX_CSEQ, "CSeq number");
  const afterWs = skipWs(text, i);
  if (afterWs === i) throw badRequest("Malformed CSeq");
  const method = text.slice(afterWs).trimEnd();
  if (!isToken(method)) throw badRequest("Malformed CSeq method");
  return { seq, method };
}

export function parseContentLength(text: string): number {
  const value = text.trim();
  if (value.startsWith("-")) throw badRequest("Negative Content-Length");
  // 2^31 keeps it a safe small integer; the transport's size limit applies afterwards
  return parseBoundedInt(value, 2 ** 31 - 1, "Content-Length");
}

export function parseMaxForwards(text: string): number {
  return parseBoundedInt(text.trim(), MAX_MAX_FORWARDS, "Max-Forwards");
}

/** delta-seconds, clamped as RFC 3261 §20.19 asks rather than refused. */
export function parseDeltaSeconds(text: string, what: string): number {
  const value = text.trim();
  if (!isDigits(value)) throw badRequest(`Invalid ${what}`);
  const stripped = value.replace(/^0+(?=\d)/, "");
  if (stripped.length > 10) return MAX_DELTA_SECONDS;
  return Math.min(Number(stripped), MAX_DELTA_SECONDS);
}

/** Option tags of Supported/Require/Proxy-Require/Unsupported, lower-cased. */
export function parseOptionTags(values: string[]): string[] {
  const tags: string[] = [];
  for (const value of values) {
    if (value.trim().length === 0) continue; // `Supported:` with no tags is legal
    for (const item of splitList(value)) {
      if (!isToken(item)) throw badRequest("Invalid option tag");
      tags.push(item.toLowerCase());
    }
  }
  return tags;
}

export interface RAck {
  rseq: number;
  cseq: number;
  method: string;
}

/** RSeq (RFC 3262 §7.1): 1 to 2^31-1. */
export function parseRSeq(text: string): number {
  const n = parseBoundedInt(text.trim(), MAX_CSEQ, "RSeq");
  if (n === 0) throw badRequest("RSeq out of range");
  return n;
}

export function parseRAck(text: string): RAck {
  const parts = text.trim().split(/[ \t]+/);
  if (parts.length !== 3) throw badRequest("Malformed RAck");
  const [rseq, cseq, method] = parts as [string, string, string];
  if (!isToken(method)) throw badRequest("Malformed RAck method");
  return { rseq: parseRSeq(rseq), cseq: parseBoundedInt(cseq, MAX_CSEQ, "RAck CSeq"), method };
}

export interface SessionExpires {
  seconds: number;
  /** "uac" or "uas" when given (RFC 4028 §4). */
  refresher?: string;
  params: Params;
}

/** Session-Expires and Min-SE: delta-seconds *(;params). */
export function parseSessionExpires(text: string): SessionExpires {
  const { token, params } = readTokenWithParams(text, "Session-Expires");
  const seconds = parseDeltaSeconds(token, "Session-Expires");
  const result: SessionExpires = { seconds, params };
  const refresher = params.refresher;
  if (refresher != null) {
    const r = refresher.toLowerCase();
    if (r !== "uac" && r !== "uas") throw badRequest("Invalid Session-Expires refresher");
    result.refresher = r;
  }
  return result;
}

/** A header whose value is a single token (Priority, Geolocation-Routing), lower-cased. */
export function parseTokenValue(text: string, what: string): string {
  const value = text.trim();
  if (!isToken(value)) throw badRequest(`Invalid ${what}`);
  return value.toLowerCase();
}

/** Privacy (RFC 3323 §4.2): priv-value *(";" priv-value). */
export function parsePrivacy(text: string): string[] {
  const values = text.split(";").map((v) => v.trim().toLowerCase());
  for (const v of values) if (!isToken(v)) throw badRequest("Invalid Privacy value");
  return values;
}

/** Resource-Priority (RFC 4412): namespace "." priority-value, e.g. "esnet.1". */
export interface ResourcePriority {
  namespace: string;
  priority: string;
}

export function parseResourcePriority(item: string): ResourcePriority {
  const dot = item.lastIndexOf(".");
  if (dot <= 0 || dot === item.length - 1 || !isToken(item)) throw badRequest("Invalid Resource-Priority");
  return { namespace: item.slice(0, dot).toLowerCase(), priority: item.slice(dot + 1).toLowerCase() };
}

/** Reason (RFC 3326): protocol *(;params), e.g. `Q.850;cause=16;text="Normal"`. */
export interface Reason {
  protocol: string;
  cause?: number;
  text?: string;
  params: Params;
}

export function parseReason(item: string, unquote: (v: string) => string | undefined): Reason {
  const { token, params } = readTokenWithParams(item, "Reason");
  const reason: Reason = { protocol: token, params };
  if (params.cause != null) reason.cause = parseBoundedInt(params.cause, 2 ** 31 - 1, "Reason cause");
  if (params.text != null) {
    const t = unquote(params.text);
    if (t !== undefined) reason.text = t;
  }
  return reason;
}

const DAY = "(Mon|Tue|Wed|Thu|Fri|Sat|Sun)";
const MONTH = "(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)";
const RFC1123 = new RegExp(`^${DAY}, (\\d{2}) ${MONTH} (\\d{4}) (\\d{2}):(\\d{2}):(\\d{2}) GMT$`);

/** Date (RFC 3261 §20.17): rfc1123-date, and only in GMT. */
export function parseDate(text: string): Date {
  const m = RFC1123.exec(text.trim());
  if (!m) throw badRequest("Invalid Date (must be RFC 1123 in GMT)");
  const d = new Date(`${m[2]} ${m[3]} ${m[4]} ${m[5]}:${m[6]}:${m[7]} GMT`);
  if (Number.isNaN(d.getTime())) throw badRequest("Invalid Date");
  return d;
}
