/**
 * Authorization / Proxy-Authorization credentials and WWW-Authenticate /
 * Proxy-Authenticate challenges (RFC 3261 §20.7, §22.4; RFC 7616, RFC 8760).
 * Both are `scheme` followed by comma-separated auth-params; an unknown scheme
 * keeps its text as is (RFC 4475 regaut01).
 */
import { badRequest } from "../errors.js";
import { isTokenChar, isWs, readQuotedString, skipWs } from "../grammar.js";

export interface AuthValue {
  /** As written, e.g. "Digest". */
  scheme: string;
  /** Parameter names in lower case; quoted values unquoted. */
  params: Record<string, string>;
  /** The text after the scheme, for schemes we do not understand. */
  raw: string;
}

export function parseAuthValue(text: string): AuthValue {
  let i = skipWs(text, 0);
  const start = i;
  while (i < text.length && isTokenChar(text.charCodeAt(i))) i++;
  if (i === start) throw badRequest("Malformed authentication header");
  const scheme = text.slice(start, i);
  const rest = text.slice(i).trim();
  const params = Object.create(null) as Record<string, string>;
  if (scheme.toLowerCase() === "digest") {
    parseAuthParams(rest, params);
  } else {
    // Other schemes may use token68 or anything else; keep params only if they parse.
    try {
      parseAuthParams(rest, params);
    } catch {
      for (const k of Object.keys(params)) delete params[k];
    }
  }
  return { scheme, params, raw: rest };
}

function parseAuthParams(s: string, out: Record<string, string>): void {
  let i = 0;
  while (i < s.length) {
    i = skipWs(s, i);
    const nameStart = i;
    while (i < s.length && isTokenChar(s.charCodeAt(i))) i++;
    if (i === nameStart) throw badRequest("Malformed auth-param");
    const name = s.slice(nameStart, i).toLowerCase();
    i = skipWs(s, i);
    if (s.charCodeAt(i) !== 0x3d) throw badRequest("Malformed auth-param");
    i = skipWs(s, i + 1);
    let value: string;
    if (s.charCodeAt(i) === 0x22) {
      const q = readQuotedString(s, i);
      value = q.value;
      i = q.end;
    } else {
      const vs = i;
      while (i < s.length && s.charCodeAt(i) !== 0x2c && !isWs(s.charCodeAt(i))) i++;
      value = s.slice(vs, i);
      if (value.length === 0) throw badRequest("Malformed auth-param");
    }
    if (name in out) throw badRequest(`Duplicate auth-param ${name}`);
    out[name] = value;
    i = skipWs(s, i);
    if (i < s.length) {
      if (s.charCodeAt(i) !== 0x2c) throw badRequest("Malformed auth-param list");
      i++;
    }
  }
}
