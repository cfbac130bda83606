/**
 * Address rules at the transport boundary: stamping `received`/`rport` on
 * incoming requests (RFC 3261 §18.2.1, RFC 3581 §4) and choosing where a
 * response goes (RFC 3261 §18.2.2, RFC 3581 §4).
 */
import { formatVia, type Via } from "../headers/via.js";
import type { SipRequest } from "../message.js";
import { bareHost, type Endpoint, isReliable } from "./types.js";

/**
 * Adds `received` when the sent-by host is not the packet's source address,
 * and fills an empty `rport` with the source port. Leaves the Via untouched
 * (byte-exact) when neither applies, which is the common case.
 */
export function stampReceived(req: SipRequest, via: Via, source: Endpoint): void {
  const wantsRport = "rport" in via.params && via.params.rport == null;
  const hostDiffers = bareHost(via.host) !== source.host;
  if (!wantsRport && !hostDiffers) return;
  const stamped: Via = { ...via, params: { ...via.params } };
  if (hostDiffers || wantsRport) stamped.params.received = source.host;
  if (wantsRport) stamped.params.rport = String(source.port);
  req.replaceFirstListValue("via", formatVia(stamped));
}

/**
 * Where to send responses for a request that came from `source` with top Via
 * `via`. Reliable transports answer on the connection the request came in on
 * (the pool is keyed by the remote address, so that is `source`); UDP goes to
 * maddr, else the source address with rport or the sent-by port.
 */
export function responseDestination(via: Via, source: Endpoint): Endpoint {
  if (isReliable(source.protocol)) return source;
  const maddr = via.params.maddr;
  if (maddr) return { protocol: "UDP", host: bareHost(maddr), port: via.port ?? 5060 };
  const usesRport = "rport" in via.params;
  return { protocol: "UDP", host: source.host, port: usesRport ? source.port : (via.port ?? 5060) };
}

/**
 * The fallback of §18.2.2 for reliable transports once the original
 * connection is gone: connect to `received` (the source IP) and the sent-by port.
 */
export function reconnectDestination(via: Via, source: Endpoint): Endpoint {
  const defaultPort = source.protocol === "TLS" || source.protocol === "WSS" ? 5061 : 5060;
  return { protocol: source.protocol, host: source.host, port: via.port ?? defaultPort };
}

/**
 * Whether a request, with the Via and Content-Length we are about to add,
 * exceeds `limit` octets: RFC 3261 §18.1.1 then wants a congestion-controlled
 * transport. An upper-bound estimate, cheap enough for every request.
 */
export function exceedsUdpLimit(req: SipRequest, limit: number): boolean {
  let size = req.body.length + req.startLine().length + 200;
  if (size > limit) return true;
  for (const h of req.headers) {
    size += h.name.length + h.value.length + 4;
    if (size > limit) return true;
  }
  return false;
}
