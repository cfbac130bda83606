/** The SIP stack: what the rest of the gateway imports from src/sip. */

// Dialogs (RFC 3261 §12–15, RFC 3262, RFC 3311, RFC 4028) and the application API (createUAS/createUAC/createB2BUA)
export * from "./app/index.js";
export * from "./builder.js";
export * from "./describe.js";
export * from "./digest.js";
export * from "./errors.js";
export { formatParams, type Params, quoteString, unquote } from "./grammar.js";
export { canonicalHeaderName, headerKey } from "./header-names.js";
export * from "./headers/auth.js";
export * from "./headers/media-type.js";
export * from "./headers/name-addr.js";
export * from "./headers/scalars.js";
export * from "./headers/uri-params.js";
export * from "./headers/via.js";
export * from "./message.js";
export * from "./multipart.js";
export { DEFAULT_MAX_MESSAGE_SIZE, type ParseOptions, parseMessage } from "./parser.js";
// Transports, transactions and the stack API (RFC 3261 §17/§18, RFC 6026, RFC 3263)
export * from "./resolver.js";
export * from "./serializer.js";
export * from "./sip-stack.js";
export * from "./status-codes.js";
export * from "./stream-framer.js";
export * from "./timers.js";
export type { TerminationReason, TransactionKind, TransactionState } from "./transaction/base.js";
export type { ClientTransactionUser } from "./transaction/client.js";
export { InviteClientTransaction } from "./transaction/invite-client.js";
export { InviteServerTransaction } from "./transaction/invite-server.js";
export { newBranch, newTag } from "./transaction/keys.js";
export { NonInviteClientTransaction } from "./transaction/non-invite-client.js";
export { NonInviteServerTransaction } from "./transaction/non-invite-server.js";
export { ServerTransaction } from "./transaction/server.js";
export type { AnyServerTransaction, ClientTransaction, TransactionCounts } from "./transaction/table.js";
export type { TransportFactory, TransportSpec } from "./transport/manager.js";
export type { TlsFiles } from "./transport/tls.js";
export * from "./transport/types.js";
export * from "./uas-checks.js";
export * from "./uri.js";
export * from "./validate.js";
