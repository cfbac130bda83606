/**
 * A JSON-safe picture of a parsed message, for `dsip-gateway sip parse`, logs
 * and tests: the start line, the Request-URI's parts, every known header in
 * typed form (a header that does not parse shows its error instead), unknown
 * headers as text, and the body's length and multipart parts.
 */
import { SipParseError } from "./errors.js";
import { boundaryOf } from "./headers/media-type.js";
import type { AnySipMessage, SipMessage } from "./message.js";
import { parseMultipart, partContentDisposition, partContentId, partContentType } from "./multipart.js";
import { formatUri, type Uri } from "./uri.js";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Header key → the typed getter that reads it. */
const TYPED: Record<string, (m: SipMessage) => unknown> = {
  via: (m) => m.via,
  from: (m) => m.from,
  to: (m) => m.to,
  "call-id": (m) => m.callId,
  cseq: (m) => m.cseq,
  contact: (m) => m.contact,
  route: (m) => m.route,
  "record-route": (m) => m.recordRoute,
  "max-forwards": (m) => m.maxForwards,
  "content-type": (m) => m.contentType,
  "content-length": (m) => m.contentLength,
  "content-disposition": (m) => m.contentDisposition,
  supported: (m) => m.supported,
  require: (m) => m.require,
  "proxy-require": (m) => m.proxyRequire,
  rseq: (m) => m.rseq,
  rack: (m) => m.rack,
  authorization: (m) => m.authorization,
  "proxy-authorization": (m) => m.proxyAuthorization,
  "www-authenticate": (m) => m.wwwAuthenticate,
  "proxy-authenticate": (m) => m.proxyAuthenticate,
  "session-expires": (m) => m.sessionExpires,
  "min-se": (m) => m.minSE,
  expires: (m) => m.expires,
  identity: (m) => m.identity,
  "p-asserted-identity": (m) => m.pAssertedIdentity,
  privacy: (m) => m.privacy,
  geolocation: (m) => m.geolocation,
  "geolocation-routing": (m) => m.geolocationRouting,
  "call-info": (m) => m.callInfo,
  "resource-priority": (m) => m.resourcePriority,
  priority: (m) => m.priority,
  reason: (m) => m.reason,
  date: (m) => m.date,
};

/** Header keys the message layer reads into typed values. */
export const TYPED_HEADER_KEYS: ReadonlySet<string> = new Set(Object.keys(TYPED));

function toJson(value: unknown): Json {
  if (value === undefined || value === null) return null;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(toJson);
  if (typeof value === "object") {
    const v = value as Record<string, unknown>;
    if (typeof v.scheme === "string") return uriJson(v as unknown as Uri);
    const out: Record<string, Json> = {};
    for (const key of Object.keys(v)) if (v[key] !== undefined) out[key] = toJson(v[key]);
    return out;
  }
  return value as Json;
}

function uriJson(uri: Uri): Json {
  const out: Record<string, Json> = { text: formatUri(uri) };
  for (const [key, val] of Object.entries(uri))
    if (key !== "raw" && val !== undefined) out[key] = toJson(val);
  return out;
}

function tryJson(read: () => unknown): Json {
  try {
    return toJson(read());
  } catch (err) {
    if (err instanceof SipParseError) return { error: err.reason };
    throw err;
  }
}

export function describeMessage(msg: AnySipMessage): Record<string, Json> {
  const out: Record<string, Json> = {};
  if (msg.isRequest) {
    out.type = "request";
    out.method = msg.method;
    out.requestUri = tryJson(() => msg.uri);
  } else {
    out.type = "response";
    out.status = msg.status;
    out.reason = msg.reasonPhrase;
  }
  out.version = msg.version;
  const headers: Record<string, Json> = {};
  const unknown: Json[] = [];
  for (const h of msg.headers) {
    const read = TYPED[h.key];
    if (read) {
      if (!(h.key in headers)) headers[h.key] = tryJson(() => read(msg));
    } else unknown.push({ name: h.name, value: h.value });
  }
  out.headers = headers;
  out.otherHeaders = unknown;
  out.body = describeBody(msg);
  return out;
}

function describeBody(msg: SipMessage): Json {
  const body: Record<string, Json> = { length: msg.body.length };
  let boundary: string | undefined;
  try {
    boundary = msg.contentType ? boundaryOf(msg.contentType) : undefined;
  } catch {
    return body;
  }
  if (boundary === undefined || msg.body.length === 0) return body;
  try {
    const mb = parseMultipart(msg.body, boundary);
    body.parts = mb.parts.map((p) => ({
      contentType: tryJson(() => partContentType(p)?.mediaType),
      contentId: partContentId(p) ?? null,
      disposition: tryJson(() => partContentDisposition(p)?.disposition),
      length: p.body.length,
    }));
  } catch (err) {
    if (!(err instanceof SipParseError)) throw err;
    body.partsError = err.reason;
  }
  return body;
}
