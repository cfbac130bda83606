/**
 * name-addr / addr-spec with header parameters (RFC 3261 §20.10, §25.1):
 * From, To, Contact, Route, Record-Route, P-Asserted-Identity, Refer-To …
 */
import { badRequest } from "../errors.js";
import { isTokenChar, isWs, type Params, readParams, readQuotedString, skipWs } from "../grammar.js";
import { parseUri, type Uri } from "../uri.js";

export interface NameAddr {
  /** Display name, unescaped; undefined when absent. */
  displayName?: string;
  uri: Uri;
  /** Header parameters (tag, q, expires, …), values as written. */
  params: Params;
  /** True when the URI was written in angle brackets. */
  angle: boolean;
}

export interface NameAddrOptions {
  /** Route, Record-Route and Geolocation take only the `<uri>` form. */
  requireAngle?: boolean;
}

export function parseNameAddr(text: string, opts: NameAddrOptions = {}): NameAddr {
  let i = skipWs(text, 0);
  let displayName: string | undefined;
  let lt = -1;
  if (text.charCodeAt(i) === 0x22) {
    const q = readQuotedString(text, i);
    displayName = q.value;
    i = skipWs(text, q.end);
    if (text.charCodeAt(i) !== 0x3c) throw badRequest("Expected <URI> after display name");
    lt = i;
  } else if (text.charCodeAt(i) === 0x3c) {
    lt = i;
  } else {
    // display-name = *(token LWS): scan tokens; meeting '<' makes this a name-addr
    let j = i;
    while (j < text.length) {
      const c = text.charCodeAt(j);
      if (c === 0x3c) {
        lt = j;
        break;
      }
      if (!isTokenChar(c) && !isWs(c)) break;
      j++;
    }
    if (lt < 0 && j < text.length && text.charCodeAt(j) !== 0x3a && text.indexOf("<", j) >= 0) {
      throw badRequest("Display name with unquoted special characters");
    }
    if (lt >= 0) {
      const name = text.slice(i, lt).trim();
      if (name.length > 0) displayName = name.replace(/[ \t]+/g, " ");
    }
  }

  let uri: Uri;
  let end: number;
  if (lt >= 0) {
    const gt = text.indexOf(">", lt + 1);
    if (gt < 0) throw badRequest("Unterminated <URI>");
    const uriText = text.slice(lt + 1, gt);
    if (uriText.length === 0 || isWs(uriText.charCodeAt(0)) || isWs(uriText.charCodeAt(uriText.length - 1))) {
      throw badRequest("Whitespace inside <URI>");
    }
    uri = parseUri(uriText);
    end = gt + 1;
  } else {
    if (opts.requireAngle) throw badRequest("URI must be in angle brackets");
    if (text.charCodeAt(i) === 0x22 || i >= text.length) throw badRequest("Missing URI");
    // addr-spec: any ';' begins header parameters, and the URI may hold no ',' '?' (RFC 3261 §20)
    let j = i;
    while (j < text.length) {
      const c = text.charCodeAt(j);
      if (c === 0x3b || isWs(c)) break;
      j++;
    }
    const uriText = text.slice(i, j);
    if (uriText.indexOf("?") >= 0 || uriText.indexOf(",") >= 0) {
      throw badRequest("URI with '?' or ',' must be in angle brackets");
    }
    uri = parseUri(uriText);
    end = j;
  }
  const { params, end: paramsEnd } = readParams(text, end);
  if (skipWs(text, paramsEnd) !== text.length) throw badRequest("Unexpected text after URI");
  const result: NameAddr = { uri, params, angle: lt >= 0 };
  if (displayName !== undefined) result.displayName = displayName;
  return result;
}

/** The `tag` parameter of From or To, if any. */
export function tagOf(addr: NameAddr): string | undefined {
  return addr.params.tag ?? undefined;
}
