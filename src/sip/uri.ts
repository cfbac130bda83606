/**
 * URIs the gateway meets: sip/sips (RFC 3261 §19.1), tel (RFC 3966), urn
 * (RFC 8141, e.g. urn:service:sos from RFC 5031) and any other absolute URI,
 * kept opaque. Every parsed URI remembers the text it came from so that a URI
 * we only forward goes out exactly as it came in.
 */
import { isIPv6 } from "node:net";
import { badRequest } from "./errors.js";
import { formatParams, isTokenChar, newParams, type Params } from "./grammar.js";

export interface SipUri {
  readonly scheme: "sip" | "sips";
  /** The user part as written (still %-escaped); see `unescapeUriPart`. */
  user?: string | undefined;
  password?: string | undefined;
  /** Host as written; an IPv6 reference keeps its brackets. */
  host: string;
  port?: number | undefined;
  params: Params;
  /** URI headers (`?name=value&…`), names and values as written. */
  headers: Array<[string, string]>;
  /** The text the URI was parsed from; dropped by `formatUri` callers that changed a field. */
  raw?: string;
}

export interface TelUri {
  readonly scheme: "tel";
  /** The number as written, visual separators included ("+1-201-555-0123"). */
  number: string;
  /** True for a global number ("+" and digits). A local number needs `phone-context`. */
  global: boolean;
  params: Params;
  raw?: string;
}

export interface UrnUri {
  readonly scheme: "urn";
  /** Namespace identifier, lower case ("service"). */
  nid: string;
  /** Namespace-specific string as written ("sos.fire"). */
  nss: string;
  raw?: string;
}

/** Any other absolute URI (https:, cid:, mailto:, isbn: …), kept as text. */
export interface OpaqueUri {
  readonly scheme: string;
  opaque: string;
  raw?: string;
}

export type Uri = SipUri | TelUri | UrnUri | OpaqueUri;

export function isSipUri(uri: Uri): uri is SipUri {
  return uri.scheme === "sip" || uri.scheme === "sips";
}
export function isTelUri(uri: Uri): uri is TelUri {
  return uri.scheme === "tel";
}
export function isUrnUri(uri: Uri): uri is UrnUri {
  return uri.scheme === "urn";
}

function table(chars: string, alnum = true): Uint8Array {
  const t = new Uint8Array(128);
  for (const ch of chars) t[ch.charCodeAt(0)] = 1;
  if (alnum) {
    for (let c = 0x30; c <= 0x39; c++) t[c] = 1;
    for (let c = 0x41; c <= 0x5a; c++) t[c] = 1;
    for (let c = 0x61; c <= 0x7a; c++) t[c] = 1;
  }
  return t;
}

const MARK = "-_.!~*'()";
// user = 1*( unreserved / escaped / user-unreserved ); '#' is not in the grammar but
// carriers send it raw in feature codes (*67#…), so we accept it and say so in docs.
const USER = table(`${MARK}&=+$,;?/#`);
const PASSWORD = table(`${MARK}&=+$,`);
// paramchar = param-unreserved / unreserved / escaped
const PARAM = table(`${MARK}[]/:&+$`);
// hnv-unreserved / unreserved / escaped
const HNV = table(`${MARK}[]/?:+$`);
const SCHEME = table("+-.");
const HOSTNAME = table("-._");
const TEL_GLOBAL = table("-.()0123456789", false);
const TEL_LOCAL = table("-.()0123456789abcdefABCDEF*#", false);

/** Checks `s` against a character table, allowing %HH escapes. */
function allowed(s: string, t: Uint8Array, from = 0, to = s.length): boolean {
  return scanClass(s, from, to, t) === to;
}

/**
 * Index of the first character from `i` (before `end`) that is neither in
 * table `t` nor part of a %HH escape: one pass that both finds where a URI
 * part ends and checks its characters.
 */
function scanClass(text: string, i: number, end: number, t: Uint8Array): number {
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c < 128 && t[c] === 1) i++;
    else if (c === 0x25 && i + 2 < end && isHex(text.charCodeAt(i + 1)) && isHex(text.charCodeAt(i + 2)))
      i += 3;
    else break;
  }
  return i;
}

/** Lower-cases only when needed: parameter names are nearly always lower case already. */
function lowerAscii(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) return s.toLowerCase();
  }
  return s;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** Decodes %HH escapes (RFC 3261 §19.1.4: escaped and unescaped forms compare equal). */
export function unescapeUriPart(s: string): string {
  if (s.indexOf("%") < 0) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 && i + 2 < s.length && isHex(s.charCodeAt(i + 1)) && isHex(s.charCodeAt(i + 2))) {
      bytes.push(Number.parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      for (const b of Buffer.from(s[i] ?? "", "utf8")) bytes.push(b);
    }
  }
  return Buffer.from(bytes).toString("utf8");
}

/** Escapes every character of `s` not in the user grammar. */
export function escapeUser(s: string): string {
  let out = "";
  for (const b of Buffer.from(s, "utf8")) {
    if (b < 128 && USER[b] === 1 && b !== 0x23) out += String.fromCharCode(b);
    else out += `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

export interface UriParseOptions {
  /** Request-URI context: URI headers (`?…`) are not allowed (RFC 3261 §19.1.1 table). */
  requestUri?: boolean;
}

/** Parses an absolute URI. Throws SipParseError (400) when the text is not one. */
export function parseUri(text: string, opts: UriParseOptions = {}): Uri {
  const colon = text.indexOf(":");
  if (colon <= 0) throw badRequest("Invalid URI: no scheme");
  const first = text.charCodeAt(0);
  if (
    !((first >= 0x41 && first <= 0x5a) || (first >= 0x61 && first <= 0x7a)) ||
    !allowed(text, SCHEME, 0, colon)
  ) {
    throw badRequest("Invalid URI scheme");
  }
  const scheme = knownScheme(text, colon) ?? text.slice(0, colon).toLowerCase();
  const rest = text.slice(colon + 1);
  switch (scheme) {
    case "sip":
    case "sips":
      return parseSipUri(scheme, text, colon + 1, opts);
    case "tel":
      return parseTelUri(rest, text);
    case "urn":
      return parseUrn(rest, text);
    default:
      return parseOpaque(scheme, rest, text);
  }
}

/** sip, sips, tel and urn recognised without building a lower-cased copy (the hot path). */
function knownScheme(text: string, colon: number): string | undefined {
  const c0 = text.charCodeAt(0) | 0x20;
  const c1 = text.charCodeAt(1) | 0x20;
  const c2 = text.charCodeAt(2) | 0x20;
  if (colon === 3) {
    if (c0 === 0x73 && c1 === 0x69 && c2 === 0x70) return "sip";
    if (c0 === 0x74 && c1 === 0x65 && c2 === 0x6c) return "tel";
    if (c0 === 0x75 && c1 === 0x72 && c2 === 0x6e) return "urn";
  } else if (
    colon === 4 &&
    c0 === 0x73 &&
    c1 === 0x69 &&
    c2 === 0x70 &&
    (text.charCodeAt(3) | 0x20) === 0x73
  ) {
    return "sips";
  }
  return undefined;
}

function parseSipUri(scheme: "sip" | "sips", text: string, start: number, opts: UriParseOptions): SipUri {
  const len = text.length;
  let user: string | undefined;
  let password: string | undefined;
  let i = start;
  // '@' appears nowhere in a SIP URI but between userinfo and host, so the
  // first one splits them, whatever ';' '?' '/' the user part holds (RFC 4475 intmeth, semiuri).
  const at = text.indexOf("@", start);
  if (at >= 0) {
    const userEnd = scanClass(text, start, at, USER);
    if (userEnd === start) throw badRequest("Empty user part in SIP URI");
    user = text.slice(start, userEnd);
    if (userEnd < at) {
      if (text.charCodeAt(userEnd) !== 0x3a) throw badRequest("Invalid user part in SIP URI");
      if (scanClass(text, userEnd + 1, at, PASSWORD) !== at) throw badRequest("Invalid password in SIP URI");
      password = text.slice(userEnd + 1, at);
    }
    i = at + 1;
  }
  const hp = readHostPort(text, i, "SIP URI", false);
  const { host, port } = hp;
  i = hp.end;
  const params = newParams();
  while (i < len && text.charCodeAt(i) === 0x3b) {
    const nameStart = ++i;
    i = scanClass(text, nameStart, len, PARAM);
    const nameEnd = i;
    if (nameEnd === nameStart) throw badRequest("Invalid URI parameter");
    let value: string | null = null;
    if (text.charCodeAt(i) === 0x3d) {
      const valueStart = i + 1;
      i = scanClass(text, valueStart, len, PARAM);
      if (i === valueStart) throw badRequest("Invalid URI parameter value");
      value = text.slice(valueStart, i);
    }
    const c = i < len ? text.charCodeAt(i) : 0x3b;
    if (c !== 0x3b && c !== 0x3f) throw badRequest("Invalid URI parameter");
    const name = lowerAscii(text.slice(nameStart, nameEnd));
    if (params[name] === undefined) params[name] = value;
  }
  const headers: Array<[string, string]> = [];
  if (i < len && text.charCodeAt(i) === 0x3f) {
    if (opts.requestUri) throw badRequest("Headers not allowed in Request-URI");
    for (const pair of text.slice(i + 1).split("&")) {
      const eq = pair.indexOf("=");
      const name = eq >= 0 ? pair.slice(0, eq) : pair;
      const value = eq >= 0 ? pair.slice(eq + 1) : "";
      if (name.length === 0 || !allowed(name, HNV) || !allowed(value, HNV))
        throw badRequest("Invalid URI header");
      headers.push([name, value]);
    }
    i = len;
  }
  if (i !== len) throw badRequest("Invalid character in SIP URI");
  // one object shape for every SIP URI keeps property access monomorphic
  return { scheme, user, password, host, port, params, headers, raw: text };
}

/** An IPv6 reference's inside, tolerating the three-colon form RFC 5118 §4.10 asks us to accept. */
function isIPv6Reference(inner: string): boolean {
  return isIPv6(inner) || (inner.indexOf(":::") >= 0 && isIPv6(inner.replace(":::", "::")));
}

/**
 * Reads a hostname or IPv4 address from text[start] up to the first character
 * that cannot be in one, checking it on the way; -1 when what was read is not
 * a valid host (empty, leading '.' or '-', empty label, or all digits yet no
 * dotted quad).
 */
function scanHostname(text: string, start: number, len: number): number {
  let i = start;
  let prevDot = true; // a leading '.' counts as an empty label
  let numeric = true;
  while (i < len) {
    const c = text.charCodeAt(i);
    if (c === 0x2e) {
      if (prevDot) return -1;
      prevDot = true;
    } else if (c < 128 && HOSTNAME[c] === 1) {
      if (prevDot && c === 0x2d) return -1;
      prevDot = false;
      if (c < 0x30 || c > 0x39) numeric = false;
    } else break;
    i++;
  }
  if (i === start || i - start > 255) return -1;
  if (numeric && !isDottedQuad(text.slice(start, i))) return -1;
  return i;
}

/**
 * Reads host [":" port] at text[i] as in a SIP URI or a Via sent-by, up to the
 * first character that cannot belong to it. An IPv6 address must be in
 * brackets (RFC 5118 §4.2); the RFC 3261 ABNF bug that lets a reference carry
 * three colons is tolerated, as RFC 5118 §4.10 asks. `lws` allows whitespace
 * around the colon, which Via's grammar (COLON = SWS ":" SWS) permits.
 */
export function readHostPort(
  text: string,
  i: number,
  where: string,
  lws: boolean,
): { host: string; port: number | undefined; end: number } {
  const len = text.length;
  const hostStart = i;
  if (text.charCodeAt(i) === 0x5b) {
    const close = text.indexOf("]", i);
    if (close < 0) throw badRequest(`Unterminated IPv6 reference in ${where}`);
    if (!isIPv6Reference(text.slice(i + 1, close))) throw badRequest(`Invalid IPv6 reference in ${where}`);
    i = close + 1;
  } else {
    i = scanHostname(text, i, len);
    if (i < 0) throw badRequest(`Invalid host in ${where}`);
  }
  const host = text.slice(hostStart, i);
  let j = lws ? skipSpaces(text, i) : i;
  if (text.charCodeAt(j) !== 0x3a) return { host, port: undefined, end: i };
  j = lws ? skipSpaces(text, j + 1) : j + 1;
  const portStart = j;
  let port = 0;
  while (j < len) {
    const c = text.charCodeAt(j);
    if (c < 0x30 || c > 0x39) break;
    port = port * 10 + (c - 0x30);
    j++;
  }
  if (j === portStart || j - portStart > 5 || port > 65535) throw badRequest(`Invalid port in ${where}`);
  return { host, port, end: j };
}

function skipSpaces(s: string, i: number): number {
  while (i < s.length && (s.charCodeAt(i) === 0x20 || s.charCodeAt(i) === 0x09)) i++;
  return i;
}

/** host [":" port] filling the whole text. */
export function parseHostPort(text: string, where: string): { host: string; port?: number } {
  const { host, port, end } = readHostPort(text, 0, where, false);
  if (end !== text.length) throw badRequest(`Invalid host in ${where}`);
  return port === undefined ? { host } : { host, port };
}

/** IPv4address: four decimal octets, without the regular expression node:net uses. */
function isDottedQuad(s: string): boolean {
  let dots = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || ++dots > 3) return false;
      value = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      // no leading zeros ("010" is ambiguous), at most 255
      if (digits === 1 && value === 0) return false;
      value = value * 10 + (c - 0x30);
      if (++digits > 3 || value > 255) return false;
    } else return false;
  }
  return dots === 3 && digits > 0;
}

/** hostname or IPv4address; labels of letters, digits, '-' (and '_', which real peers use). */
export function isHostname(s: string): boolean {
  return scanHostname(s, 0, s.length) === s.length;
}

function parseTelUri(rest: string, raw: string): TelUri {
  const semi = rest.indexOf(";");
  const number = semi >= 0 ? rest.slice(0, semi) : rest;
  const global = number.charCodeAt(0) === 0x2b;
  const digits = global ? number.slice(1) : number;
  if (digits.length === 0 || !allowed(digits, global ? TEL_GLOBAL : TEL_LOCAL) || digits.indexOf("%") >= 0) {
    throw badRequest("Invalid tel URI number");
  }
  if (global && !/[0-9]/.test(digits)) throw badRequest("Invalid tel URI number");
  const params = newParams();
  if (semi >= 0) {
    for (const part of rest.slice(semi + 1).split(";")) {
      const eq = part.indexOf("=");
      const name = (eq >= 0 ? part.slice(0, eq) : part).toLowerCase();
      const value = eq >= 0 ? part.slice(eq + 1) : null;
      if (name.length === 0 || !allowed(name, PARAM)) throw badRequest("Invalid tel URI parameter");
      if (value !== null && (value.length === 0 || !allowed(value, PARAM))) {
        throw badRequest("Invalid tel URI parameter value");
      }
      if (!(name in params)) params[name] = value;
    }
  }
  if (!global && params["phone-context"] == null) throw badRequest("Local tel URI without phone-context");
  return { scheme: "tel", number, global, params, raw };
}

/** The digits of a tel URI without visual separators ("+1-201-555-0123" → "+12015550123"). */
export function telDigits(uri: TelUri): string {
  return uri.number.replace(/[-.()]/g, "");
}

function parseUrn(rest: string, raw: string): UrnUri {
  const colon = rest.indexOf(":");
  if (colon <= 0 || colon > 32) throw badRequest("Invalid URN");
  const nid = rest.slice(0, colon);
  for (let i = 0; i < nid.length; i++) {
    const c = nid.charCodeAt(i);
    if (!(isTokenChar(c) && c !== 0x2e && c !== 0x21)) throw badRequest("Invalid URN namespace");
  }
  const nss = rest.slice(colon + 1);
  if (nss.length === 0 || /[\s<>"]/.test(nss)) throw badRequest("Invalid URN");
  return { scheme: "urn", nid: nid.toLowerCase(), nss, raw };
}

function parseOpaque(scheme: string, rest: string, raw: string): OpaqueUri {
  if (rest.length === 0 || /[\s<>"]/.test(rest)) throw badRequest(`Invalid ${scheme} URI`);
  return { scheme, opaque: rest, raw };
}

/** Writes a URI: its original text when it has one, else from its fields. */
export function formatUri(uri: Uri): string {
  if (uri.raw !== undefined) return uri.raw;
  if (isSipUri(uri)) {
    let out = `${uri.scheme}:`;
    if (uri.user !== undefined)
      out += uri.password !== undefined ? `${uri.user}:${uri.password}@` : `${uri.user}@`;
    out += uri.host;
    if (uri.port !== undefined) out += `:${uri.port}`;
    out += formatParams(uri.params);
    if (uri.headers.length > 0) out += `?${uri.headers.map(([n, v]) => `${n}=${v}`).join("&")}`;
    return out;
  }
  if (isTelUri(uri)) return `tel:${uri.number}${formatParams(uri.params)}`;
  if (isUrnUri(uri)) return `urn:${uri.nid}:${uri.nss}`;
  return `${uri.scheme}:${(uri as OpaqueUri).opaque}`;
}

/** A copy with the given fields changed and no remembered text, so it is written from its fields. */
export function withUri<T extends Uri>(uri: T, changes: Partial<T>): T {
  const copy = { ...uri, ...changes };
  delete copy.raw;
  return copy;
}

/** True for `urn:service:sos` and its sub-services (RFC 5031), the emergency targets. */
export function isEmergencyServiceUrn(uri: Uri): boolean {
  if (!isUrnUri(uri) || uri.nid !== "service") return false;
  const nss = uri.nss.toLowerCase();
  return nss === "sos" || nss.startsWith("sos.");
}

/** True for `urn:service:test.sos…` (RFC 6881 test calls). */
export function isTestServiceUrn(uri: Uri): boolean {
  if (!isUrnUri(uri) || uri.nid !== "service") return false;
  const nss = uri.nss.toLowerCase();
  return nss === "test.sos" || nss.startsWith("test.sos.");
}
