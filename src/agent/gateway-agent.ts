/**
 * The embedded agent as the gateway runs it: its did:web identity (key file in
 * the data dir), the resolver (serving its own document locally), the acceptance
 * pipeline, presence, the SQLite relay and the WebSocket endpoint.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { MessageAcceptor } from "./acceptance.js";
import type { DidDocument } from "./did-document.js";
import { AgentDidResolver, KeyDirectory } from "./did-resolution.js";
import type { DidWebResolverOptions } from "./did-web-resolver.js";
import type { AgentLogger } from "./logger.js";
import { MemoryPresenceStore } from "./presence.js";
import { webhookPushNotifier } from "./relay-push.js";
import { RelayStore } from "./relay-store.js";
import { tnDidDocument, tnDigitsOf } from "./tn-did.js";
import { gatewayDidDocument, type Identity, identityFromKeyFile, loadOrCreateKeyFile } from "./wallet.js";
import { DsipServer, type DsipServerOptions } from "./ws-server.js";

/** Endpoint tunables a deployment (or a test) may change. */
export type ServerTunables = Partial<
  Pick<
    DsipServerOptions,
    "heartbeatMs" | "authTimeoutMs" | "maxBadMessagesPerMinute" | "maxBufferedBytes" | "relayTtlSeconds"
  >
>;

export interface GatewayAgentOptions {
  dataDir: string;
  /** The gateway's own did:web, e.g. `did:web:gw.example` or `did:web:localhost%3A8080`. */
  did: string;
  /** Public WebSocket URLs of the /dsip endpoint, published in the DID document. */
  dsipEndpoints: string[];
  web?: DidWebResolverOptions;
  skewSeconds?: number;
  pushWebhook?: string;
  server?: ServerTunables;
  logger: AgentLogger;
  /**
   * Whether the gateway speaks for this number (E.164 with "+"): its tn DID
   * then resolves, locally and at /tn/<digits>/did.json. Default: every
   * well-formed E.164 number (the caller's number of any inbound call must
   * verify, whatever the routing table says).
   */
  servesNumber?: (e164: string) => boolean;
}

export interface GatewayAgent {
  identity: Identity;
  document: DidDocument;
  /** The document of the gateway's DID or of one of its tn DIDs; undefined for any other DID. */
  documentFor(did: string): DidDocument | undefined;
  server: DsipServer;
  relay: RelayStore;
  close(): Promise<void>;
}

export async function startGatewayAgent(options: GatewayAgentOptions): Promise<GatewayAgent> {
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  const keyFile = await loadOrCreateKeyFile(join(options.dataDir, "gateway-key.json"), options.did);
  const identity = identityFromKeyFile({ ...keyFile, did: options.did });
  const document = gatewayDidDocument(identity, options.dsipEndpoints);
  const servesNumber = options.servesNumber ?? (() => true);
  const documentFor = (did: string): DidDocument | undefined => {
    if (did === identity.did) return document;
    const digits = tnDigitsOf(identity.did, did);
    if (digits === undefined || !servesNumber(`+${digits}`)) return undefined;
    return tnDidDocument(identity, did, options.dsipEndpoints);
  };
  const resolver = new AgentDidResolver({
    ...(options.web ? { web: options.web } : {}),
    local: documentFor,
  });
  const acceptor = new MessageAcceptor({
    keys: new KeyDirectory(resolver),
    ...(options.skewSeconds !== undefined ? { skewSeconds: options.skewSeconds } : {}),
  });
  const relay = new RelayStore(join(options.dataDir, "relay.sqlite"));
  const purge = setInterval(() => relay.purgeExpired(Math.floor(Date.now() / 1000)), 60_000);
  purge.unref();
  const server = new DsipServer({
    ...options.server,
    identity,
    acceptor,
    documents: resolver,
    presence: new MemoryPresenceStore(),
    relay,
    logger: options.logger,
    ...(options.pushWebhook
      ? {
          push: webhookPushNotifier(options.pushWebhook, identity.did, (err) =>
            options.logger.warn({ err: String(err) }, "push webhook failed"),
          ),
        }
      : {}),
  });
  return {
    identity,
    document,
    documentFor,
    server,
    relay,
    async close() {
      clearInterval(purge);
      await server.close();
      relay.close();
    },
  };
}
