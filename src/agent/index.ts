/** The DSIP agent's public surface for the rest of the gateway. */
export { MessageAcceptor, unixNow } from "./acceptance.js";
export type { DidDocument } from "./did-document.js";
export { didKeyDocument, didKeyFromPublicKey } from "./did-key.js";
export { AgentDidResolver, KeyDirectory } from "./did-resolution.js";
export { didWebFor, didWebToUrl } from "./did-web-url.js";
export { DsipError, ERROR_SPECS } from "./errors.js";
export type { AgentLogger } from "./logger.js";
export { type DsipMessage, MESSAGE_TYPES, type MessageOf, parseMessage } from "./messages.js";
export { MemoryPresenceStore, type PresenceStore } from "./presence.js";
export { webhookPushNotifier } from "./relay-push.js";
export { RelayStore } from "./relay-store.js";
export { tnDidDocument, tnDidDocumentFromGateway, tnDidOf, tnDigitsOf, tnIdentity } from "./tn-did.js";
export { didKeyIdentity, didWebIdentity, gatewayDidDocument, type Identity, loadIdentity } from "./wallet.js";
export { DsipClient } from "./ws-client.js";
export { DsipServer } from "./ws-server.js";
