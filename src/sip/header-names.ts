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

/**
 * Spellings seen so far → key. Peers use a handful of spellings per header, so
 * this stays small (bounded anyway), and it saves a toLowerCase per header per
 * message on the hot path.
 */
const KEY_BY_SPELLING = new Map<string, string>();
const MAX_REMEMBERED_SPELLINGS = 4096;

/** Lower-case long name used as the lookup key of a header, whatever form it was written in. */
export function headerKey(name: string): string {
  const known = KEY_BY_SPELLING.get(name);
  if (known !== undefined) return known;
  const lower = name.toLowerCase();
  const key = lower.length === 1 ? (COMPACT_FORMS[lower] ?? lower) : lower;
  if (KEY_BY_SPELLING.size < MAX_REMEMBERED_SPELLINGS) KEY_BY_SPELLING.set(name, key);
  return key;
}

/** Case-insensitive hash of a header name, the same as the parser computes while it checks the name's characters. */
export function headerNameHash(text: string, start = 0, end = text.length): number {
  let hash = 0;
  for (let i = start; i < end; i++) hash = (Math.imul(hash, 31) + (text.charCodeAt(i) | 0x20)) | 0;
  return hash;
}

/**
 * Slot (hash & mask) → [spelling in lower case, usual spelling, key, …] for the
 * names the gateway meets every call. A plain array indexed by the hash's low
 * bits: cheaper per header than a Map lookup.
 */
const SLOT_MASK = 1023;
const KNOWN_BY_SLOT: Array<string[] | undefined> = new Array(SLOT_MASK + 1).fill(undefined);
for (const [lower, key] of [
  ...Object.entries(COMPACT_FORMS),
  ...[
    "via",
    "from",
    "to",
    "call-id",
    "cseq",
    "contact",
    "max-forwards",
    "content-length",
    "content-type",
    "route",
    "record-route",
    "allow",
    "supported",
    "require",
    "proxy-require",
    "user-agent",
    "server",
    "session-expires",
    "min-se",
    "p-asserted-identity",
    "privacy",
    "identity",
    "expires",
    "rseq",
    "rack",
    "authorization",
    "proxy-authorization",
    "www-authenticate",
    "proxy-authenticate",
    "accept",
    "date",
    "geolocation",
    "geolocation-routing",
    "call-info",
    "resource-priority",
    "priority",
    "reason",
    "content-disposition",
    "event",
    "subscription-state",
    "refer-to",
    "referred-by",
    "diversion",
    "history-info",
    "p-charging-vector",
    "x-asserted-identity",
  ].map((n) => [n, n] as [string, string]),
]) {
  const slot = headerNameHash(lower) & SLOT_MASK;
  const list = KNOWN_BY_SLOT[slot] ?? [];
  list.push(lower, lower.length === 1 ? lower : canonicalHeaderName(lower), key);
  KNOWN_BY_SLOT[slot] = list;
}

/**
 * The key of a well-known header name found at text[start, end), from its
 * hash, with no string built. Undefined for names not in the table.
 */
export function knownHeaderKey(hash: number, text: string, start: number, end: number): string | undefined {
  const candidates = KNOWN_BY_SLOT[hash & SLOT_MASK];
  if (candidates === undefined) return undefined;
  const len = end - start;
  for (let c = 0; c < candidates.length; c += 3) {
    const lower = candidates[c]!;
    if (lower.length !== len) continue;
    // peers nearly always use the usual spelling: one native comparison settles it
    if (text.startsWith(candidates[c + 1]!, start)) return candidates[c + 2];
    let i = 0;
    while (i < len && (text.charCodeAt(start + i) | 0x20) === lower.charCodeAt(i)) i++;
    if (i === len) return candidates[c + 2];
  }
  return undefined;
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
