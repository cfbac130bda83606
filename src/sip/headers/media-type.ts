/** Content-Type (RFC 3261 §20.15, RFC 2045) and Content-Disposition (RFC 3261 §20.11). */
import { badRequest } from "../errors.js";
import { isTokenChar, type Params, readParams, readTokenWithParams, skipWs, unquote } from "../grammar.js";

export interface MediaType {
  /** Lower case "type/subtype". */
  mediaType: string;
  type: string;
  subtype: string;
  params: Params;
}

export function parseMediaType(text: string): MediaType {
  let i = skipWs(text, 0);
  const typeStart = i;
  while (i < text.length && isTokenChar(text.charCodeAt(i))) i++;
  const type = text.slice(typeStart, i).toLowerCase();
  i = skipWs(text, i);
  if (type.length === 0 || text.charCodeAt(i) !== 0x2f) throw badRequest("Malformed Content-Type");
  i = skipWs(text, i + 1);
  const subStart = i;
  while (i < text.length && isTokenChar(text.charCodeAt(i))) i++;
  const subtype = text.slice(subStart, i).toLowerCase();
  if (subtype.length === 0) throw badRequest("Malformed Content-Type");
  const { params, end } = readParams(text, i);
  if (skipWs(text, end) !== text.length) throw badRequest("Malformed Content-Type");
  return { mediaType: `${type}/${subtype}`, type, subtype, params };
}

/** The multipart boundary, unquoted, or undefined when the type is not multipart. */
export function boundaryOf(mt: MediaType): string | undefined {
  if (mt.type !== "multipart") return undefined;
  return unquote(mt.params.boundary);
}

export interface ContentDisposition {
  /** Lower case: session, render, icon, alert, signal, by-reference, … */
  disposition: string;
  /** "optional" or "required" when given. */
  handling?: string;
  params: Params;
}

export function parseContentDisposition(text: string): ContentDisposition {
  const { token, params } = readTokenWithParams(text, "Content-Disposition");
  const result: ContentDisposition = { disposition: token.toLowerCase(), params };
  if (params.handling != null) result.handling = params.handling.toLowerCase();
  return result;
}
