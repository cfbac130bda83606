/**
 * Every way the agent can refuse a message, as typed errors carrying the
 * `dsip.error` code and reason that go back on the wire. The table is the single
 * source for docs/dsip-wire.md §Errors (a test keeps the two in step).
 */

export interface DsipErrorSpec {
  readonly code: number;
  readonly reason: string;
  readonly description: string;
}

export const ERROR_SPECS = {
  malformedJson: {
    code: 400,
    reason: "malformed:json",
    description: "the frame is not valid JSON text (UTF-8)",
  },
  badSignature: { code: 401, reason: "sig:invalid", description: "the JWS does not verify or is malformed" },
  policy: { code: 403, reason: "policy:refused", description: "refused by local policy (seed example)" },
  unknownDid: {
    code: 404,
    reason: "did:not-found",
    description: "the `from` DID cannot be resolved (unknown method, malformed or no document)",
  },
  kidNotAuthorized: {
    code: 405,
    reason: "auth:kid-not-in-authentication",
    description: "`sig.kid` is not a key in the `authentication` relationship of the `from` DID",
  },
  fromMismatch: {
    code: 406,
    reason: "auth:from-mismatch",
    description: "`from` differs from the DID this connection authenticated as",
  },
  authRequired: {
    code: 407,
    reason: "auth:required",
    description: "the connection must complete DID-Auth before sending this message",
  },
  staleTimestamp: { code: 408, reason: "ts:stale", description: "`ts` is older than the skew window" },
  replay: { code: 409, reason: "id:replay", description: "this `id` was already seen in the replay window" },
  expired: { code: 410, reason: "exp:expired", description: "`exp` has passed" },
  futureTimestamp: { code: 412, reason: "ts:future", description: "`ts` is ahead of the skew window" },
  oversize: {
    code: 413,
    reason: "size:too-large",
    description: "the frame exceeds the maximum message size",
  },
  unknownType: {
    code: 415,
    reason: "type:unknown",
    description: "`type` is not a message type this agent knows",
  },
  badChallenge: {
    code: 416,
    reason: "auth:bad-challenge",
    description: "`dsip.auth` does not answer this connection's challenge",
  },
  staleRecord: {
    code: 417,
    reason: "presence:stale",
    description: "the presence record has expired, or one with an equal or higher `seq` is already held",
  },
  schema: { code: 422, reason: "schema:invalid", description: "a field is missing or has the wrong type" },
  tooManyErrors: {
    code: 429,
    reason: "rate:too-many-errors",
    description: "too many bad messages: the connection is closed after this error",
  },
  internal: {
    code: 500,
    reason: "internal:error",
    description: "the gateway failed while handling the message",
  },
  resolutionFailed: {
    code: 502,
    reason: "did:resolution-failed",
    description: "a DID document could not be fetched or was refused (TLS, SSRF guard, size, redirect)",
  },
  calleeUnavailable: {
    code: 503,
    reason: "callee:unavailable",
    description: "the `to` DID is offline and the message cannot be stored for it",
  },
  resolutionTimeout: { code: 504, reason: "did:resolution-timeout", description: "DID resolution timed out" },
  relayFull: { code: 507, reason: "relay:full", description: "the relay store refuses more envelopes" },
  blocked: {
    code: 603,
    reason: "blocked:global",
    description: "the sender is blocked everywhere (reserved)",
  },
} as const satisfies Record<string, DsipErrorSpec>;

export type DsipErrorKind = keyof typeof ERROR_SPECS;

/** Base class: `code` and `reason` go on the wire; `message` may carry detail for logs and the reason suffix. */
export class DsipError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly kind: DsipErrorKind;
  readonly detail: string | undefined;

  constructor(kind: DsipErrorKind, detail?: string, options?: ErrorOptions) {
    const spec = ERROR_SPECS[kind];
    super(detail ? `${spec.reason}: ${detail}` : spec.reason, options);
    this.name = "DsipError";
    this.kind = kind;
    this.code = spec.code;
    this.reason = spec.reason;
    this.detail = detail;
  }
}

export class MalformedJsonError extends DsipError {
  constructor(detail?: string) {
    super("malformedJson", detail);
    this.name = "MalformedJsonError";
  }
}
export class BadSignatureError extends DsipError {
  constructor(detail?: string) {
    super("badSignature", detail);
    this.name = "BadSignatureError";
  }
}
export class UnknownDidError extends DsipError {
  constructor(detail?: string) {
    super("unknownDid", detail);
    this.name = "UnknownDidError";
  }
}
export class KidNotAuthorizedError extends DsipError {
  constructor(detail?: string) {
    super("kidNotAuthorized", detail);
    this.name = "KidNotAuthorizedError";
  }
}
export class FromMismatchError extends DsipError {
  constructor(detail?: string) {
    super("fromMismatch", detail);
    this.name = "FromMismatchError";
  }
}
export class AuthRequiredError extends DsipError {
  constructor(detail?: string) {
    super("authRequired", detail);
    this.name = "AuthRequiredError";
  }
}
export class StaleTimestampError extends DsipError {
  constructor(detail?: string) {
    super("staleTimestamp", detail);
    this.name = "StaleTimestampError";
  }
}
export class FutureTimestampError extends DsipError {
  constructor(detail?: string) {
    super("futureTimestamp", detail);
    this.name = "FutureTimestampError";
  }
}
export class ReplayError extends DsipError {
  constructor(detail?: string) {
    super("replay", detail);
    this.name = "ReplayError";
  }
}
export class ExpiredError extends DsipError {
  constructor(detail?: string) {
    super("expired", detail);
    this.name = "ExpiredError";
  }
}
export class OversizeError extends DsipError {
  constructor(detail?: string) {
    super("oversize", detail);
    this.name = "OversizeError";
  }
}
export class UnknownTypeError extends DsipError {
  constructor(detail?: string) {
    super("unknownType", detail);
    this.name = "UnknownTypeError";
  }
}
export class SchemaError extends DsipError {
  constructor(detail?: string) {
    super("schema", detail);
    this.name = "SchemaError";
  }
}
export class BadChallengeError extends DsipError {
  constructor(detail?: string) {
    super("badChallenge", detail);
    this.name = "BadChallengeError";
  }
}
export class StalePresenceError extends DsipError {
  constructor(detail?: string) {
    super("staleRecord", detail);
    this.name = "StalePresenceError";
  }
}
export class ResolutionFailedError extends DsipError {
  constructor(detail?: string, options?: ErrorOptions) {
    super("resolutionFailed", detail, options);
    this.name = "ResolutionFailedError";
  }
}
export class ResolutionTimeoutError extends DsipError {
  constructor(detail?: string) {
    super("resolutionTimeout", detail);
    this.name = "ResolutionTimeoutError";
  }
}
export class CalleeUnavailableError extends DsipError {
  constructor(detail?: string) {
    super("calleeUnavailable", detail);
    this.name = "CalleeUnavailableError";
  }
}

/** Any thrown value as a DsipError, so that nothing but a DsipError reaches the wire. */
export function toDsipError(err: unknown): DsipError {
  if (err instanceof DsipError) return err;
  return new DsipError("internal");
}
