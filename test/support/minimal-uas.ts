/** The smallest useful UAS on our stack: answers INVITE with 200 + SDP, and every other request with 200. */
import { SipStack, type SipStackOptions } from "../../src/sip/sip-stack.js";

const SDP = [
  "v=0",
  "o=- 1 1 IN IP4 127.0.0.1",
  "s=-",
  "c=IN IP4 127.0.0.1",
  "t=0 0",
  "m=audio 40000 RTP/AVP 0",
  "a=rtpmap:0 PCMU/8000",
  "",
].join("\r\n");

export interface MinimalUas {
  stack: SipStack;
  acks: number;
  invites: number;
}

export async function startMinimalUas(options: SipStackOptions): Promise<MinimalUas> {
  const stack = new SipStack(options);
  const uas: MinimalUas = { stack, acks: 0, invites: 0 };
  stack.onRequest = (tx) => {
    const req = tx.request;
    if (req.method === "INVITE") {
      uas.invites++;
      const protocol = tx.source.protocol;
      tx.reply(200, {
        headers: [
          // RFC 3261 §12.1.1: a dialog-creating 2xx carries the Record-Route set back to the caller.
          ...req.headerValues("record-route").map((v) => ["Record-Route", v] as [string, string]),
          ["Contact", `<${stack.contactUri(protocol)}>`],
          ["Content-Type", "application/sdp"],
        ],
        body: SDP,
      });
      return;
    }
    tx.reply(200);
  };
  stack.onAck = () => {
    uas.acks++;
  };
  await stack.start();
  return uas;
}
