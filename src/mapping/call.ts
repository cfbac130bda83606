/**
 * Call messages across the boundary: dsip.invite ⇄ INVITE, progress ⇄ 18x,
 * answer ⇄ 200, update ⇄ re-INVITE/UPDATE, bye ⇄ BYE, cancel ⇄ CANCEL,
 * dsip.error ⇄ final failure. Plain data in, plain data out: the caller picks
 * ids and timestamps, runs SDP through the media engine, signs and sends.
 * What cannot be mapped throws a MappingError carrying both sides' answers.
 */
import type { MessageOf, MessageType } from "../agent/messages.js";
import type { Directory } from "./directory.js";
import { MappingError } from "./errors.js";
import { type NumberContext, resolveDsipTarget, tnDidFor, toE164 } from "./numbers.js";
import { isHoldSdp, looksLikeSdp, sdpCodecs } from "./sdp.js";
import {
  dsipErrorToSipStatus,
  parseReasonHeaders,
  reasonHeaderValue,
  type SipStatus,
  sipStatusToDsipError,
} from "./status.js";

/**
 * A message before signing, with its declared fields kept. (`Unsigned` is
 * `Omit`, which on the schemas' loose index signature keeps only the index
 * signature; this drops it instead, and stays assignable to `Unsigned`.)
 */
export type DsipOut<T extends MessageType> = {
  [K in keyof MessageOf<T> as K extends "sig" ? never : string extends K ? never : K]: MessageOf<T>[K];
};
type Out<T extends MessageType> = DsipOut<T>;

export const DSIP_CAP_VERSION = "1.0";
/** What the gateway understands (docs/dsip-wire.md §5); it never sends e2ee or payments. */
export const GATEWAY_FEATURES: readonly string[] = ["webrtc", "progress", "cancel", "ping"];

/** Envelope fields of a message the gateway sends; ids and the clock are the caller's. */
export interface Envelope {
  id: string;
  /** Unix seconds. */
  ts: number;
  from: string;
  to: string;
  exp?: number | undefined;
}

/** Envelope fields of an in-call message: `correlates` is the dsip.invite's id. */
export interface DialogEnvelope extends Envelope {
  correlates: string;
}

const SDP = "application/sdp";

function envelope(e: Envelope): Envelope {
  return { id: e.id, ts: e.ts, from: e.from, to: e.to, ...(e.exp !== undefined ? { exp: e.exp } : {}) };
}

function dialog(e: DialogEnvelope): DialogEnvelope {
  return { ...envelope(e), correlates: e.correlates };
}

// ============================================================ SIP → DSIP

export interface SipInviteInput {
  /** The dsip.invite's id: the DSIP call id (CallSession maps it to the SIP Call-ID). */
  id: string;
  ts: number;
  exp?: number;
  /** The gateway's did:web: the sender when the caller has no presentable number. */
  gatewayDid: string;
  /** Who the called number or user reaches (Directory.didForCalled). */
  calleeDid: string;
  /** The caller's number in E.164 (normalised with the trunk's format), when it has one. */
  callerNumber?: string;
  /** From's display name. */
  callerDisplay?: string;
  /** The caller asked for privacy (Privacy: id or header, or an anonymous From). */
  callerPrivacy?: boolean;
  /** The WebRTC offer the media engine made from the SIP offer. */
  sdp: string | undefined;
  /** The SIP Priority header: "emergency" and "psap-callback" make a DSIP emergency-priority call. */
  priority?: string;
  /** The caller's identity as verified (RCID / STIR result); carried as given. */
  identity?: Record<string, unknown>;
  /** Defaults to GATEWAY_FEATURES. */
  features?: readonly string[];
}

/** The extension field naming the SIP caller on a dsip.invite (signed like every field). */
export interface CallerInfo {
  number?: string;
  display?: string;
}

/**
 * An INVITE (already through the media engine) as a dsip.invite. The sender
 * is the caller's tn DID under the gateway (`did:web:<gw>:tn:<digits>`, signed
 * with the gateway's key) so that the callee can call back and a client can
 * show the number; a withheld or unknown caller is sent as the gateway itself.
 */
export function sipInviteToDsipInvite(input: SipInviteInput): Out<"dsip.invite"> & { caller?: CallerInfo } {
  if (!looksLikeSdp(input.sdp))
    // Delayed offer: DSIP has no offerless invite and the media engine needs the RTP offer.
    throw new MappingError("sip", 488, "INVITE without an SDP offer (delayed offer is not supported)");
  const withheld = input.callerPrivacy === true;
  const number = withheld ? undefined : input.callerNumber;
  const e164 = number?.startsWith("+") ? toE164(number) : undefined;
  const from = e164 !== undefined ? tnDidFor(input.gatewayDid, e164) : input.gatewayDid;
  const caller: CallerInfo = {
    ...(e164 !== undefined ? { number: e164 } : {}),
    ...(!withheld && input.callerDisplay ? { display: input.callerDisplay.slice(0, 128) } : {}),
  };
  const codecs = sdpCodecs(input.sdp);
  const emergency = /^\s*(emergency|psap-callback)\s*$/i.test(input.priority ?? "");
  return {
    type: "dsip.invite",
    ...envelope({ id: input.id, ts: input.ts, from, to: input.calleeDid, exp: input.exp }),
    cap: { ver: DSIP_CAP_VERSION, features: [...(input.features ?? GATEWAY_FEATURES)] },
    media: { sdp: input.sdp, ...(codecs.length > 0 ? { codecs } : {}) },
    ...(Object.keys(caller).length > 0 ? { caller } : {}),
    ...(input.identity ? { identity: input.identity } : {}),
    ...(emergency ? { priority: "emergency" as const } : {}),
  };
}

export interface SipProvisionalInput {
  /** 100–199. */
  status: number;
  /** The body of the 18x after the media engine, when it had SDP. */
  sdp?: string | undefined;
}

/**
 * A provisional response as dsip.progress: an 18x with SDP is early media
 * (whatever its number: carriers send 180 with SDP too), 180 is ringing, other
 * provisional responses (100, 181, 182, 183 without SDP) say the call is trying.
 */
export function sipProvisionalToDsipProgress(
  env: DialogEnvelope,
  input: SipProvisionalInput,
): Out<"dsip.progress"> {
  if (!Number.isInteger(input.status) || input.status < 100 || input.status > 199)
    throw new RangeError(`${input.status} is not a provisional status`);
  const base = { type: "dsip.progress" as const, ...dialog(env) };
  if (looksLikeSdp(input.sdp)) return { ...base, stage: "early-media", media: { sdp: input.sdp } };
  return { ...base, stage: input.status === 180 ? "ringing" : "trying" };
}

export interface SipAnswerInput {
  /** The 200's SDP after the media engine. */
  sdp?: string | undefined;
  /** The answer already received in a reliable 18x, which a 200 need not repeat (RFC 3262). */
  earlySdp?: string | undefined;
}

/** A 200 OK to the INVITE as dsip.answer. The ACK is the SIP leg's own business. */
export function sipAnswerToDsipAnswer(env: DialogEnvelope, input: SipAnswerInput): Out<"dsip.answer"> {
  const sdp = looksLikeSdp(input.sdp) ? input.sdp : looksLikeSdp(input.earlySdp) ? input.earlySdp : undefined;
  if (sdp === undefined) throw new MappingError("sip", 488, "200 OK without an SDP answer");
  return { type: "dsip.answer", ...dialog(env), media: { sdp } };
}

/** dsip.update `changes` as the gateway writes and reads it. */
export interface MediaChanges {
  /** The new offer; always present (a re-offer is the only mid-call change SIP has). */
  media: { sdp: string };
  /** Derived from the SDP's direction; the SDP wins if a peer's flag disagrees. */
  hold: boolean;
}

export interface SipReofferInput {
  method: "INVITE" | "UPDATE";
  /** The offer after the media engine; absent for a session refresh or an offerless re-INVITE. */
  sdp?: string | undefined;
}

export type SipReofferResult =
  | { kind: "update"; message: Out<"dsip.update"> & { changes: MediaChanges } }
  /**
   * No offer: a session-timer refresh (RFC 4028) or an offerless re-INVITE.
   * Nothing goes to DSIP; the SIP leg answers with the current SDP.
   */
  | { kind: "refresh" };

/** A re-INVITE or UPDATE inside the dialog. */
export function sipReofferToDsipUpdate(env: DialogEnvelope, input: SipReofferInput): SipReofferResult {
  if (input.sdp === undefined || input.sdp === "") return { kind: "refresh" };
  if (!looksLikeSdp(input.sdp)) throw new MappingError("sip", 488, `${input.method} body is not SDP`);
  return {
    kind: "update",
    message: {
      type: "dsip.update",
      ...dialog(env),
      changes: { media: { sdp: input.sdp }, hold: isHoldSdp(input.sdp) },
    },
  };
}

/** BYE as dsip.bye; its Reason header values (if any) become `reason`. */
export function sipByeToDsipBye(env: DialogEnvelope, reasonHeaders: readonly string[] = []): Out<"dsip.bye"> {
  return { type: "dsip.bye", ...dialog(env), reason: clearingFromSip(reasonHeaders) ?? "hangup" };
}

/** CANCEL as dsip.cancel; `reason` only when the CANCEL says why (e.g. answered elsewhere). */
export function sipCancelToDsipCancel(
  env: DialogEnvelope,
  reasonHeaders: readonly string[] = [],
): Out<"dsip.cancel"> {
  const reason = clearingFromSip(reasonHeaders);
  return { type: "dsip.cancel", ...dialog(env), ...(reason !== undefined ? { reason } : {}) };
}

/** A final failure (3xx–6xx) to the gateway's INVITE as dsip.error. */
export function sipFailureToDsipError(
  env: DialogEnvelope,
  status: number,
  reasonPhrase?: string,
): Out<"dsip.error"> {
  return { type: "dsip.error", ...dialog(env), ...sipStatusToDsipError(status, reasonPhrase) };
}

// ============================================================ DSIP → SIP

export interface DsipToSipContext {
  /** The gateway's did:web: its tn DIDs name numbers. */
  gatewayDid: string;
  directory: Directory;
  /** Host part of the From (and PAI) URI: the gateway's SIP domain as the trunk knows it. */
  fromHost: string;
  /** Reads a local `tel:` target without phone-context (the gateway's `numbers`). */
  numbers?: NumberContext;
  /** Add P-Asserted-Identity (trunks that take the gateway's word for the caller). */
  assertIdentity?: boolean;
  /** Add X-DSIP-From with the caller's DID (trusted peers that want it; never when anonymous). */
  exposeDid?: boolean;
}

export interface SipInviteOutput {
  /**
   * `tel:+15551234567` (or `tel:911` for a dial string). The integrator builds
   * the trunk's Request-URI and To from `target` with the chosen route.
   */
  requestUri: string;
  target: { kind: "number"; e164: string } | { kind: "dialled"; digits: string };
  from: { uri: string; display?: string };
  to: { uri: string };
  /** Extra headers in order: Privacy, P-Asserted-Identity, Priority, X-DSIP-From. */
  headers: Array<[string, string]>;
  body: string;
  contentType: typeof SDP;
  emergency: boolean;
}

export const ANONYMOUS_FROM = { uri: "sip:anonymous@anonymous.invalid", display: "Anonymous" } as const;

/**
 * dsip.invite → INVITE. The target is a tel: URI or one of the gateway's tn
 * DIDs; any other DID is a DSIP callee, not a SIP one (404). From shows the
 * directory's number for the calling DID, else is anonymous (RFC 3323 §4.1.1.3)
 * with Privacy: id.
 */
export function dsipInviteToSipInvite(msg: MessageOf<"dsip.invite">, ctx: DsipToSipContext): SipInviteOutput {
  const sdp = (msg.media as { sdp?: unknown } | undefined)?.sdp;
  if (typeof sdp !== "string" || sdp === "")
    throw new MappingError("dsip", 422, "dsip.invite has no media.sdp", "schema:invalid");
  if (!looksLikeSdp(sdp)) throw new MappingError("dsip", 488, "media.sdp is not SDP");
  const resolved = resolveDsipTarget(msg.to, ctx.gatewayDid, ctx.numbers ?? {});
  if (resolved.kind === "did")
    throw new MappingError("dsip", 404, `${msg.to} is not a number the gateway serves`, "number:not-found");
  const requestUri = resolved.kind === "number" ? `tel:${resolved.e164}` : `tel:${resolved.digits}`;
  const presented = ctx.directory.presentedFor(msg.from);
  const headers: Array<[string, string]> = [];
  let from: SipInviteOutput["from"];
  if (presented.e164 !== undefined) {
    const uri = `sip:${presented.e164}@${ctx.fromHost};user=phone`;
    from = { uri, ...(presented.display !== undefined ? { display: presented.display } : {}) };
    if (ctx.assertIdentity) headers.push(["P-Asserted-Identity", `<${uri}>`]);
    if (ctx.exposeDid) headers.push(["X-DSIP-From", `<${msg.from}>`]);
  } else {
    from = { ...ANONYMOUS_FROM };
    headers.push(["Privacy", "id"]);
  }
  const emergency = msg.priority === "emergency";
  if (emergency) headers.push(["Priority", "emergency"]);
  return {
    requestUri,
    target: resolved,
    from,
    to: { uri: requestUri },
    headers,
    body: sdp,
    contentType: SDP,
    emergency,
  };
}

export interface SipResponseOutput {
  status: number;
  reasonPhrase: string;
  body?: string;
  contentType?: typeof SDP;
}

/**
 * dsip.progress → 18x: ringing is 180 (with SDP when it carries media),
 * early-media is 183 with SDP. "trying" maps to nothing: the SIP transaction
 * already sent 100 Trying.
 */
export function dsipProgressToSip(msg: MessageOf<"dsip.progress">): SipResponseOutput | undefined {
  const sdp = msg.media?.sdp;
  if (msg.stage === "trying") return undefined;
  if (msg.stage === "ringing")
    return looksLikeSdp(sdp)
      ? { status: 180, reasonPhrase: "Ringing", body: sdp, contentType: SDP }
      : { status: 180, reasonPhrase: "Ringing" };
  if (!looksLikeSdp(sdp))
    throw new MappingError("dsip", 422, "early-media progress without media.sdp", "schema:invalid");
  return { status: 183, reasonPhrase: "Session Progress", body: sdp, contentType: SDP };
}

/** dsip.answer → 200 OK with the answer SDP (the SIP leg then gets its ACK; DSIP has no ACK). */
export function dsipAnswerToSip(msg: MessageOf<"dsip.answer">): SipResponseOutput {
  const sdp = msg.media?.sdp;
  if (typeof sdp !== "string" || sdp === "")
    throw new MappingError("dsip", 422, "dsip.answer has no media.sdp", "schema:invalid");
  if (!looksLikeSdp(sdp)) throw new MappingError("dsip", 488, "media.sdp is not SDP");
  return { status: 200, reasonPhrase: "OK", body: sdp, contentType: SDP };
}

export interface SipReofferOutput {
  method: "INVITE" | "UPDATE";
  body: string;
  contentType: typeof SDP;
  hold: boolean;
}

export interface UpdateContext {
  /** "early": before the 200 (only UPDATE can re-offer then, RFC 3311); "confirmed": after. */
  dialogState: "early" | "confirmed";
  /** The peer listed UPDATE in Allow. */
  peerAllowsUpdate: boolean;
}

/**
 * dsip.update → re-INVITE once the call is up (every carrier takes it), UPDATE
 * while it is early. `changes.media.sdp` is required: SIP has no mid-call
 * change without an offer.
 */
export function dsipUpdateToSip(msg: MessageOf<"dsip.update">, ctx: UpdateContext): SipReofferOutput {
  const changes = msg.changes as { media?: { sdp?: unknown }; hold?: unknown };
  const sdp = changes.media?.sdp;
  if (typeof sdp !== "string" || sdp === "")
    throw new MappingError("dsip", 422, "dsip.update without changes.media.sdp", "schema:invalid");
  if (!looksLikeSdp(sdp)) throw new MappingError("dsip", 488, "changes.media.sdp is not SDP");
  const hold = isHoldSdp(sdp);
  if (changes.hold !== undefined && changes.hold !== hold)
    throw new MappingError(
      "dsip",
      422,
      `changes.hold is ${String(changes.hold)} but the SDP ${hold ? "holds" : "does not hold"}`,
      "schema:invalid",
    );
  if (ctx.dialogState === "early" && !ctx.peerAllowsUpdate)
    throw new MappingError("dsip", 488, "the SIP peer cannot take an offer before answering (no UPDATE)");
  return { method: ctx.dialogState === "early" ? "UPDATE" : "INVITE", body: sdp, contentType: SDP, hold };
}

export interface SipRequestOutput {
  method: "BYE" | "CANCEL";
  headers: Array<[string, string]>;
}

/** dsip.bye → BYE, `reason` as a Reason header. */
export function dsipByeToSip(msg: MessageOf<"dsip.bye">): SipRequestOutput {
  const reason = clearingToSip(msg.reason);
  return { method: "BYE", headers: reason ? [["Reason", reason]] : [] };
}

/** dsip.cancel → CANCEL, `reason` as a Reason header. */
export function dsipCancelToSip(msg: MessageOf<"dsip.cancel">): SipRequestOutput {
  const reason = clearingToSip(msg.reason);
  return { method: "CANCEL", headers: reason ? [["Reason", reason]] : [] };
}

/** dsip.error → the SIP final status (with an RFC 3326 Reason header) the SIP caller is answered with. */
export function dsipErrorToSip(msg: MessageOf<"dsip.error">): SipStatus {
  return dsipErrorToSipStatus(msg.code, msg.reason, msg.detail);
}

// ============================================================ clearing reasons

/** bye/cancel `reason` tokens ⇄ RFC 3326 reason-values. */
export const CLEARING_REASONS: ReadonlyArray<{
  reason: string;
  protocol: "Q.850" | "SIP";
  cause: number;
  text: string;
}> = [
  { reason: "hangup", protocol: "Q.850", cause: 16, text: "Normal call clearing" },
  { reason: "busy", protocol: "Q.850", cause: 17, text: "User busy" },
  { reason: "no-answer", protocol: "Q.850", cause: 19, text: "No answer from user" },
  { reason: "declined", protocol: "Q.850", cause: 21, text: "Call rejected" },
  { reason: "error", protocol: "Q.850", cause: 41, text: "Temporary failure" },
  { reason: "media-timeout", protocol: "Q.850", cause: 102, text: "Recovery on timer expiry" },
  // RFC 3326 §2's example: a forking proxy cancels the other branches.
  { reason: "answered-elsewhere", protocol: "SIP", cause: 200, text: "Call completed elsewhere" },
];

function clearingToSip(reason: string | undefined): string | undefined {
  if (reason === undefined || reason === "") return undefined;
  const known = CLEARING_REASONS.find((r) => r.reason === reason);
  if (known) return reasonHeaderValue(known.cause, known.text, known.protocol);
  const q850 = /^q850:([0-9]{1,3})$/.exec(reason);
  if (q850) return reasonHeaderValue(Number(q850[1]), undefined, "Q.850");
  const sip = /^sip:([1-6][0-9]{2})$/.exec(reason);
  if (sip) return reasonHeaderValue(Number(sip[1]));
  // A free-form reason still ends the call normally; the text travels for the logs.
  return reasonHeaderValue(16, reason, "Q.850");
}

function clearingFromSip(values: readonly string[]): string | undefined {
  const parsed = parseReasonHeaders(values).filter(
    (r) =>
      r.cause !== undefined && (r.protocol.toUpperCase() === "Q.850" || r.protocol.toUpperCase() === "SIP"),
  );
  for (const r of parsed) {
    const known = CLEARING_REASONS.find(
      (c) => c.protocol === r.protocol.toUpperCase() && c.cause === r.cause,
    );
    if (known) return known.reason;
  }
  const first = parsed[0];
  if (!first) return undefined;
  return first.protocol.toUpperCase() === "Q.850" ? `q850:${first.cause}` : `sip:${first.cause}`;
}
