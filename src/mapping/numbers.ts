/**
 * Telephone numbers across the boundary: one canonical form (E.164 when the
 * number is possible), and the gateway's did:web DIDs for numbers
 * (`did:web:<host>:tn:<digits>`) ⇄ E.164. Pure: libphonenumber-js/max only.
 */
import { type CountryCode, parsePhoneNumberFromString } from "libphonenumber-js/max";
import { MappingError } from "./errors.js";

/**
 * How one side writes numbers without "+": only the default country matters
 * here. config's `NumberFormat` fits this shape, so routing can pass it as is.
 */
export interface NumberContext {
  /** Not read here (a national number is recognised by its missing "+"); allowed so NumberFormat fits. */
  format?: "e164" | "national" | undefined;
  defaultCountry?: string | undefined;
}

export interface CalledNumber {
  /**
   * The canonical form routes match: E.164 ("+12015550123") when the number is a
   * possible telephone number, else the digits as dialled ("911", "*21#"), else
   * the user part as is ("alice").
   */
  number: string;
  kind: "e164" | "dialled" | "user";
  /** The dial string without visual separators and parameters, as the caller wrote it. */
  dialled: string;
}

/** RFC 3966 visual separators, plus the spaces people paste into user parts. */
const VISUAL_SEPARATORS = /[-.()\s]/g;
const DIAL_STRING = /^\+?[0-9*#A-Da-d]+$/;

/**
 * Normalises a number. `format.defaultCountry` reads numbers without "+"
 * (national format); a global `phone-context` ("+33") is prefixed to a local
 * number (RFC 3966 §5.1.5).
 */
export function normaliseNumber(user: string, format: NumberContext, phoneContext?: string): CalledNumber {
  const stripped = user.replace(VISUAL_SEPARATORS, "");
  if (!DIAL_STRING.test(stripped)) return { number: user, kind: "user", dialled: user };
  let text = stripped;
  const ctx = phoneContext?.replace(VISUAL_SEPARATORS, "");
  if (!text.startsWith("+") && ctx?.startsWith("+") && /^\+[0-9]+$/.test(ctx)) text = ctx + text;
  const country = format.defaultCountry as CountryCode | undefined;
  const parsed = /^\+?[0-9]+$/.test(text)
    ? text.startsWith("+")
      ? parsePhoneNumberFromString(text)
      : country
        ? parsePhoneNumberFromString(text, country)
        : undefined
    : undefined;
  if (parsed?.isPossible()) return { number: parsed.number, kind: "e164", dialled: stripped };
  return { number: stripped, kind: "dialled", dialled: stripped };
}

/** The E.164 form of `text`, or undefined when it is not a possible number (national needs a country). */
export function toE164(text: string, format: NumberContext = {}): string | undefined {
  const n = normaliseNumber(text, format);
  return n.kind === "e164" ? n.number : undefined;
}

// ------------------------------------------------------------ tn DIDs

/** E.164 without "+": a country code never starts with 0, at most 15 digits. */
const TN_DIGITS = /^[1-9][0-9]{1,14}$/;
const TN_SEGMENT = ":tn:";

/**
 * The did:web host segment compared the way did:web resolution does: the host
 * is case-insensitive and the port's "%3A" may be written "%3a".
 */
function canonicalHost(gatewayDid: string): string {
  if (!gatewayDid.startsWith("did:web:")) throw new TypeError(`${gatewayDid} is not a did:web`);
  const rest = gatewayDid.slice("did:web:".length);
  if (rest.length === 0 || rest.includes(":"))
    // A gateway DID with a path would put numbers under that path; nothing needs it, so keep one form.
    throw new TypeError(`${gatewayDid}: the gateway DID must be did:web:<host> without a path`);
  return rest.toLowerCase().replace(/%3a/g, "%3A");
}

/** `did:web:<host>:tn:<digits>` for an E.164 number. Throws a MappingError for a number that is not E.164. */
export function tnDidFor(gatewayDid: string, e164: string): string {
  if (!e164.startsWith("+") || !TN_DIGITS.test(e164.slice(1)))
    throw new MappingError("dsip", 404, `${e164} is not an E.164 number`, "number:invalid");
  return `did:web:${canonicalHost(gatewayDid)}${TN_SEGMENT}${e164.slice(1)}`;
}

/**
 * The E.164 number of one of the gateway's tn DIDs, or undefined when `did` is
 * not one (another host, another path, or digits that cannot be E.164).
 */
export function numberFromTnDid(gatewayDid: string, did: string): string | undefined {
  const prefix = `did:web:${canonicalHost(gatewayDid)}${TN_SEGMENT}`;
  if (did.length <= prefix.length) return undefined;
  const head = did.slice(0, prefix.length);
  if (head.toLowerCase().replace(/%3a/g, "%3A") !== prefix) return undefined;
  const digits = did.slice(prefix.length);
  return TN_DIGITS.test(digits) ? `+${digits}` : undefined;
}

/** True for a DID of the form `did:web:<any host>:tn:<digits>`: a number under some gateway. */
export function isTnDid(did: string): boolean {
  return /^did:web:[^:]+:tn:[1-9][0-9]{1,14}$/.test(did);
}

// ------------------------------------------------------------ DSIP targets

export type DsipTarget =
  /** A telephone number in E.164: the gateway routes it to a trunk. */
  | { kind: "number"; e164: string }
  /** A dial string that is not E.164 (e.g. "911" from `tel:911;phone-context=…`). */
  | { kind: "dialled"; digits: string }
  /** A DID that is not one of the gateway's numbers: a DSIP destination, not SIP. */
  | { kind: "did"; did: string };

/**
 * What a `dsip.invite`'s `to` names. `tel:` URIs are read per RFC 3966 (global
 * "+…", or local with a global `phone-context`, or local with the gateway's
 * default country); the gateway's tn DIDs become their number.
 */
export function resolveDsipTarget(to: string, gatewayDid: string, format: NumberContext = {}): DsipTarget {
  if (to.startsWith("did:")) {
    const e164 = numberFromTnDid(gatewayDid, to);
    return e164 ? { kind: "number", e164 } : { kind: "did", did: to };
  }
  if (/^tel:/i.test(to)) {
    const [number = "", ...params] = to.slice(4).split(";");
    let context: string | undefined;
    for (const p of params) {
      const eq = p.indexOf("=");
      if (eq > 0 && p.slice(0, eq).toLowerCase() === "phone-context") context = p.slice(eq + 1);
    }
    const n = normaliseNumber(number, format, context);
    if (n.kind === "e164") return { kind: "number", e164: n.number };
    if (n.kind === "dialled" && /^[0-9*#]+$/.test(n.number)) return { kind: "dialled", digits: n.number };
  }
  throw new MappingError("dsip", 404, `cannot route ${to.slice(0, 80)}`, "number:invalid");
}
