/**
 * The DSIP message types as zod schemas: the single source of truth for parsing
 * (`parseMessage`) and for the JSON Schemas in docs/schemas (`npm run schemas`).
 * Objects are loose: unknown fields pass through (and are covered by the signature),
 * so that newer peers can add fields without breaking older ones.
 */
import { z } from "zod";
import { SchemaError, UnknownTypeError } from "./errors.js";

const MAX_ID = 128;
const MAX_URI = 2048;

export const DidSchema = z
  .string()
  .max(MAX_URI)
  .regex(/^did:[a-z0-9]+:[A-Za-z0-9._:%-]+$/, "a DID without path, query or fragment");
/** A DID, or a `tel:` target for the gateway (ARCHITECTURE §4). */
export const TargetSchema = z.union([
  DidSchema,
  z
    .string()
    .max(64)
    .regex(/^tel:\+?[0-9*#;=a-zA-Z.-]+$/),
]);
export const IdSchema = z.string().min(1).max(MAX_ID);
/** Unix time in whole seconds. */
export const TimestampSchema = z.number().int().min(0).max(1e11);

export const SignatureSchema = z.object({
  alg: z.literal("EdDSA"),
  kid: z.string().min(1).max(MAX_URI).describe("DID URL of a key in the `from` DID's `authentication`"),
  jws: z
    .string()
    .max(4096)
    .regex(/^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+$/, "detached compact JWS: <protected>..<signature>"),
});

export const CapabilitySchema = z.looseObject({
  ver: z.string().max(16),
  features: z.array(z.string().max(64)).max(64),
});

const SdpMediaSchema = z.looseObject({
  sdp: z.string().max(64 * 1024),
  codecs: z.array(z.string().max(64)).max(64).optional(),
});

const NetSchema = z.looseObject({
  ice: z.looseObject({ ufrag: z.string().max(256), pwd: z.string().max(256) }).optional(),
  candidates: z.array(z.string().max(1024)).max(256).optional(),
  hints: z.record(z.string(), z.unknown()).optional(),
});

/** Fields of every message. */
const base = {
  id: IdSchema,
  ts: TimestampSchema,
  from: DidSchema,
  exp: TimestampSchema.optional(),
  cap: CapabilitySchema.optional(),
  sig: SignatureSchema,
};
/** Fields of a message routed to another DID. */
const routed = { ...base, to: TargetSchema };
/** Fields of a message that belongs to a call or message started by `correlates`. */
const inDialog = { ...routed, correlates: IdSchema };

export const MESSAGE_SCHEMAS = {
  "dsip.invite": z.looseObject({
    type: z.literal("dsip.invite"),
    ...routed,
    cap: CapabilitySchema,
    media: SdpMediaSchema,
    net: NetSchema.optional(),
    identity: z.looseObject({}).optional(),
    economics: z.looseObject({}).optional(),
    priority: z.enum(["normal", "emergency"]).optional(),
  }),
  "dsip.answer": z.looseObject({
    type: z.literal("dsip.answer"),
    ...inDialog,
    media: SdpMediaSchema,
    net: NetSchema.optional(),
  }),
  "dsip.ice": z.looseObject({
    type: z.literal("dsip.ice"),
    ...inDialog,
    candidate: z.string().max(1024).nullable().describe("null means end of candidates"),
  }),
  "dsip.update": z.looseObject({
    type: z.literal("dsip.update"),
    ...inDialog,
    changes: z.looseObject({}),
  }),
  "dsip.bye": z.looseObject({
    type: z.literal("dsip.bye"),
    ...inDialog,
    reason: z.string().max(256).optional(),
  }),
  "dsip.progress": z.looseObject({
    type: z.literal("dsip.progress"),
    ...inDialog,
    stage: z.enum(["trying", "ringing", "early-media"]),
    media: SdpMediaSchema.optional(),
  }),
  "dsip.cancel": z.looseObject({
    type: z.literal("dsip.cancel"),
    ...inDialog,
    reason: z.string().max(256).optional(),
  }),
  "dsip.error": z.looseObject({
    type: z.literal("dsip.error"),
    ...base,
    to: TargetSchema.optional(),
    correlates: IdSchema.optional(),
    code: z.number().int().min(400).max(699),
    reason: z.string().max(512),
    detail: z.string().max(512).optional().describe("human-readable detail; `reason` is the machine token"),
  }),
  "dsip.msg": z.looseObject({
    type: z.literal("dsip.msg"),
    ...base,
    to: z.union([TargetSchema, z.array(TargetSchema).min(1).max(64)]),
    content: z.looseObject({
      enc: z.string().max(32),
      ciphertext: z.string().max(256 * 1024),
      aad: z.string().max(4096).optional(),
    }),
  }),
  "dsip.receipt": z.looseObject({
    type: z.literal("dsip.receipt"),
    ...routed,
    for: IdSchema,
    kind: z.enum(["delivered", "read"]),
  }),
  "dsip.typing": z.looseObject({
    type: z.literal("dsip.typing"),
    ...routed,
    thread: IdSchema,
    state: z.enum(["on", "off"]),
  }),
  "dsip.msgUpdate": z.looseObject({
    type: z.literal("dsip.msgUpdate"),
    ...routed,
    for: IdSchema,
    patch: z.looseObject({}),
  }),
  "dsip.envelope.v1": z.looseObject({
    type: z.literal("dsip.envelope.v1"),
    ...routed,
    exp: TimestampSchema,
    epk: z.string().regex(/^[A-Za-z0-9_-]{43}$/, "base64url X25519 ephemeral public key"),
    nonce: z.string().regex(/^[A-Za-z0-9_-]{16}$/, "base64url 12-byte AES-GCM nonce"),
    payload_enc: z
      .string()
      .max(512 * 1024)
      .regex(/^[A-Za-z0-9_-]+$/, "base64url ciphertext ‖ tag"),
  }),
  "dsip.presence": z.looseObject({
    type: z.literal("dsip.presence"),
    ...base,
    exp: TimestampSchema,
    seq: z.number().int().min(0),
    endpoints: z.looseObject({
      ws: z.array(z.string().max(MAX_URI)).max(16).optional(),
      libp2p: z.array(z.string().max(MAX_URI)).max(16).optional(),
    }),
    geo: z.looseObject({}).optional(),
  }),
  "dsip.ping": z.looseObject({
    type: z.literal("dsip.ping"),
    ...base,
    to: TargetSchema.optional(),
    correlates: IdSchema.optional().describe("set on the answer: the id of the ping answered"),
  }),
  "dsip.challenge": z.looseObject({
    type: z.literal("dsip.challenge"),
    ...base,
    nonce: z.string().min(16).max(128),
  }),
  "dsip.auth": z.looseObject({
    type: z.literal("dsip.auth"),
    ...routed,
    nonce: z.string().min(16).max(128),
  }),
  "dsip.authOk": z.looseObject({
    type: z.literal("dsip.authOk"),
    ...routed,
    correlates: IdSchema,
    queued: z.number().int().min(0).describe("envelopes waiting at the relay, delivered next"),
  }),
} as const;

export type MessageType = keyof typeof MESSAGE_SCHEMAS;
export type MessageOf<T extends MessageType> = z.infer<(typeof MESSAGE_SCHEMAS)[T]>;
export type DsipMessage = { [T in MessageType]: MessageOf<T> }[MessageType];
/** A message before signing. */
export type Unsigned<M> = Omit<M, "sig">;

export const MESSAGE_TYPES = Object.keys(MESSAGE_SCHEMAS) as MessageType[];

export function isMessageType(type: unknown): type is MessageType {
  return typeof type === "string" && Object.hasOwn(MESSAGE_SCHEMAS, type);
}

/** Checks a decoded JSON value against its type's schema; throws UnknownTypeError or SchemaError. */
export function parseMessage(value: unknown): DsipMessage {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new SchemaError("a message is a JSON object");
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== "string") throw new SchemaError("type: expected a string");
  if (!isMessageType(type)) throw new UnknownTypeError(type.slice(0, 64));
  const result = MESSAGE_SCHEMAS[type].safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join(".") : "(root)";
    throw new SchemaError(`${where}: ${issue?.message ?? "invalid"}`.slice(0, 200));
  }
  return result.data as DsipMessage;
}
