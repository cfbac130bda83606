/** Drives one transaction state machine on fake time, recording what it sends. */
import { createRequest, createResponse } from "../../src/sip/builder.js";
import type { SipRequest, SipResponse } from "../../src/sip/message.js";
import { parseMessage } from "../../src/sip/parser.js";
import { FakeClock, TimerValues } from "../../src/sip/timers.js";
import type { RetransmitCounters, Transaction, TransactionContext } from "../../src/sip/transaction/base.js";

export interface Harness {
  clock: FakeClock;
  ctx: TransactionContext;
  counters: RetransmitCounters;
  /** Everything sent, parsed back, with the fake time it was sent at. */
  sent: Array<{ at: number; msg: SipRequest | SipResponse }>;
  terminated: Transaction[];
  /** Makes the next send fail asynchronously. */
  failNextSend(): void;
}

export function harness(reliable: boolean): Harness {
  const clock = new FakeClock();
  const sent: Harness["sent"] = [];
  const terminated: Transaction[] = [];
  let fail = false;
  const counters: RetransmitCounters = { requestRetransmits: 0, responseRetransmits: 0, absorbed: 0 };
  const ctx: TransactionContext = {
    clock,
    timers: new TimerValues(),
    reliable,
    destination: { protocol: reliable ? "TCP" : "UDP", host: "127.0.0.1", port: 5070 },
    send(data, onError) {
      if (fail) {
        fail = false;
        queueMicrotask(() => onError(new Error("boom")));
        return;
      }
      sent.push({ at: clock.now(), msg: parseMessage(data) as SipRequest | SipResponse });
    },
    onTerminated: (tx) => terminated.push(tx),
  };
  return {
    clock,
    ctx,
    counters,
    sent,
    terminated,
    failNextSend() {
      fail = true;
    },
  };
}

export function invite(branch = "z9hG4bKtest1", method = "INVITE"): SipRequest {
  return createRequest({
    method,
    uri: "sip:bob@127.0.0.1:5070",
    headers: [
      ["Via", `SIP/2.0/UDP 127.0.0.1:5060;branch=${branch}`],
      ["Max-Forwards", "70"],
      ["From", "<sip:alice@127.0.0.1>;tag=a1"],
      ["To", "<sip:bob@127.0.0.1>"],
      ["Call-ID", "call-1@test"],
      ["CSeq", `1 ${method}`],
    ],
  });
}

export function response(req: SipRequest, status: number): SipResponse {
  // Round-trip through the wire so the response looks received.
  const res = createResponse(req, status, { toTag: status > 100 ? "b1" : undefined });
  return parseMessage(
    Buffer.from(
      `${res.startLine()}\r\n${res.headers.map((h) => `${h.name}: ${h.value}`).join("\r\n")}\r\nContent-Length: 0\r\n\r\n`,
    ),
  ) as SipResponse;
}

/** Times (fake ms) at which messages matching `pred` were sent. */
export function times(h: Harness, pred: (m: SipRequest | SipResponse) => boolean): number[] {
  return h.sent.filter((s) => pred(s.msg)).map((s) => s.at);
}
