/**
 * The DSIP signalling of a caller whose media lives elsewhere (a browser): a
 * signed dsip.invite with a given SDP, the answer's SDP (or early media's),
 * and dsip.bye / dsip.cancel, as src/softphone/softphone.ts sends them
 * (`to` = the invite's `to`, `correlates` = the invite id).
 */
import type { DsipMessage, MessageOf } from "../../src/agent/messages.js";
import type { Arrival, DsipClient } from "../../src/agent/ws-client.js";
import { FEATURES } from "../../src/softphone/softphone.js";

export interface OutgoingCall {
  id: string;
  /** Every in-dialog message received for the call, in order. */
  messages: DsipMessage[];
  /** The answer's SDP (the early media SDP if that came first); rejects on dsip.error or timeout. */
  answered(timeoutMs: number): Promise<string>;
  /** Resolves with the far end's dsip.bye. */
  remoteBye(timeoutMs: number): Promise<MessageOf<"dsip.bye">>;
  bye(reason?: string): void;
  cancel(reason?: string): void;
}

export class DsipCaller {
  constructor(readonly client: DsipClient) {}

  invite(to: string, sdp: string, ringTimeoutS = 30): OutgoingCall {
    const invite = this.client.send({
      type: "dsip.invite",
      to,
      cap: { ver: "1.0", features: FEATURES },
      exp: Math.floor(Date.now() / 1000) + ringTimeoutS + 5,
      media: { sdp, codecs: ["PCMU/8000", "telephone-event/8000"] },
    });
    const messages: DsipMessage[] = [];
    const waiters = new Set<() => void>();
    const onMessage = (a: Arrival): void => {
      if ((a.message as { correlates?: string }).correlates !== invite.id) return;
      messages.push(a.message);
      for (const w of waiters) w();
    };
    const onRefused = (e: MessageOf<"dsip.error">): void => onMessage({ message: e } as Arrival);
    this.client.on("message", onMessage);
    this.client.on("refused", onRefused);
    const until = <T>(pick: () => T | undefined, timeoutMs: number, what: string): Promise<T> =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          try {
            const v = pick();
            if (v !== undefined) {
              done();
              resolve(v);
            }
          } catch (err) {
            done();
            reject(err);
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(
            new Error(`no ${what} within ${timeoutMs} ms (got ${messages.map((m) => m.type).join(", ")})`),
          );
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    const send = (type: "dsip.bye" | "dsip.cancel", reason: string): void => {
      this.client.send({ type, to, correlates: invite.id, reason });
      this.client.off("message", onMessage);
      this.client.off("refused", onRefused);
    };
    return {
      id: invite.id,
      messages,
      answered: (timeoutMs) =>
        until(
          () => {
            for (const m of messages) {
              if (m.type === "dsip.error")
                throw new Error(`call rejected: ${m.code} ${m.reason} ${m.detail ?? ""}`);
              if (m.type === "dsip.answer") return m.media.sdp;
              if (m.type === "dsip.progress" && m.media?.sdp) return m.media.sdp;
            }
            return undefined;
          },
          timeoutMs,
          "dsip.answer",
        ),
      remoteBye: (timeoutMs) =>
        until(
          () => messages.find((m): m is MessageOf<"dsip.bye"> => m.type === "dsip.bye"),
          timeoutMs,
          "dsip.bye",
        ),
      bye: (reason = "hangup") => send("dsip.bye", reason),
      cancel: (reason = "abort") => send("dsip.cancel", reason),
    };
  }
}

/**
 * The DSIP signalling of a callee whose media lives elsewhere: every dsip.invite
 * to the client's DID rings (dsip.progress, when the caller lists `progress`)
 * and is answered with the SDP `answer(offer)` gives; in-dialog messages are kept.
 */
export class DsipCallee {
  readonly invites: MessageOf<"dsip.invite">[] = [];
  /** In-dialog messages for any invite answered here. */
  readonly messages: DsipMessage[] = [];
  readonly errors: Error[] = [];

  constructor(
    readonly client: DsipClient,
    answer: (offer: string) => Promise<string>,
  ) {
    client.on("message", ({ message: m }) => {
      if (m.type === "dsip.invite") {
        if (m.to !== client.did) return;
        this.invites.push(m);
        const reply = { to: m.from, correlates: m.id };
        if (m.cap.features.includes("progress"))
          client.send({ type: "dsip.progress", ...reply, stage: "ringing" });
        void answer(m.media.sdp).then(
          (sdp) =>
            client.send({
              type: "dsip.answer",
              ...reply,
              cap: { ver: "1.0", features: FEATURES },
              media: { sdp },
            }),
          (err: Error) => {
            this.errors.push(err);
            client.send({
              type: "dsip.error",
              ...reply,
              code: 488,
              reason: "media:not-acceptable",
              detail: err.message,
            });
          },
        );
        return;
      }
      const correlates = (m as { correlates?: string }).correlates;
      if (this.invites.some((i) => i.id === correlates)) this.messages.push(m);
    });
  }

  /** Hangs up the newest call. */
  bye(reason = "hangup"): void {
    const invite = this.invites.at(-1);
    if (!invite) throw new Error("DsipCallee: no call");
    this.client.send({ type: "dsip.bye", to: invite.from, correlates: invite.id, reason });
  }
}
