/**
 * The checks a UAS makes after a request is known to be well formed and before
 * it acts on it (RFC 3261 §8.2.1–§8.2.3, §16.3 for a proxy's Max-Forwards):
 * URI scheme, required extensions, body type, acceptable answer types. They
 * depend on what the element supports, so they take a policy. Emergency
 * requests are checked by the same rules but callers may choose to override.
 */

import { parseMediaType } from "./headers/media-type.js";
import type { SipRequest } from "./message.js";

export interface UasPolicy {
  /** Methods we implement; a known method outside the list gets 405, an unknown one 501 (RFC 3261 §8.2.1). */
  methods: readonly string[];
  /** Request-URI schemes we serve (RFC 3261 §8.2.2.1). */
  schemes: readonly string[];
  /** Option tags we support (RFC 3261 §8.2.2.3). */
  extensions: readonly string[];
  /** Body types we can read (RFC 3261 §8.2.3). */
  bodyTypes: readonly string[];
  /** Types we can answer with; an Accept naming none of them gets 406 (RFC 4475 sdp01). */
  answerTypes: readonly string[];
  /** A proxy answers Max-Forwards 0 with 483; an endpoint processes it (RFC 4475 zeromf). */
  role: "endpoint" | "proxy";
}

/** Methods defined by RFC 3261 and its extensions: not supporting one of these is 405, anything else 501. */
const KNOWN_METHODS = new Set([
  "INVITE",
  "ACK",
  "BYE",
  "CANCEL",
  "OPTIONS",
  "REGISTER",
  "PRACK",
  "UPDATE",
  "INFO",
  "SUBSCRIBE",
  "NOTIFY",
  "REFER",
  "MESSAGE",
  "PUBLISH",
]);

export const DEFAULT_UAS_POLICY: UasPolicy = {
  // A gateway, not a registrar: REGISTER is answered 405 (RFC 4475 regaut01 allows it).
  methods: [
    "INVITE",
    "ACK",
    "BYE",
    "CANCEL",
    "OPTIONS",
    "PRACK",
    "UPDATE",
    "INFO",
    "REFER",
    "NOTIFY",
    "MESSAGE",
  ],
  schemes: ["sip", "sips", "tel", "urn"],
  extensions: ["100rel", "timer", "replaces", "path", "outbound", "geolocation", "resource-priority"],
  bodyTypes: [
    "application/sdp",
    "multipart/mixed",
    "application/pidf+xml",
    "application/emergencycallddata.comment+xml",
    "application/emergencycalldata.providerinfo+xml",
    "application/emergencycalldata.serviceinfo+xml",
    "application/emergencycalldata.deviceinfo+xml",
    "application/emergencycalldata.subscriberinfo+xml",
    "text/plain",
  ],
  answerTypes: ["application/sdp"],
  role: "endpoint",
};

export interface UasRejection {
  status: number;
  reason: string;
  /** Headers the rejection must carry (Unsupported for 420, Accept for 415). */
  headers: Array<[string, string]>;
}

export function checkRequestSupport(
  req: SipRequest,
  policy: UasPolicy = DEFAULT_UAS_POLICY,
): UasRejection | undefined {
  if (!policy.methods.includes(req.method)) {
    if (!KNOWN_METHODS.has(req.method))
      return { status: 501, reason: "Not Implemented", headers: [["Allow", policy.methods.join(", ")]] };
    return { status: 405, reason: "Method Not Allowed", headers: [["Allow", policy.methods.join(", ")]] };
  }
  if (!policy.schemes.includes(req.uri.scheme)) {
    return { status: 416, reason: "Unsupported URI Scheme", headers: [] };
  }
  // RFC 3261 §10.3: the address-of-record in To must be a SIP or SIPS URI (RFC 4475 unksm2).
  if (req.method === "REGISTER" && req.to && req.to.uri.scheme !== "sip" && req.to.uri.scheme !== "sips") {
    return { status: 400, reason: "Address-of-record must be a SIP or SIPS URI", headers: [] };
  }
  if (req.method !== "ACK" && req.method !== "CANCEL") {
    // Proxy-Require too: a B2BUA stands where a proxy would, and RFC 4475 bext01 expects 420 from any element.
    const unsupported = [...req.require, ...req.proxyRequire].filter(
      (tag) => !policy.extensions.includes(tag),
    );
    if (unsupported.length > 0) {
      return {
        status: 420,
        reason: "Bad Extension",
        headers: [["Unsupported", [...new Set(unsupported)].join(", ")]],
      };
    }
  }
  if (policy.role === "proxy" && req.maxForwards === 0 && req.method !== "OPTIONS") {
    return { status: 483, reason: "Too Many Hops", headers: [] };
  }
  if (req.body.length > 0 && req.contentType && !policy.bodyTypes.includes(req.contentType.mediaType)) {
    const optional = req.contentDisposition?.handling === "optional";
    if (!optional)
      return {
        status: 415,
        reason: "Unsupported Media Type",
        headers: [["Accept", policy.bodyTypes.join(", ")]],
      };
  }
  if (req.method === "INVITE" || req.method === "OPTIONS") {
    const accepts = req.listValues("accept");
    if (accepts.length > 0) {
      const acceptable = accepts.some((a) => {
        try {
          const mt = parseMediaType(a);
          return (
            mt.mediaType === "*/*" ||
            policy.answerTypes.includes(mt.mediaType) ||
            policy.answerTypes.some((t) => t.startsWith(`${mt.type}/`) && mt.subtype === "*")
          );
        } catch {
          return false;
        }
      });
      if (!acceptable) return { status: 406, reason: "Not Acceptable", headers: [] };
    }
  }
  return undefined;
}

/**
 * A UAC discards a response with more than one Via: it was meant for a proxy
 * (RFC 3261 §8.1.3.3, RFC 4475 bcast). Returns the reason to drop it, if any.
 */
export function checkResponseAtUac(via: readonly unknown[]): string | undefined {
  return via.length > 1 ? "Response with more than one Via at a UAC" : undefined;
}
