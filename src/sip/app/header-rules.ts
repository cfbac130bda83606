/**
 * Which headers a B2BUA copies from one leg to the other
 * (`proxyRequestHeaders` / `proxyResponseHeaders`): a list of names, or
 * `"all"` followed by `-Name` exclusions, e.g. `["all", "-Authorization"]`.
 * Headers that describe a leg's own transport, transaction or dialog are never
 * copied, whatever the list says: that is the topology hiding (the other leg
 * never sees Via, Contact, Record-Route, Route or Call-ID of this one).
 */
import type { HeaderList } from "../builder.js";
import { headerKey } from "../header-names.js";
import type { SipMessage } from "../message.js";

const NEVER_COPIED = new Set(
  [
    "via",
    "route",
    "record-route",
    "contact",
    "call-id",
    "cseq",
    "from",
    "to",
    "max-forwards",
    "content-length",
    "content-type",
    "rseq",
    "rack",
    "require",
    "supported",
    "session-expires",
    "min-se",
    "allow",
    "www-authenticate",
    "proxy-authenticate",
  ].map((n) => headerKey(n)),
);

export type HeaderRules = readonly string[] | undefined;

export function isNeverCopied(name: string): boolean {
  return NEVER_COPIED.has(headerKey(name));
}

/** Whether a header of this name passes the rules. */
export function headerPasses(name: string, rules: HeaderRules): boolean {
  if (!rules || rules.length === 0) return false;
  const key = headerKey(name);
  if (NEVER_COPIED.has(key)) return false;
  let all = false;
  const include = new Set<string>();
  const exclude = new Set<string>();
  for (const r of rules) {
    if (r.toLowerCase() === "all") all = true;
    else if (r.startsWith("-")) exclude.add(headerKey(r.slice(1)));
    else include.add(headerKey(r));
  }
  if (exclude.has(key)) return false;
  return all || include.has(key);
}

/** The headers of `msg` to copy to the other leg, in order, values as received. */
export function copyHeaders(msg: SipMessage, rules: HeaderRules): HeaderList {
  if (!rules || rules.length === 0) return [];
  const out: HeaderList = [];
  for (const h of msg.headers) if (headerPasses(h.name, rules)) out.push([h.name, h.value]);
  return out;
}
