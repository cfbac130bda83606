/**
 * The DsipPort the B2BUA speaks through, made from the embedded agent: signs
 * as the gateway or as one of its tn DIDs (same key, its own kid) and routes
 * like any message the endpoint receives (live connections, else the relay).
 */
import type { GatewayAgent } from "../agent/gateway-agent.js";
import { type Identity, tnIdentity } from "../agent/index.js";
import type { DsipPort } from "./dsip-port.js";

export function agentDsipPort(agent: GatewayAgent): DsipPort {
  const gateway = agent.identity;
  // tn identities are cheap but not free (a key object each): keep the ones in use.
  const identities = new Map<string, Identity>([[gateway.did, gateway]]);
  const identityFor = (did: string): Identity => {
    let id = identities.get(did);
    if (!id) {
      id = tnIdentity(gateway, did);
      if (identities.size > 10_000) identities.clear();
      identities.set(did, id);
    }
    return id;
  };
  return {
    did: gateway.did,
    isOnline: (did) => agent.server.isOnline(did),
    send: (as, message) => agent.server.sendAs(identityFor(as), message),
  };
}
