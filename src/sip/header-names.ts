/**
 * Header names: compact forms (RFC 3261 §7.3.3 and later RFCs, IANA registry)
 * and the canonical spelling we use when we write a header ourselves.
 */

const COMPACT_FORMS: Record<string, string> = {
  a: "accept-contact",
  b: "referred-by",
  c: "content-type",
  d: "request-disposition",
  e: "content-encoding",
  f: "from",
  i: "call-id",
  j: "reject-contact",
  k: "supported",
  l: "content-length",
  m: "contact",
  n: "identity-info",
  o: "event",
  r: "refer-to",
  s: "subject",
  t: "to",
  u: "allow-events",
  v: "via",
  x: "session-expires",
  y: "identity",
};

const CANONICAL: Record<string, string> = {
  "call-id": "Call-ID",
  cseq: "CSeq",
  "www-authenticate": "WWW-Authenticate",
  rseq: "RSeq",
  rack: "RAck",
  "min-se": "Min-SE",
  "mime-version": "MIME-Version",
  "p-asserted-identity": "P-Asserted-Identity",
  "p-preferred-identity": "P-Preferred-Identity",
  "content-id": "Content-ID",
};

/** Lower-case long name used as the lookup key of a header, whatever form it was written in. */
export function headerKey(name: string): string {
  const lower = name.toLowerCase();
  if (lower.length === 1) return COMPACT_FORMS[lower] ?? lower;
  return lower;
}

/** The spelling we use when we write a header ourselves ("call-id" → "Call-ID"). */
export function canonicalHeaderName(name: string): string {
  const key = headerKey(name);
  const special = CANONICAL[key];
  if (special) return special;
  return key.replace(/(^|-)([a-z])/g, (_m, dash: string, ch: string) => dash + ch.toUpperCase());
}

/**
 * Headers whose grammar is a comma-separated list (RFC 3261 §7.3.1), so that
 * `Route: <a>, <b>` and two `Route:` lines mean the same. Only these are split:
 * splitting any other header at commas would break values such as `Date`.
 */
export const LIST_HEADERS: ReadonlySet<string> = new Set([
  "via",
  "contact",
  "route",
  "record-route",
  "path",
  "service-route",
  "supported",
  "require",
  "proxy-require",
  "unsupported",
  "allow",
  "allow-events",
  "accept",
  "accept-encoding",
  "accept-language",
  "content-encoding",
  "content-language",
  "in-reply-to",
  "p-asserted-identity",
  "p-preferred-identity",
  "geolocation",
  "call-info",
  "alert-info",
  "error-info",
  "resource-priority",
  "accept-resource-priority",
  "reason",
  "warning",
  "history-info",
]);

/**
 * Headers that may appear at most once (RFC 3261 §20 and the RFCs that define
 * them). A repeat is a 400 (RFC 4475 §3.1.2.? multi01, mcl01).
 */
export const SINGLE_VALUE_HEADERS: ReadonlySet<string> = new Set([
  "to",
  "from",
  "call-id",
  "cseq",
  "max-forwards",
  "content-length",
  "content-type",
  "content-disposition",
  "expires",
  "min-expires",
  "date",
  "mime-version",
  "session-expires",
  "min-se",
  "rseq",
  "rack",
  "priority",
  "geolocation-routing",
  "refer-to",
  "timestamp",
]);
