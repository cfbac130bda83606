/**
 * The SIP message model. Headers are kept as received, in order, each with its
 * original text, and are parsed into typed values only when someone asks
 * (then cached). A header nobody reads is never parsed, and a header nobody
 * changes is written back byte for byte.
 */
import { SipParseError } from "./errors.js";
import { isCallId, splitList, unquote } from "./grammar.js";
import { canonicalHeaderName, headerKey, LIST_HEADERS } from "./header-names.js";
import { type AuthValue, parseAuthValue } from "./headers/auth.js";
import {
  type ContentDisposition,
  type MediaType,
  parseContentDisposition,
  parseMediaType,
} from "./headers/media-type.js";
import { type NameAddr, parseNameAddr } from "./headers/name-addr.js";
import {
  type CSeq,
  parseContentLength,
  parseCSeq,
  parseDate,
  parseDeltaSeconds,
  parseMaxForwards,
  parseOptionTags,
  parsePrivacy,
  parseRAck,
  parseReason,
  parseResourcePriority,
  parseRSeq,
  parseSessionExpires,
  parseTokenValue,
  type RAck,
  type Reason,
  type ResourcePriority,
  type SessionExpires,
} from "./headers/scalars.js";
import {
  type IdentityHeader,
  parseIdentity,
  parseUriWithParams,
  type UriWithParams,
} from "./headers/uri-params.js";
import { parseVia, type Via } from "./headers/via.js";
import { formatUri, parseUri, type Uri } from "./uri.js";

export interface HeaderField {
  /** The name as written ("v", "VIA", "Via"). */
  name: string;
  /** Lower-case long name ("via"), the lookup key. */
  key: string;
  /** The value with line folding replaced by a space and outer whitespace trimmed. */
  value: string;
  /** The whole field exactly as received, without its final line end; absent once built or changed. */
  raw?: string;
}

/** Contact: `*` (REGISTER removal, RFC 3261 §10.2.2) or a list of addresses. */
export type ContactValue = "*" | NameAddr[];

export const SIP_VERSION = "SIP/2.0";

export abstract class SipMessage {
  headers: HeaderField[];
  body: Buffer;
  /** How the header text is encoded on the wire: "utf8" (normal) or "latin1" (a peer sent invalid UTF-8; kept byte-exact). */
  headerEncoding: "utf8" | "latin1" = "utf8";
  private readonly cache = new Map<string, unknown>();

  constructor(headers: HeaderField[], body: Buffer) {
    this.headers = headers;
    this.body = body;
  }

  abstract get isRequest(): boolean;
  /** The start line as it goes on the wire, without line end. */
  abstract startLine(): string;

  // ---- raw access ----------------------------------------------------------

  hasHeader(name: string): boolean {
    const key = headerKey(name);
    return this.headers.some((h) => h.key === key);
  }

  /** The value of the first field of that name. */
  header(name: string): string | undefined {
    const key = headerKey(name);
    for (const h of this.headers) if (h.key === key) return h.value;
    return undefined;
  }

  /** The value of every field of that name, in order (not split at commas). */
  headerValues(name: string): string[] {
    const key = headerKey(name);
    const out: string[] = [];
    for (const h of this.headers) if (h.key === key) out.push(h.value);
    return out;
  }

  /**
   * Every element of a list header, across all its fields, in order:
   * `Route: <a>, <b>` and two Route lines both give [<a>, <b>].
   */
  listValues(name: string): string[] {
    const key = headerKey(name);
    return this.typed(`list:${key}`, key, () => {
      const out: string[] = [];
      for (const h of this.headers) {
        if (h.key !== key) continue;
        if (LIST_HEADERS.has(key)) out.push(...splitList(h.value));
        else out.push(h.value);
      }
      return out;
    });
  }

  /** Replaces every field of that name with one field. */
  setHeader(name: string, value: string): void {
    const key = headerKey(name);
    const idx = this.headers.findIndex((h) => h.key === key);
    const field: HeaderField = { name: canonicalHeaderName(name), key, value };
    if (idx < 0) this.headers.push(field);
    else {
      this.headers[idx] = field;
      this.headers = this.headers.filter((h, i) => i <= idx || h.key !== key);
    }
    this.invalidate(key);
  }

  /** Adds a field: at the end, or before the first field (e.g. a new top Via). */
  addHeader(name: string, value: string, position: "first" | "last" = "last"): void {
    const key = headerKey(name);
    const field: HeaderField = { name: canonicalHeaderName(name), key, value };
    if (position === "first") this.headers.unshift(field);
    else this.headers.push(field);
    this.invalidate(key);
  }

  removeHeader(name: string): void {
    const key = headerKey(name);
    this.headers = this.headers.filter((h) => h.key !== key);
    this.invalidate(key);
  }

  /** Removes the first element of a list header (e.g. the top Via of a response we forward). */
  removeFirstListValue(name: string): void {
    const key = headerKey(name);
    const idx = this.headers.findIndex((h) => h.key === key);
    if (idx < 0) return;
    const field = this.headers[idx]!;
    const items = splitList(field.value);
    if (items.length <= 1) this.headers.splice(idx, 1);
    else this.headers[idx] = { name: field.name, key, value: items.slice(1).join(", ") };
    this.invalidate(key);
  }

  /** Replaces the first element of a list header (e.g. the top Via once `received`/`rport` are stamped). */
  replaceFirstListValue(name: string, value: string): void {
    const key = headerKey(name);
    const idx = this.headers.findIndex((h) => h.key === key);
    if (idx < 0) {
      this.addHeader(name, value, "first");
      return;
    }
    const field = this.headers[idx]!;
    const items = splitList(field.value);
    items[0] = value;
    this.headers[idx] = { name: field.name, key, value: items.join(", ") };
    this.invalidate(key);
  }

  private invalidate(key: string): void {
    for (const cacheKey of this.cache.keys()) {
      if (cacheKey.endsWith(`:${key}`) || cacheKey === key) this.cache.delete(cacheKey);
    }
  }

  /** Parses once, caches, and re-throws the same typed error on every later read. */
  protected typed<T>(cacheKey: string, _key: string, parse: () => T): T {
    const hit = this.cache.get(cacheKey);
    if (hit !== undefined) {
      if (hit instanceof SipParseError) throw hit;
      return hit as T;
    }
    try {
      const value = parse();
      this.cache.set(cacheKey, value);
      return value;
    } catch (err) {
      if (err instanceof SipParseError) this.cache.set(cacheKey, err);
      throw err;
    }
  }

  private single<T>(name: string, parse: (v: string) => T, what: string): T | undefined {
    const key = headerKey(name);
    return this.typed(`one:${key}`, key, () => {
      const v = this.header(key);
      if (v === undefined) return undefined;
      try {
        return parse(v);
      } catch (err) {
        throw refine(err, what);
      }
    });
  }

  private list<T>(name: string, parse: (item: string) => T, what: string): T[] {
    const key = headerKey(name);
    return this.typed(`many:${key}`, key, () => {
      try {
        return this.listValues(key).map(parse);
      } catch (err) {
        throw refine(err, what);
      }
    });
  }

  // ---- typed headers -------------------------------------------------------

  get via(): Via[] {
    return this.list("via", parseVia, "Via");
  }
  get topVia(): Via | undefined {
    return this.via[0];
  }
  get from(): NameAddr | undefined {
    return this.single("from", (v) => parseNameAddr(v), "From");
  }
  get to(): NameAddr | undefined {
    return this.single("to", (v) => parseNameAddr(v), "To");
  }
  get callId(): string | undefined {
    return this.single(
      "call-id",
      (v) => {
        if (!isCallId(v)) throw new SipParseError("Invalid Call-ID");
        return v;
      },
      "Call-ID",
    );
  }
  get cseq(): CSeq | undefined {
    return this.single("cseq", parseCSeq, "CSeq");
  }
  get maxForwards(): number | undefined {
    return this.single("max-forwards", parseMaxForwards, "Max-Forwards");
  }
  get contentLength(): number | undefined {
    return this.single("content-length", parseContentLength, "Content-Length");
  }
  get contentType(): MediaType | undefined {
    return this.single("content-type", parseMediaType, "Content-Type");
  }
  get contentDisposition(): ContentDisposition | undefined {
    return this.single("content-disposition", parseContentDisposition, "Content-Disposition");
  }
  get contact(): ContactValue {
    return this.typed("many:contact", "contact", () => {
      const items = this.listValues("contact");
      if (items.length === 1 && items[0] === "*") return "*" as const;
      try {
        return items.map((v) => parseNameAddr(v));
      } catch (err) {
        throw refine(err, "Contact");
      }
    });
  }
  get route(): NameAddr[] {
    return this.list("route", (v) => parseNameAddr(v, { requireAngle: true }), "Route");
  }
  get recordRoute(): NameAddr[] {
    return this.list("record-route", (v) => parseNameAddr(v, { requireAngle: true }), "Record-Route");
  }
  get supported(): string[] {
    return this.typed("tags:supported", "supported", () => parseOptionTags(this.headerValues("supported")));
  }
  get require(): string[] {
    return this.typed("tags:require", "require", () => parseOptionTags(this.headerValues("require")));
  }
  get proxyRequire(): string[] {
    return this.typed("tags:proxy-require", "proxy-require", () =>
      parseOptionTags(this.headerValues("proxy-require")),
    );
  }
  get rseq(): number | undefined {
    return this.single("rseq", parseRSeq, "RSeq");
  }
  get rack(): RAck | undefined {
    return this.single("rack", parseRAck, "RAck");
  }
  /** Every Authorization field (one per realm); never comma-merged. */
  get authorization(): AuthValue[] {
    return this.fields("authorization", parseAuthValue, "Authorization");
  }
  get proxyAuthorization(): AuthValue[] {
    return this.fields("proxy-authorization", parseAuthValue, "Proxy-Authorization");
  }
  get wwwAuthenticate(): AuthValue[] {
    return this.fields("www-authenticate", parseAuthValue, "WWW-Authenticate");
  }
  get proxyAuthenticate(): AuthValue[] {
    return this.fields("proxy-authenticate", parseAuthValue, "Proxy-Authenticate");
  }
  get sessionExpires(): SessionExpires | undefined {
    return this.single("session-expires", parseSessionExpires, "Session-Expires");
  }
  get minSE(): number | undefined {
    return this.single("min-se", (v) => parseSessionExpires(v).seconds, "Min-SE");
  }
  get expires(): number | undefined {
    return this.single("expires", (v) => parseDeltaSeconds(v, "Expires"), "Expires");
  }
  /** Every Identity field (RFC 8224 allows several, e.g. shaken and rcd PASSporTs), in order. */
  get identity(): IdentityHeader[] {
    return this.fields("identity", parseIdentity, "Identity");
  }
  get pAssertedIdentity(): NameAddr[] {
    return this.list("p-asserted-identity", (v) => parseNameAddr(v), "P-Asserted-Identity");
  }
  get privacy(): string[] | undefined {
    return this.single("privacy", parsePrivacy, "Privacy");
  }
  /** Every Geolocation value in order: by-reference URIs and `cid:` both kept (RFC 6442). */
  get geolocation(): UriWithParams[] {
    return this.list("geolocation", (v) => parseUriWithParams(v, "Geolocation"), "Geolocation");
  }
  get geolocationRouting(): string | undefined {
    return this.single(
      "geolocation-routing",
      (v) => parseTokenValue(v, "Geolocation-Routing"),
      "Geolocation-Routing",
    );
  }
  get callInfo(): UriWithParams[] {
    return this.list("call-info", (v) => parseUriWithParams(v, "Call-Info"), "Call-Info");
  }
  get resourcePriority(): ResourcePriority[] {
    return this.list("resource-priority", parseResourcePriority, "Resource-Priority");
  }
  get priority(): string | undefined {
    return this.single("priority", (v) => parseTokenValue(v, "Priority"), "Priority");
  }
  get reason(): Reason[] {
    return this.list("reason", (v) => parseReason(v, (q) => unquote(q)), "Reason");
  }
  get date(): Date | undefined {
    return this.single("date", parseDate, "Date");
  }

  private fields<T>(name: string, parse: (v: string) => T, what: string): T[] {
    const key = headerKey(name);
    return this.typed(`fields:${key}`, key, () => {
      try {
        return this.headerValues(key).map(parse);
      } catch (err) {
        throw refine(err, what);
      }
    });
  }
}

/** Names the header in a reason that does not already, so "Empty parameter" becomes "Malformed Via: Empty parameter". */
function refine(err: unknown, what: string): unknown {
  if (!(err instanceof SipParseError)) return err;
  if (err.reason.includes(what)) return err;
  return new SipParseError(`Malformed ${what}: ${err.reason}`, err.status, err.drop);
}

export class SipRequest extends SipMessage {
  private _method: string;
  private _uriText: string;
  private _uri: Uri | undefined;
  private _version: string;
  /** The request line as received; dropped once method or URI change. */
  private rawStartLine: string | undefined;

  constructor(
    method: string,
    uri: string | Uri,
    headers: HeaderField[] = [],
    body: Buffer = EMPTY,
    version = SIP_VERSION,
  ) {
    super(headers, body);
    this._method = method;
    if (typeof uri === "string") this._uriText = uri;
    else {
      this._uri = uri;
      this._uriText = formatUri(uri);
    }
    this._version = version;
  }

  get isRequest(): true {
    return true;
  }
  get method(): string {
    return this._method;
  }
  set method(m: string) {
    this._method = m;
    this.rawStartLine = undefined;
  }
  get version(): string {
    return this._version;
  }
  /** The Request-URI as written. */
  get uriText(): string {
    return this._uriText;
  }
  /** The parsed Request-URI; throws 400 (or 416 is for the application to decide) when malformed. */
  get uri(): Uri {
    if (this._uri === undefined) {
      try {
        this._uri = parseUri(this._uriText, { requestUri: true });
      } catch (err) {
        throw refine(err, "Request-URI");
      }
    }
    return this._uri;
  }
  set uri(uri: Uri) {
    this._uri = uri;
    this._uriText = formatUri(uri);
    this.rawStartLine = undefined;
  }

  /** Remembers the received request line so an unchanged request is forwarded byte-exact. */
  setRawStartLine(line: string): void {
    this.rawStartLine = line;
  }

  startLine(): string {
    return this.rawStartLine ?? `${this._method} ${this._uriText} ${this._version}`;
  }
}

export class SipResponse extends SipMessage {
  private _status: number;
  private _reason: string;
  private _version: string;
  private rawStartLine: string | undefined;

  constructor(
    status: number,
    reason: string,
    headers: HeaderField[] = [],
    body: Buffer = EMPTY,
    version = SIP_VERSION,
  ) {
    super(headers, body);
    this._status = status;
    this._reason = reason;
    this._version = version;
  }

  get isRequest(): false {
    return false;
  }
  get status(): number {
    return this._status;
  }
  set status(s: number) {
    this._status = s;
    this.rawStartLine = undefined;
  }
  get reasonPhrase(): string {
    return this._reason;
  }
  set reasonPhrase(r: string) {
    this._reason = r;
    this.rawStartLine = undefined;
  }
  get version(): string {
    return this._version;
  }
  setRawStartLine(line: string): void {
    this.rawStartLine = line;
  }
  startLine(): string {
    return this.rawStartLine ?? `${this._version} ${this._status} ${this._reason}`;
  }
}

export type AnySipMessage = SipRequest | SipResponse;

const EMPTY = Buffer.alloc(0);
