/**
 * multipart/mixed bodies (RFC 2046 §5.1, RFC 5621 for SIP). NG911 INVITEs carry
 * SDP, PIDF-LO and RFC 7852 additional data this way, referenced from
 * Geolocation/Call-Info by Content-ID, so parts we do not own must go out
 * exactly as they came in: each part keeps its raw bytes until replaced.
 */
import { isUtf8 } from "node:buffer";
import { randomBytes } from "node:crypto";
import { badRequest, SipParseError } from "./errors.js";
import { canonicalHeaderName, headerKey } from "./header-names.js";
import {
  type ContentDisposition,
  type MediaType,
  parseContentDisposition,
  parseMediaType,
} from "./headers/media-type.js";
import type { HeaderField } from "./message.js";
import { splitHeaderFields } from "./parser.js";

export interface BodyPart {
  headers: HeaderField[];
  /** The part's content, after its header section. */
  body: Buffer;
  /** The whole part as received (headers, empty line, content); absent for parts we built. */
  raw?: Buffer;
}

export interface MultipartBody {
  boundary: string;
  /** Octets before the first boundary, kept for byte-exact output. */
  preamble: Buffer;
  parts: BodyPart[];
  /** Octets after the closing boundary (usually just CRLF). */
  epilogue: Buffer;
}

const CRLF = Buffer.from("\r\n");

/** RFC 2046 §5.1.1: 1 to 70 characters from a restricted set, not ending in space. */
export function isValidBoundary(b: string): boolean {
  return b.length > 0 && b.length <= 70 && /^[0-9A-Za-z'()+_,\-./:=? ]*[0-9A-Za-z'()+_,\-./:=?]$/.test(b);
}

export function parseMultipart(body: Buffer, boundary: string): MultipartBody {
  if (!isValidBoundary(boundary)) throw badRequest("Invalid multipart boundary");
  const dash = Buffer.from(`--${boundary}`, "latin1");
  const delimiter = Buffer.from(`\r\n--${boundary}`, "latin1");

  // The first boundary may start the body or follow the preamble's CRLF.
  let first = body.subarray(0, dash.length).equals(dash) ? 0 : body.indexOf(delimiter);
  if (first < 0) throw badRequest("Multipart boundary not found");
  if (first > 0) first += 2;
  const preamble = body.subarray(0, first);
  let pos = first + dash.length;
  const parts: BodyPart[] = [];
  for (;;) {
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) {
      return { boundary, preamble, parts, epilogue: body.subarray(pos + 2) };
    }
    // transport-padding then CRLF
    while (body[pos] === 0x20 || body[pos] === 0x09) pos++;
    if (body[pos] === 0x0d && body[pos + 1] === 0x0a) pos += 2;
    else if (body[pos] === 0x0a) pos += 1;
    else throw badRequest("Malformed multipart boundary line");
    const next = body.indexOf(delimiter, pos);
    if (next < 0) throw badRequest("Multipart body not closed");
    parts.push(parseBodyPart(body.subarray(pos, next)));
    pos = next + delimiter.length;
  }
}

function parseBodyPart(raw: Buffer): BodyPart {
  // A part with no headers starts with its empty line.
  if (raw[0] === 0x0d && raw[1] === 0x0a) return { headers: [], body: raw.subarray(2), raw };
  const end = raw.indexOf("\r\n\r\n");
  if (end < 0) {
    // headers only, no content
    return { headers: partHeaders(raw), body: Buffer.alloc(0), raw };
  }
  return { headers: partHeaders(raw.subarray(0, end)), body: raw.subarray(end + 4), raw };
}

function partHeaders(head: Buffer): HeaderField[] {
  const text = head.toString(isUtf8(head) ? "utf8" : "latin1");
  try {
    return splitHeaderFields(text, 0, 64);
  } catch (err) {
    if (err instanceof SipParseError) throw badRequest(`Malformed multipart part headers: ${err.reason}`);
    throw err;
  }
}

export function buildMultipart(mb: MultipartBody): Buffer {
  const dash = Buffer.from(`--${mb.boundary}`, "latin1");
  const chunks: Buffer[] = [mb.preamble];
  for (const part of mb.parts) {
    chunks.push(dash, CRLF, part.raw ?? serializePart(part), CRLF);
  }
  chunks.push(dash, Buffer.from("--"), mb.epilogue.length > 0 ? mb.epilogue : CRLF);
  return Buffer.concat(chunks);
}

function serializePart(part: BodyPart): Buffer {
  let head = "";
  for (const h of part.headers) head += `${h.raw ?? `${h.name}: ${h.value}`}\r\n`;
  return Buffer.concat([Buffer.from(`${head}\r\n`, "utf8"), part.body]);
}

/** A new part from headers and content. */
export function createBodyPart(headers: Array<[string, string]>, body: Buffer | string): BodyPart {
  return {
    headers: headers.map(([name, value]) => ({
      name: canonicalHeaderName(name),
      key: headerKey(name),
      value,
    })),
    body: typeof body === "string" ? Buffer.from(body, "utf8") : body,
  };
}

/** A boundary unlikely to occur in any part (RFC 2046 §5.1.1 leaves the choice to the sender). */
export function newBoundary(): string {
  return `dsip-${randomBytes(12).toString("hex")}`;
}

/** A copy of `mb` with one part replaced; every other part keeps its raw bytes. */
export function replacePart(mb: MultipartBody, index: number, part: BodyPart): MultipartBody {
  if (index < 0 || index >= mb.parts.length) throw new RangeError("no such part");
  const parts = mb.parts.slice();
  parts[index] = part;
  return { ...mb, parts };
}

function partHeader(part: BodyPart, name: string): string | undefined {
  const key = headerKey(name);
  return part.headers.find((h) => h.key === key)?.value;
}

export function partContentType(part: BodyPart): MediaType | undefined {
  const v = partHeader(part, "content-type");
  return v === undefined ? undefined : parseMediaType(v);
}

export function partContentDisposition(part: BodyPart): ContentDisposition | undefined {
  const v = partHeader(part, "content-disposition");
  return v === undefined ? undefined : parseContentDisposition(v);
}

/** Content-ID without its angle brackets ("<abc@example.com>" → "abc@example.com"). */
export function partContentId(part: BodyPart): string | undefined {
  const v = partHeader(part, "content-id");
  if (v === undefined) return undefined;
  return v.startsWith("<") && v.endsWith(">") ? v.slice(1, -1) : v;
}

/** The part a `cid:` URI names (RFC 2392: the URI is the %-encoded Content-ID). */
export function findPartByCid(mb: MultipartBody, cidUri: string): BodyPart | undefined {
  let id: string;
  try {
    id = decodeURIComponent(cidUri.replace(/^cid:/i, ""));
  } catch {
    return undefined; // a malformed %-escape names no part
  }
  return mb.parts.find((p) => partContentId(p) === id);
}
