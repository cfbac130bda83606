/**
 * A DSIP softphone for tests and demos: places and answers calls over a
 * gateway's /dsip WebSocket, with real WebRTC audio (see media.ts).
 *
 * Caller: dsip.invite (full SDP) → dsip.progress* → dsip.answer | dsip.error;
 * dsip.cancel when it gives up before an answer, dsip.bye after. Callee:
 * dsip.progress ringing → dsip.answer, or nothing until dsip.cancel. In-dialog
 * messages go to the invite's `to` (caller) or `from` (callee), so a call to a
 * `tel:` target answered by the gateway's own DID keeps being routed the same way.
 */
import { EventEmitter } from "node:events";
import { readFile } from "node:fs/promises";
import { MessageAcceptor } from "../agent/acceptance.js";
import type { DidDocument } from "../agent/did-document.js";
import { AgentDidResolver, KeyDirectory } from "../agent/did-resolution.js";
import type { DsipMessage, MessageOf } from "../agent/messages.js";
import { tnDidDocumentFromGateway } from "../agent/tn-did.js";
import { type Identity, loadIdentity } from "../agent/wallet.js";
import { type Arrival, DsipClient } from "../agent/ws-client.js";
import { writeWav } from "./audio.js";
import { AudioLeg, type MediaOptions } from "./media.js";

export const FEATURES = ["webrtc", "progress", "cancel"];
const CAP = { ver: "1.0", features: FEATURES };

export interface SoftphoneOptions {
  /** Defaults for every call's media (ICE addresses, STUN). */
  media?: Omit<MediaOptions, "toneHz">;
  /** How long ICE + DTLS may take after the answer before the call is given up. */
  connectTimeoutMs?: number;
}

export interface CallOptions {
  /** Tone to send (Hz); silence when absent. */
  tone?: number | undefined;
  /** Write what was heard to this WAV file (16-bit PCM, 8 kHz, mono). */
  record?: string | undefined;
  /** Hang up (dsip.bye) this long after the answer; the call runs until the far end hangs up otherwise. */
  durationS?: number | undefined;
  /** Give up (dsip.cancel) when not answered within this long. Default 30 s. */
  ringTimeoutS?: number | undefined;
  /** Aborting cancels an unanswered call and hangs up an answered one. */
  signal?: AbortSignal | undefined;
}

export interface ListenOptions {
  /** Answer incoming calls; without it they ring until the caller cancels. */
  answer: boolean;
  tone?: number | undefined;
  /** WAV file per call; `{call}` in the name is replaced by the call id (otherwise the last call wins). */
  record?: string | undefined;
  /** Ring this long before answering. Default 200 ms, so the caller sees `ringing`. */
  answerAfterMs?: number | undefined;
  /** The callee hangs up this long after answering. */
  durationS?: number | undefined;
}

export type CallStatus =
  /** Answered and ended by a BYE from either side. */
  | "completed"
  /** Refused with a dsip.error (by the callee or the gateway). */
  | "rejected"
  /** Given up before an answer (timeout, abort, or the caller cancelled). */
  | "cancelled"
  /** Answered, but the media never came up or the call broke. */
  | "failed";

export interface CallResult {
  id: string;
  direction: "outgoing" | "incoming";
  /** The far end: the target for outgoing calls, the caller's DID for incoming ones. */
  peer: string;
  status: CallStatus;
  answered: boolean;
  endedBy: "local" | "remote";
  reason: string;
  /** The dsip.error that ended the call, when one did. */
  error?: { code: number; reason: string; detail?: string | undefined; from: string };
  /** Seconds from answer to end (0 if never answered). */
  durationS: number;
  packetsSent: number;
  packetsReceived: number;
  digits: string[];
  record?: string;
  /** Why the recording could not be written. */
  recordError?: string;
}

export type CallEvent =
  | { type: "incoming"; call: string; from: string }
  | { type: "ringing" | "trying"; call: string; from: string }
  | { type: "early-media"; call: string; from: string }
  | { type: "answered"; call: string; from: string }
  | { type: "media"; call: string; connected: boolean }
  | { type: "ended"; call: string; result: CallResult };

export interface SoftphoneEvents {
  call: [event: CallEvent];
}

type InDialog = MessageOf<
  "dsip.answer" | "dsip.progress" | "dsip.bye" | "dsip.cancel" | "dsip.ice" | "dsip.error"
>;

/** One call in progress, either direction. */
class Call {
  leg: AudioLeg | undefined;
  answered = false;
  answeredAt = 0;
  ended = false;
  timers: NodeJS.Timeout[] = [];
  /** The DID that answered: later BYEs must come from it. */
  answeredBy: string | undefined;
  /** Hang up this long after the answer. */
  hangupAfterMs: number | undefined;
  settle!: (result: CallResult) => void;
  readonly done: Promise<CallResult>;

  constructor(
    readonly id: string,
    readonly direction: "outgoing" | "incoming",
    readonly peer: string,
    readonly record: string | undefined,
  ) {
    this.done = new Promise((resolve) => {
      this.settle = resolve;
    });
  }
}

export class Softphone extends EventEmitter<SoftphoneEvents> {
  private readonly calls = new Map<string, Call>();
  private listening: ListenOptions | undefined;
  private readonly onMessage = (a: Arrival) => void this.dispatch(a.message);
  private readonly onRefused = (e: MessageOf<"dsip.error">) => void this.dispatch(e);

  constructor(
    readonly client: DsipClient,
    private readonly options: SoftphoneOptions = {},
  ) {
    super();
    client.on("message", this.onMessage);
    client.on("refused", this.onRefused);
  }

  /**
   * Connects with a key file and completes DID-Auth. The gateway's own did:web
   * document is taken from the gateway itself (a development gateway's did:web
   * is not reachable over HTTPS); every other DID resolves normally.
   */
  static async connect(options: {
    url: string;
    key: string | Identity;
    allowPrivate?: string[];
    ca?: string;
    reconnect?: boolean;
    softphone?: SoftphoneOptions;
  }): Promise<Softphone> {
    const identity = typeof options.key === "string" ? await loadIdentity(options.key) : options.key;
    const ws = new URL(options.url);
    const secure = ws.protocol === "wss:" || ws.protocol === "https:";
    let gatewayDoc: DidDocument | undefined;
    try {
      const res = await fetch(`${secure ? "https" : "http"}://${ws.host}/.well-known/did.json`, {
        signal: AbortSignal.timeout(5000),
        redirect: "error",
      });
      if (res.ok) gatewayDoc = (await res.json()) as DidDocument;
    } catch {
      // Resolved like any other DID then.
    }
    const ca = options.ca ? await readFile(options.ca, "utf8") : undefined;
    const resolver = new AgentDidResolver({
      web: { allowPrivateAddresses: options.allowPrivate ?? [], ...(ca ? { ca } : {}) },
      // The gateway's numbers (tn DIDs: callers from the phone network) carry the gateway's keys.
      ...(gatewayDoc
        ? {
            local: (did: string) =>
              did === gatewayDoc.id ? gatewayDoc : tnDidDocumentFromGateway(gatewayDoc, did),
          }
        : {}),
    });
    const client = new DsipClient({
      url: options.url,
      identity,
      acceptor: new MessageAcceptor({ keys: new KeyDirectory(resolver) }),
      reconnect: options.reconnect ?? false,
    });
    await client.start(10_000);
    return new Softphone(client, options.softphone);
  }

  get did(): string {
    return this.client.did;
  }

  /** Places a call and resolves when it is over, however it ended (never rejects for call failures). */
  async call(target: string, options: CallOptions = {}): Promise<CallResult> {
    const { leg, sdp } = await AudioLeg.offer({ ...this.options.media, toneHz: options.tone });
    const ringTimeoutS = options.ringTimeoutS ?? 30;
    let invite: DsipMessage;
    try {
      invite = this.client.send({
        type: "dsip.invite",
        to: target,
        cap: CAP,
        // A stored invite must not ring someone who comes online after the caller gave up.
        exp: Math.floor(Date.now() / 1000) + Math.ceil(ringTimeoutS) + 5,
        media: { sdp, codecs: ["PCMU/8000", "telephone-event/8000"] },
      });
    } catch (err) {
      await leg.close();
      throw err;
    }
    const call = new Call(invite.id, "outgoing", target, options.record);
    call.leg = leg;
    this.calls.set(call.id, call);
    call.timers.push(
      setTimeout(() => {
        if (!call.answered) void this.cancel(call, "timeout", `not answered within ${ringTimeoutS} s`);
      }, ringTimeoutS * 1000),
    );
    if (options.durationS !== undefined) call.hangupAfterMs = options.durationS * 1000;
    const signal = options.signal;
    if (signal) {
      const onAbort = () =>
        void (call.answered ? this.hangup(call, "hangup") : this.cancel(call, "abort", "aborted"));
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
      void call.done.then(() => signal.removeEventListener("abort", onAbort));
    }
    return call.done;
  }

  /** Starts handling incoming invites (until `stopListening`). */
  listen(options: ListenOptions): void {
    this.listening = options;
  }

  stopListening(): void {
    this.listening = undefined;
  }

  /** Hangs up (or cancels) every call in progress and waits for them to end. */
  async hangupAll(reason = "hangup"): Promise<CallResult[]> {
    const open = [...this.calls.values()];
    for (const call of open) {
      if (call.answered) void this.hangup(call, reason);
      else if (call.direction === "outgoing") void this.cancel(call, "abort", reason);
      else void this.reject(call, 480, "callee:temporarily-unavailable", reason);
    }
    return Promise.all(open.map((c) => c.done));
  }

  async close(): Promise<void> {
    await this.hangupAll("shutdown");
    this.client.off("message", this.onMessage);
    this.client.off("refused", this.onRefused);
    await this.client.close();
  }

  private async dispatch(message: DsipMessage): Promise<void> {
    if (message.type === "dsip.invite") {
      if (message.to === this.did) await this.incoming(message);
      return;
    }
    const correlates = (message as { correlates?: string }).correlates;
    const call = correlates === undefined ? undefined : this.calls.get(correlates);
    if (!call || call.ended) return;
    try {
      await (call.direction === "outgoing"
        ? this.onCallerMessage(call, message as InDialog)
        : this.onCalleeMessage(call, message as InDialog));
    } catch (err) {
      await this.finish(call, { status: "failed", endedBy: "local", reason: (err as Error).message });
    }
  }

  private async onCallerMessage(call: Call, m: InDialog): Promise<void> {
    const leg = call.leg!;
    switch (m.type) {
      case "dsip.progress":
        if (call.answered) return;
        if (m.media?.sdp && !leg.hasRemote) {
          // Early media: the provisional SDP is the answer as far as WebRTC is concerned.
          await leg.setAnswer(m.media.sdp);
          this.emit("call", { type: "early-media", call: call.id, from: m.from });
          void this.watchMedia(call);
        } else if (m.stage === "ringing" || m.stage === "trying") {
          this.emit("call", { type: m.stage, call: call.id, from: m.from });
        }
        return;
      case "dsip.answer":
        if (call.answered) return;
        call.answered = true;
        call.answeredAt = Date.now();
        call.answeredBy = m.from;
        // After early media the remote SDP is already in place; werift cannot re-apply an answer.
        if (!leg.hasRemote) {
          await leg.setAnswer(m.media.sdp);
          void this.watchMedia(call);
        }
        this.emit("call", { type: "answered", call: call.id, from: m.from });
        this.scheduleHangup(call);
        return;
      case "dsip.ice":
        await leg.addCandidate(m.candidate);
        return;
      case "dsip.bye":
        if (call.answeredBy !== undefined && m.from !== call.answeredBy) return;
        await this.finish(call, {
          status: call.answered ? "completed" : "rejected",
          endedBy: "remote",
          reason: m.reason ?? "bye",
        });
        return;
      case "dsip.error":
        await this.finish(call, {
          status: call.answered ? "failed" : "rejected",
          endedBy: "remote",
          reason: m.reason,
          error: { code: m.code, reason: m.reason, detail: m.detail, from: m.from },
        });
        return;
    }
  }

  private async onCalleeMessage(call: Call, m: InDialog): Promise<void> {
    if (m.from !== call.peer) return;
    switch (m.type) {
      case "dsip.cancel":
        if (call.answered) return;
        await this.finish(call, { status: "cancelled", endedBy: "remote", reason: m.reason ?? "cancel" });
        return;
      case "dsip.bye":
        await this.finish(call, {
          status: call.answered ? "completed" : "cancelled",
          endedBy: "remote",
          reason: m.reason ?? "bye",
        });
        return;
      case "dsip.ice":
        await call.leg?.addCandidate(m.candidate);
        return;
      case "dsip.error":
        await this.finish(call, {
          status: "failed",
          endedBy: "remote",
          reason: m.reason,
          error: { code: m.code, reason: m.reason, detail: m.detail, from: m.from },
        });
        return;
    }
  }

  private async incoming(invite: MessageOf<"dsip.invite">): Promise<void> {
    const opts = this.listening;
    if (!opts || this.calls.has(invite.id)) return;
    const record = opts.record?.replaceAll("{call}", invite.id.replace(/[^A-Za-z0-9_-]/g, "_"));
    const call = new Call(invite.id, "incoming", invite.from, record);
    this.calls.set(call.id, call);
    this.emit("call", { type: "incoming", call: call.id, from: invite.from });
    if (invite.cap.features.includes("progress")) {
      this.sendTo(call, { type: "dsip.progress", stage: "ringing" });
      this.emit("call", { type: "ringing", call: call.id, from: this.did });
    }
    // A caller that vanished without dsip.cancel must not leave the call ringing forever.
    if (invite.exp !== undefined) {
      const left = Math.max(0, invite.exp * 1000 - Date.now());
      call.timers.push(
        setTimeout(() => {
          if (!call.answered)
            void this.finish(call, { status: "cancelled", endedBy: "remote", reason: "invite expired" });
        }, left),
      );
    }
    if (!opts.answer) return;
    call.timers.push(
      setTimeout(
        () => void this.answer(call, invite, opts).catch(() => undefined),
        opts.answerAfterMs ?? 200,
      ),
    );
  }

  private async answer(call: Call, invite: MessageOf<"dsip.invite">, opts: ListenOptions): Promise<void> {
    if (call.ended) return;
    let answer: { leg: AudioLeg; sdp: string };
    try {
      answer = await AudioLeg.answer(invite.media.sdp, { ...this.options.media, toneHz: opts.tone });
    } catch (err) {
      await this.reject(call, 488, "media:not-acceptable", (err as Error).message);
      return;
    }
    // The caller may have cancelled while ICE was gathering.
    if (call.ended) {
      await answer.leg.close();
      return;
    }
    call.leg = answer.leg;
    call.answered = true;
    call.answeredAt = Date.now();
    this.sendTo(call, { type: "dsip.answer", cap: CAP, media: { sdp: answer.sdp } });
    this.emit("call", { type: "answered", call: call.id, from: this.did });
    void this.watchMedia(call);
    if (opts.durationS !== undefined) call.hangupAfterMs = opts.durationS * 1000;
    this.scheduleHangup(call);
  }

  private scheduleHangup(call: Call): void {
    const ms = call.hangupAfterMs;
    if (ms !== undefined) call.timers.push(setTimeout(() => void this.hangup(call, "hangup"), ms));
  }

  /** Gives up on a call whose media does not come up: a call without audio is a failure here. */
  private async watchMedia(call: Call): Promise<void> {
    const leg = call.leg;
    if (!leg) return;
    const ok = await leg.waitConnected(this.options.connectTimeoutMs ?? 10_000);
    if (call.ended) return;
    this.emit("call", { type: "media", call: call.id, connected: ok });
    if (!ok) {
      this.trySend(call, { type: "dsip.bye", reason: "media-failed" });
      await this.finish(call, { status: "failed", endedBy: "local", reason: "media did not connect" });
    }
  }

  private async hangup(call: Call, reason: string): Promise<void> {
    if (call.ended) return;
    this.trySend(call, { type: "dsip.bye", reason });
    await this.finish(call, { status: "completed", endedBy: "local", reason });
  }

  private async cancel(call: Call, reason: string, why: string): Promise<void> {
    if (call.ended) return;
    this.trySend(call, { type: "dsip.cancel", reason });
    await this.finish(call, { status: "cancelled", endedBy: "local", reason: why });
  }

  private async reject(call: Call, code: number, reason: string, detail: string): Promise<void> {
    if (call.ended) return;
    this.trySend(call, { type: "dsip.error", code, reason, detail: detail.slice(0, 500) });
    await this.finish(call, {
      status: "rejected",
      endedBy: "local",
      reason,
      error: { code, reason, detail, from: this.did },
    });
  }

  private sendTo(call: Call, message: Record<string, unknown> & { type: string }): void {
    this.client.send({ ...message, to: call.peer, correlates: call.id });
  }

  /** Best effort: a call must still end locally when the gateway connection is gone. */
  private trySend(call: Call, message: Record<string, unknown> & { type: string }): void {
    try {
      this.sendTo(call, message);
    } catch {
      // Not connected; the far end will time the call out on its own.
    }
  }

  private async finish(
    call: Call,
    outcome: Pick<CallResult, "status" | "endedBy" | "reason" | "error">,
  ): Promise<void> {
    if (call.ended) return;
    call.ended = true;
    for (const t of call.timers) clearTimeout(t);
    this.calls.delete(call.id);
    const leg = call.leg;
    const result: CallResult = {
      id: call.id,
      direction: call.direction,
      peer: call.peer,
      answered: call.answered,
      ...outcome,
      durationS: call.answered ? Math.round((Date.now() - call.answeredAt) / 10) / 100 : 0,
      packetsSent: leg?.packetsSent ?? 0,
      packetsReceived: leg?.packetsReceived ?? 0,
      digits: leg ? [...leg.digits] : [],
    };
    if (result.error === undefined) delete result.error;
    await leg?.close();
    if (call.record && leg) {
      try {
        await writeWav(call.record, leg.recording());
        result.record = call.record;
      } catch (err) {
        result.recordError = (err as Error).message;
      }
    }
    this.emit("call", { type: "ended", call: call.id, result });
    call.settle(result);
  }
}
