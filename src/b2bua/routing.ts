/**
 * Routing: what number was called, in one canonical form, and which trunks
 * to try for it, in failover order. Pure functions over the configuration, so
 * the CallSession can ask them and unit tests can pin them.
 */
import { BlockList } from "node:net";
import { parsePhoneNumberFromString } from "libphonenumber-js/max";
import type { GatewayConfig, NumberFormat, RouteConfig, TrunkConfig } from "../config/index.js";
import { type CalledNumber, normaliseNumber } from "../mapping/numbers.js";
import {
  isEmergencyServiceUrn,
  isSipUri,
  isTelUri,
  parseUri,
  type Uri,
  unescapeUriPart,
} from "../sip/index.js";

/** A routing failure, carrying the SIP status the caller is answered with. */
export class RoutingError extends Error {
  override readonly name: string = "RoutingError";
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** No route matches the called number: 404 Not Found. */
export class NoRouteError extends RoutingError {
  override readonly name = "NoRouteError";
  constructor(readonly number: string) {
    super(`no route for ${number}`, 404);
  }
}

/** The Request-URI names no number or user we can route (e.g. an http: URI): 416 Unsupported URI Scheme. */
export class UnroutableUriError extends RoutingError {
  override readonly name = "UnroutableUriError";
  constructor(readonly uri: string) {
    super(`cannot route ${uri}`, 416);
  }
}

// The number code is pure and DSIP needs it too, so it lives in src/mapping; routing keeps its names.
export { type CalledNumber, normaliseNumber } from "../mapping/numbers.js";

/** RFC 3966 visual separators, plus the spaces people paste into user parts. */
const VISUAL_SEPARATORS = /[-.()\s]/g;

/**
 * The user part and phone-context of a Request-URI (or To URI): a tel URI's
 * number, or a sip/sips URI's user with its `;phone-context` (RFC 3261 §19.1.6,
 * `user=phone`). Undefined for URIs without a user (urn:, sip:host).
 */
export function userPartOf(uri: Uri): { user: string; phoneContext?: string } | undefined {
  if (isTelUri(uri)) {
    const ctx = uri.params["phone-context"];
    return ctx ? { user: uri.number, phoneContext: ctx } : { user: uri.number };
  }
  if (isSipUri(uri) && uri.user !== undefined) {
    const user = unescapeUriPart(uri.user);
    const semi = user.indexOf(";");
    if (semi < 0) return { user };
    const main = user.slice(0, semi);
    for (const param of user.slice(semi + 1).split(";")) {
      const eq = param.indexOf("=");
      if (eq > 0 && param.slice(0, eq).toLowerCase() === "phone-context")
        return { user: main, phoneContext: param.slice(eq + 1) };
    }
    return { user: main };
  }
  return undefined;
}

/** The called number of a Request-URI (text or parsed). Throws UnroutableUriError for a URI without one. */
export function calledNumber(target: Uri | string, format: NumberFormat): CalledNumber {
  const uri = typeof target === "string" ? parseUri(target) : target;
  const part = userPartOf(uri);
  if (!part) throw new UnroutableUriError(typeof target === "string" ? target : (uri.raw ?? uri.scheme));
  return normaliseNumber(part.user, format, part.phoneContext);
}

/**
 * How a number is written towards a trunk: E.164 as is, or the national form
 * (national prefix included, separators removed) when the trunk is national
 * and the number belongs to its country. Dial strings pass through.
 */
export function formatNumberForTrunk(number: CalledNumber, format: NumberFormat): string {
  if (number.kind !== "e164" || format.format === "e164") return number.number;
  const parsed = parsePhoneNumberFromString(number.number);
  if (!parsed || parsed.country !== format.defaultCountry) return number.number;
  return parsed.formatNational().replace(/[^0-9*#+]/g, "");
}

/** True when a call to `target` is an emergency call: urn:service:sos… or a configured emergency number. */
export function isEmergencyCall(target: Uri | string, emergencyNumbers: readonly string[]): boolean {
  let uri: Uri;
  try {
    uri = typeof target === "string" ? parseUri(target) : target;
  } catch {
    return false;
  }
  if (isEmergencyServiceUrn(uri)) return true;
  const part = userPartOf(uri);
  if (!part) return false;
  const dialled = part.user.replace(VISUAL_SEPARATORS, "");
  return emergencyNumbers.includes(dialled);
}

export interface RouteDecision {
  number: CalledNumber;
  /** The route that matched, and its position in the configuration. */
  route: RouteConfig;
  routeIndex: number;
  /** Trunks to try in order; the next one on 408, 5xx or a transport error. */
  targets: TrunkConfig[];
}

/**
 * The first route whose expression matches the whole normalised number, with
 * its targets resolved to trunks. Throws NoRouteError (404) when none matches.
 */
export function routeNumber(
  config: Pick<GatewayConfig, "routes" | "trunks">,
  number: CalledNumber,
): RouteDecision {
  const trunks = new Map(config.trunks.map((t) => [t.name, t]));
  for (let i = 0; i < config.routes.length; i++) {
    const route = config.routes[i]!;
    if (!route.regex.test(number.number)) continue;
    const seen = new Set<string>();
    const targets: TrunkConfig[] = [];
    for (const name of route.targets) {
      const trunk = trunks.get(name);
      // loadConfig refuses unknown trunks; a hand-built config might not, so skip rather than crash.
      if (!trunk || seen.has(name)) continue;
      seen.add(name);
      targets.push(trunk);
    }
    if (targets.length > 0) return { number, route, routeIndex: i, targets };
  }
  throw new NoRouteError(number.number);
}

/**
 * The trunk a request came from, by its source address: the first trunk whose
 * inbound ACL contains it. Undefined for an unknown source.
 */
export class TrunkIdentifier {
  private readonly lists: Array<{ trunk: TrunkConfig; list: BlockList }>;

  constructor(trunks: readonly TrunkConfig[]) {
    this.lists = trunks.map((trunk) => {
      const list = new BlockList();
      for (const c of trunk.inbound.acl) list.addSubnet(c.address, c.prefix, c.family);
      return { trunk, list };
    });
  }

  identify(source: string): TrunkConfig | undefined {
    // A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; ACLs name them as IPv4.
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(source);
    const address = mapped ? mapped[1]! : source;
    const family = address.includes(":") ? "ipv6" : "ipv4";
    for (const { trunk, list } of this.lists) if (list.check(address, family)) return trunk;
    return undefined;
  }
}
