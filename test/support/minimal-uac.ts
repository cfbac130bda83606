/**
 * A load-generating UAC on our stack: INVITE → 200 → ACK → BYE → 200 per
 * call, a bounded number of calls at a bounded rate, for the SIPp `uas` and
 * Kamailio interop tests.
 */
import { createRequest } from "../../src/sip/builder.js";
import type { SipResponse } from "../../src/sip/message.js";
import type { SipStack } from "../../src/sip/sip-stack.js";
import type { InviteClientTransaction } from "../../src/sip/transaction/invite-client.js";
import { newTag } from "../../src/sip/transaction/keys.js";
import type { Endpoint } from "../../src/sip/transport/types.js";

const SDP =
  "v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40002 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

export interface UacRunResult {
  ok: number;
  failed: number;
  failures: string[];
}

export interface UacRun {
  stack: SipStack;
  /** Where requests go (the SIPp UAS, or the proxy). */
  dest: Endpoint;
  /** Request-URI host:port of the callee. */
  requestUri: string;
  calls: number;
  ratePerSecond: number;
  /** Hard cap on the whole run. */
  deadlineMs: number;
  /** Extra headers on the INVITE (e.g. Route). */
  inviteHeaders?: Array<[string, string]>;
}

/** Runs one call; resolves with undefined on success or a failure description. */
function oneCall(run: UacRun, n: number): Promise<string | undefined> {
  const { stack, dest } = run;
  const callId = `uac-${n}-${newTag()}@test`;
  const from = `<sip:uac@127.0.0.1>;tag=${newTag()}`;
  const invite = createRequest({
    method: "INVITE",
    uri: run.requestUri,
    headers: [
      ["From", from],
      ["To", `<${run.requestUri}>`],
      ["Call-ID", callId],
      ["CSeq", "1 INVITE"],
      ["Contact", `<${stack.contactUri(dest.protocol)}>`],
      ...(run.inviteHeaders ?? []),
      ["Content-Type", "application/sdp"],
    ],
    body: SDP,
  });
  return new Promise((resolve) => {
    let answered = false;
    const tx = stack.request(invite, dest, {
      onResponse: (res) => {
        if (res.status < 200 || answered) return;
        answered = true;
        if (res.status >= 300) {
          resolve(`INVITE got ${res.status}`);
          return;
        }
        stack.ack2xx(tx as InviteClientTransaction, res);
        sendBye(run, invite.header("from")!, res, callId).then(resolve);
      },
      onTimeout: () => resolve("INVITE timeout"),
      onTransportError: (e) => resolve(`INVITE transport error: ${e.message}`),
    });
  });
}

function sendBye(run: UacRun, from: string, ok: SipResponse, callId: string): Promise<string | undefined> {
  const { stack, dest } = run;
  const contact = ok.contact;
  const target = contact !== "*" && contact.length > 0 ? contact[0]!.uri : run.requestUri;
  const routes = ok.listValues("record-route").slice().reverse();
  const bye = createRequest({
    method: "BYE",
    uri: target,
    headers: [
      ...routes.map((r) => ["Route", r] as [string, string]),
      ["From", from],
      ["To", ok.header("to")!],
      ["Call-ID", callId],
      ["CSeq", "2 BYE"],
    ],
  });
  return new Promise((resolve) => {
    stack.request(bye, dest, {
      onResponse: (res) => {
        if (res.status >= 200) resolve(res.status === 200 ? undefined : `BYE got ${res.status}`);
      },
      onTimeout: () => resolve("BYE timeout"),
      onTransportError: (e) => resolve(`BYE transport error: ${e.message}`),
    });
  });
}

export async function runUac(run: UacRun): Promise<UacRunResult> {
  const result: UacRunResult = { ok: 0, failed: 0, failures: [] };
  const started = Date.now();
  const pending: Array<Promise<void>> = [];
  const interval = 1000 / run.ratePerSecond;
  for (let n = 0; n < run.calls; n++) {
    if (Date.now() - started > run.deadlineMs) break;
    const due = started + n * interval;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(
      oneCall(run, n).then((failure) => {
        if (failure === undefined) result.ok++;
        else {
          result.failed++;
          if (result.failures.length < 10) result.failures.push(failure);
        }
      }),
    );
  }
  const remaining = Math.max(0, run.deadlineMs - (Date.now() - started));
  await Promise.race([Promise.all(pending), new Promise((r) => setTimeout(r, remaining).unref())]);
  return result;
}
