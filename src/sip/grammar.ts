/**
 * Character classes and small scanners shared by the header and URI parsers
 * (RFC 3261 §25.1). Everything here is linear in its input: no regular
 * expression with nested quantifiers ever sees bytes from the network.
 */
import { badRequest } from "./errors.js";

function table(chars: string, ranges: Array<[number, number]> = []): Uint8Array {
  const t = new Uint8Array(128);
  for (const ch of chars) t[ch.charCodeAt(0)] = 1;
  for (const [lo, hi] of ranges) for (let c = lo; c <= hi; c++) t[c] = 1;
  return t;
}

const ALNUM: Array<[number, number]> = [
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x61, 0x7a],
];

/** token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") */
const TOKEN = table("-.!%*_+`'~", ALNUM);
/** word adds the separators a Call-ID may carry. */
const WORD = table("-.!%*_+`'~()<>:\\\"/[]?{}", ALNUM);

export type Params = Record<string, string | null>;

/**
 * Parameter maps inherit from an empty object that itself has no prototype:
 * a parameter named "__proto__" or "constructor" is just data, and unlike
 * Object.create(null) the maps stay in V8's fast (hidden-class) mode.
 */
const PARAMS_PROTO = Object.freeze(Object.create(null) as object);

export function newParams(): Params {
  return Object.create(PARAMS_PROTO) as Params;
}

export function isTokenChar(code: number): boolean {
  return code < 128 && TOKEN[code] === 1;
}

export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isTokenChar(s.charCodeAt(i))) return false;
  return true;
}

/** Call-ID grammar: word [ "@" word ]. */
export function isCallId(s: string): boolean {
  if (s.length === 0) return false;
  let ats = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x40) {
      if (++ats > 1 || i === 0 || i === s.length - 1) return false;
    } else if (c >= 128 || WORD[c] !== 1) return false;
  }
  return true;
}

export function isWs(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

export function skipWs(s: string, i: number): number {
  while (i < s.length && isWs(s.charCodeAt(i))) i++;
  return i;
}

export function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/**
 * A non-negative decimal with an upper bound, judged on its digits so that
 * `36893488147419103232` is "too large" rather than a rounded float.
 */
export function parseBoundedInt(s: string, max: number, what: string): number {
  if (!isDigits(s)) throw badRequest(`Invalid ${what}`);
  let i = 0;
  while (i < s.length - 1 && s.charCodeAt(i) === 0x30) i++;
  const digits = s.slice(i);
  if (digits.length > 16) throw badRequest(`${what} out of range`);
  const n = Number(digits);
  if (n > max) throw badRequest(`${what} out of range`);
  return n;
}

/** Reads a quoted-string starting at the opening quote; returns the unescaped text and the index after it. */
export function readQuotedString(s: string, start: number): { value: string; end: number } {
  let out = "";
  let i = start + 1;
  let runStart = i;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 0x22) {
      out += s.slice(runStart, i);
      return { value: out, end: i + 1 };
    }
    if (c === 0x5c) {
      if (i + 1 >= s.length) break;
      const next = s.charCodeAt(i + 1);
      // quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F): CR and LF may not be escaped
      if (next === 0x0d || next === 0x0a) throw badRequest("Invalid escape in quoted string");
      out += s.slice(runStart, i) + s[i + 1];
      i += 2;
      runStart = i;
      continue;
    }
    i++;
  }
  throw badRequest("Unterminated quoted string");
}

/** Index of the quote that closes the quoted-string opened at `start`, honouring escapes. */
function skipQuoted(s: string, start: number): number {
  return readQuotedString(s, start).end;
}

/** Quotes text for use as a quoted-string, escaping `"` and `\`. */
export function quoteString(s: string): string {
  return `"${s.replace(/[\\"]/g, (m) => `\\${m}`)}"`;
}

/** The content of a parameter value written as a quoted-string, or the value itself. */
export function unquote(value: string | null | undefined): string | undefined {
  if (value == null) return undefined;
  if (value.length >= 2 && value.charCodeAt(0) === 0x22) return readQuotedString(value, 0).value;
  return value;
}

/**
 * Splits a list header value at top-level commas: not inside quotes, angle
 * brackets or IPv6 brackets. An empty element is an error in SIP's grammar.
 */
export function splitList(value: string): string[] {
  const items: string[] = [];
  let depthAngle = 0;
  let start = 0;
  let i = 0;
  while (i < value.length) {
    const c = value.charCodeAt(i);
    if (c === 0x22) {
      i = skipQuoted(value, i);
      continue;
    }
    if (c === 0x3c) depthAngle++;
    else if (c === 0x3e && depthAngle > 0) depthAngle--;
    else if (c === 0x2c && depthAngle === 0) {
      items.push(checkItem(value.slice(start, i)));
      start = i + 1;
    }
    i++;
  }
  items.push(checkItem(value.slice(start)));
  return items;
}

function checkItem(raw: string): string {
  const item = raw.trim();
  if (item.length === 0) throw badRequest("Empty element in header list");
  return item;
}

export interface ParamsResult {
  params: Params;
  end: number;
}

/**
 * Reads `*( SWS ";" SWS name [ SWS "=" SWS value ] )` from `start` up to the
 * end of `s` or a top-level `,`. Values are kept as written (a quoted-string
 * keeps its quotes; `unquote` reads it); names are case-insensitive and stored
 * in lower case.
 */
export function readParams(s: string, start: number, uriValues = false): ParamsResult {
  const params = newParams();
  let i = skipWs(s, start);
  while (i < s.length && s.charCodeAt(i) === 0x3b) {
    i = skipWs(s, i + 1);
    const nameStart = i;
    let upper = false;
    for (; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (!isTokenChar(c)) break;
      if (c >= 0x41 && c <= 0x5a) upper = true;
    }
    if (i === nameStart) throw badRequest("Empty parameter");
    const name = upper ? s.slice(nameStart, i).toLowerCase() : s.slice(nameStart, i);
    i = skipWs(s, i);
    let value: string | null = null;
    if (i < s.length && s.charCodeAt(i) === 0x3d) {
      i = skipWs(s, i + 1);
      const valueStart = i;
      const c = s.charCodeAt(i);
      if (c === 0x22) {
        i = skipQuoted(s, i);
      } else if (c === 0x5b) {
        const close = s.indexOf("]", i);
        if (close < 0) throw badRequest("Unterminated IPv6 reference in parameter");
        i = close + 1;
      } else if (c === 0x3c) {
        // RFC 8224 Identity `info=<uri>`
        const close = s.indexOf(">", i);
        if (close < 0) throw badRequest("Unterminated URI in parameter");
        i = close + 1;
      } else {
        if (uriValues) while (i < s.length && isUriValueChar(s.charCodeAt(i))) i++;
        else while (i < s.length && isParamValueChar(s.charCodeAt(i))) i++;
      }
      if (i === valueStart) throw badRequest(`Empty value for parameter ${name}`);
      value = s.slice(valueStart, i);
      i = skipWs(s, i);
    }
    if (params[name] === undefined) params[name] = value;
    if (i < s.length && s.charCodeAt(i) !== 0x3b && s.charCodeAt(i) !== 0x2c) {
      throw badRequest(`Invalid character after parameter ${name}`);
    }
  }
  return { params, end: i };
}

/** gen-value is token / host / quoted-string; host adds ':' for IPv6 written bare by sloppy peers. */
function isParamValueChar(code: number): boolean {
  return isTokenChar(code) || code === 0x3a;
}

/**
 * `token *(;params)` filling the whole text, the shape of Content-Disposition,
 * Reason and Session-Expires. `what` names the header in errors.
 */
export function readTokenWithParams(text: string, what: string): { token: string; params: Params } {
  let i = skipWs(text, 0);
  const start = i;
  while (i < text.length && isTokenChar(text.charCodeAt(i))) i++;
  if (i === start) throw badRequest(`Malformed ${what}`);
  const { params, end } = readParams(text, i);
  if (skipWs(text, end) !== text.length) throw badRequest(`Malformed ${what}`);
  return { token: text.slice(start, i), params };
}

/**
 * Identity's `info` is `<absoluteURI>` (RFC 8224), yet deployed signers send it
 * bare (`info=https://…`); for such headers a value runs to the next ';' or ','.
 */
function isUriValueChar(code: number): boolean {
  return (
    code > 0x20 &&
    code < 0x7f &&
    code !== 0x3b &&
    code !== 0x2c &&
    code !== 0x22 &&
    code !== 0x3c &&
    code !== 0x3e
  );
}

/** Writes parameters back as `;name=value` pairs. */
export function formatParams(params: Params): string {
  let out = "";
  for (const name in params) {
    const value = params[name];
    out += value == null ? `;${name}` : `;${name}=${value}`;
  }
  return out;
}
