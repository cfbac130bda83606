/**
 * Headers whose elements are `<uri> *(;params)`: Geolocation (RFC 6442),
 * Call-Info (RFC 3261 §20.9, RFC 7852), Alert-Info; and Identity (RFC 8224),
 * whose element is a signed token with parameters.
 */
import { badRequest } from "../errors.js";
import { type Params, readParams, skipWs, unquote } from "../grammar.js";
import { parseUri, type Uri } from "../uri.js";

export interface UriWithParams {
  uri: Uri;
  params: Params;
}

export function parseUriWithParams(item: string, what: string): UriWithParams {
  const i = skipWs(item, 0);
  if (item.charCodeAt(i) !== 0x3c) throw badRequest(`Malformed ${what}: expected <URI>`);
  const gt = item.indexOf(">", i);
  if (gt < 0) throw badRequest(`Malformed ${what}: unterminated <URI>`);
  const uri = parseUri(item.slice(i + 1, gt));
  const { params, end } = readParams(item, gt + 1);
  if (skipWs(item, end) !== item.length) throw badRequest(`Malformed ${what}`);
  return { uri, params };
}

export interface IdentityHeader {
  /** The PASSporT in compact JWS form (possibly with an empty payload, `a..c`). */
  token: string;
  /** `info` URI without its angle brackets, when present. */
  info?: string;
  alg?: string;
  ppt?: string;
  params: Params;
}

/** Identity (RFC 8224 §4.1): signed-identity-digest SEMI ident-info *( SEMI ident-info-params ). */
export function parseIdentity(text: string): IdentityHeader {
  const value = text.trim();
  const semi = value.indexOf(";");
  const token = (semi >= 0 ? value.slice(0, semi) : value).trim();
  if (!/^[A-Za-z0-9_\-=]*\.[A-Za-z0-9_\-=]*\.[A-Za-z0-9_\-=]+$/.test(token)) {
    throw badRequest("Malformed Identity token");
  }
  const { params, end } =
    semi >= 0 ? readParams(value, semi, true) : { params: Object.create(null) as Params, end: value.length };
  if (skipWs(value, end) !== value.length) throw badRequest("Malformed Identity");
  const result: IdentityHeader = { token, params };
  const info = params.info;
  if (info != null)
    result.info = info.startsWith("<") && info.endsWith(">") ? info.slice(1, -1) : (unquote(info) ?? info);
  const alg = unquote(params.alg);
  if (alg !== undefined) result.alg = alg;
  const ppt = unquote(params.ppt);
  if (ppt !== undefined) result.ppt = ppt;
  return result;
}
