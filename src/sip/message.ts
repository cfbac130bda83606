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
  readonly name: string;
  /** Lower-case long name ("via"), the lookup key. */
  readonly key: string;
  /** The value with line folding replaced by a space and outer whitespace trimmed. */
  readonly value: string;
  /** The whole field exactly as received, without its final line end; absent once built or changed. */
  readonly raw?: string | undefined;
}

/**
 * A field as the parser found it: offsets into the received header text, with
 * name, value and raw text cut out only when someone reads them. Most fields
 * of a forwarded message are never read, only written back.
 */
export class ReceivedHeaderField implements HeaderField {
  private _name: string | undefined;
  private _value: string | undefined;

  constructor(
    readonly key: string,
    private readonly src: string,
    private readonly start: number,
    private readonly nameEnd: number,
    private readonly valueStart: number,
    private readonly valueEnd: number,
    private readonly end: number,
    /** Set for folded fields, whose value is not one slice of the source. */
    unfoldedValue?: string,
  ) {
    this._value = unfoldedValue;
  }

  get name(): string {
    if (this._name === undefined) this._name = this.src.slice(this.start, this.nameEnd);
    return this._name;
  }

  get value(): string {
    if (this._value === undefined) this._value = this.src.slice(this.valueStart, this.valueEnd);
    return this._value;
  }

  get raw(): string {
    return this.src.slice(this.start, this.end);
  }
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
    return this.valueOf(headerKey(name));
  }

  private valueOf(key: string): string | undefined {
    const headers = this.headers;
    for (let i = 0; i < headers.length; i++) if (headers[i]!.key === key) return headers[i]!.value;
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
    const cacheKey = `list:${key}`;
    const hit = this.cached(cacheKey);
    if (hit !== undefined) return hit as string[];
    let values: string[];
    try {
      values = this.splitValues(key);
    } catch (err) {
      throw this.failed(cacheKey, err, canonicalHeaderName(key));
    }
    this.cache.set(cacheKey, values);
    return values;
  }

  private splitValues(key: string): string[] {
    const out: string[] = [];
    const isList = LIST_HEADERS.has(key);
    for (const h of this.headers) {
      if (h.key !== key) continue;
      if (isList) {
        // most fields hold one element: skip the split when there is no comma at all
        if (h.value.indexOf(",") < 0) out.push(h.value);
        else out.push(...splitList(h.value));
      } else out.push(h.value);
    }
    return out;
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
    this.cache.delete(key);
    this.cache.delete(`list:${key}`);
    this.cache.delete(`top:${key}`);
  }

  /** Records a value the parser already computed (Content-Length), so it is not parsed twice. */
  rememberTyped(cacheKey: string, value: unknown): void {
    this.cache.set(cacheKey, value);
  }

  private cached(key: string): unknown {
    const hit = this.cache.get(key);
    if (hit instanceof SipParseError) throw hit;
    return hit;
  }

  private failed(key: string, err: unknown, what: string): unknown {
    const refined = refine(err, what);
    if (refined instanceof SipParseError) this.cache.set(key, refined);
    return refined;
  }

  /**
   * The typed reading of a single-value header, parsed on first read and cached
   * under the header's key (each header has one typed reading). `parse` is a
   * module-level function so that no closure is made per read.
   */
  private single<T>(key: string, parse: (v: string) => T, what: string): T | undefined {
    const hit = this.cached(key);
    if (hit !== undefined) return hit as T;
    const v = this.valueOf(key);
    if (v === undefined) return undefined;
    let value: T;
    try {
      value = parse(v);
    } catch (err) {
      throw this.failed(key, err, what);
    }
    this.cache.set(key, value);
    return value;
  }

  /** The typed readings of every element of a list header, in order. */
  private list<T>(key: string, parse: (item: string) => T, what: string): T[] {
    const hit = this.cached(key);
    if (hit !== undefined) return hit as T[];
    const out: T[] = [];
    try {
      for (const item of this.splitValues(key)) out.push(parse(item));
    } catch (err) {
      throw this.failed(key, err, what);
    }
    this.cache.set(key, out);
    return out;
  }

  /** One typed reading per field, for headers never merged into comma lists (Authorization, Identity). */
  private fields<T>(key: string, parse: (v: string) => T, what: string): T[] {
    const hit = this.cached(key);
    if (hit !== undefined) return hit as T[];
    const out: T[] = [];
    try {
      for (const h of this.headers) if (h.key === key) out.push(parse(h.value));
    } catch (err) {
      throw this.failed(key, err, what);
    }
    this.cache.set(key, out);
    return out;
  }

  /** Option tags; an empty `Supported:` is legal, so these are read per field. */
  private tags(key: string): string[] {
    const hit = this.cached(key);
    if (hit !== undefined) return hit as string[];
    try {
      const tags = parseOptionTags(this.headerValues(key));
      this.cache.set(key, tags);
      return tags;
    } catch (err) {
      throw this.failed(key, err, key);
    }
  }

  // ---- typed headers -------------------------------------------------------

  get via(): Via[] {
    return this.list("via", parseVia, "Via");
  }
  /**
   * The first Via only: what a UAS needs to answer and a UAC to match. Parsing
   * it alone keeps validation from parsing Vias that nobody will read.
   */
  get topVia(): Via | undefined {
    const full = this.cache.get("via");
    if (Array.isArray(full)) return full[0] as Via | undefined;
    const hit = this.cached("top:via");
    if (hit !== undefined) return hit as Via;
    const first = this.valueOf("via");
    if (first === undefined) return undefined;
    let via: Via;
    try {
      via = parseVia(first.indexOf(",") < 0 ? first : splitList(first)[0]!);
    } catch (err) {
      throw this.failed("top:via", err, "Via");
    }
    this.cache.set("top:via", via);
    return via;
  }
  get from(): NameAddr | undefined {
    return this.single("from", parseNameAddrText, "From");
  }
  get to(): NameAddr | undefined {
    return this.single("to", parseNameAddrText, "To");
  }
  get callId(): string | undefined {
    return this.single("call-id", parseCallId, "Call-ID");
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
    const values = this.headerValues("contact");
    if (values.length === 1 && values[0] === "*") return "*";
    return this.list("contact", parseNameAddrText, "Contact");
  }
  get route(): NameAddr[] {
    return this.list("route", parseRouteEntry, "Route");
  }
  get recordRoute(): NameAddr[] {
    return this.list("record-route", parseRouteEntry, "Record-Route");
  }
  get supported(): string[] {
    return this.tags("supported");
  }
  get require(): string[] {
    return this.tags("require");
  }
  get proxyRequire(): string[] {
    return this.tags("proxy-require");
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
    return this.single("min-se", parseMinSE, "Min-SE");
  }
  get expires(): number | undefined {
    return this.single("expires", parseExpires, "Expires");
  }
  /** Every Identity field (RFC 8224 allows several, e.g. shaken and rcd PASSporTs), in order. */
  get identity(): IdentityHeader[] {
    return this.fields("identity", parseIdentity, "Identity");
  }
  get pAssertedIdentity(): NameAddr[] {
    return this.list("p-asserted-identity", parseNameAddrText, "P-Asserted-Identity");
  }
  get privacy(): string[] | undefined {
    return this.single("privacy", parsePrivacy, "Privacy");
  }
  /** Every Geolocation value in order: by-reference URIs and `cid:` both kept (RFC 6442). */
  get geolocation(): UriWithParams[] {
    return this.list("geolocation", parseGeolocation, "Geolocation");
  }
  get geolocationRouting(): string | undefined {
    return this.single("geolocation-routing", parseGeolocationRouting, "Geolocation-Routing");
  }
  get callInfo(): UriWithParams[] {
    return this.list("call-info", parseCallInfo, "Call-Info");
  }
  get resourcePriority(): ResourcePriority[] {
    return this.list("resource-priority", parseResourcePriority, "Resource-Priority");
  }
  get priority(): string | undefined {
    return this.single("priority", parsePriority, "Priority");
  }
  get reason(): Reason[] {
    return this.list("reason", parseReasonItem, "Reason");
  }
  get date(): Date | undefined {
    return this.single("date", parseDate, "Date");
  }
}

// Parsers for the typed getters, made once here rather than as closures per read.
const parseNameAddrText = (v: string): NameAddr => parseNameAddr(v);
const parseRouteEntry = (v: string): NameAddr => parseNameAddr(v, { requireAngle: true });
const parseMinSE = (v: string): number => parseSessionExpires(v).seconds;
const parseExpires = (v: string): number => parseDeltaSeconds(v, "Expires");
const parseGeolocation = (v: string): UriWithParams => parseUriWithParams(v, "Geolocation");
const parseCallInfo = (v: string): UriWithParams => parseUriWithParams(v, "Call-Info");
const parsePriority = (v: string): string => parseTokenValue(v, "Priority");
const parseGeolocationRouting = (v: string): string => parseTokenValue(v, "Geolocation-Routing");
const parseReasonItem = (v: string): Reason => parseReason(v, unquote);
const parseCallId = (v: string): string => {
  if (!isCallId(v)) throw new SipParseError("Invalid Call-ID");
  return v;
};

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
