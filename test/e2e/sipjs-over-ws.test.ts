/**
 * sip.js (onsip, an independent WebSocket SIP stack) as the client over our WS
 * transport: OPTIONS, then an INVITE dialog (200, ACK, BYE). sip.js needs a
 * session description handler; a fixed-SDP one stands in for WebRTC, which
 * Node does not have.
 */
import { Inviter, type SessionDescriptionHandler, SessionState, UserAgent } from "sip.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket as WsWebSocket } from "ws";
import { type MinimalUas, startMinimalUas } from "../support/minimal-uas.js";
import { waitFor } from "../support/wait.js";

// Node 20 has no global WebSocket; sip.js's transport expects one.
const g = globalThis as { WebSocket?: unknown };
g.WebSocket ??= WsWebSocket;

const SDP =
  "v=0\r\no=- 4 4 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40004 RTP/AVP 0\r\n";

function fixedSdp(): SessionDescriptionHandler {
  return {
    close() {},
    getDescription: async () => ({ body: SDP, contentType: "application/sdp" }),
    hasDescription: (contentType: string) => contentType === "application/sdp",
    setDescription: async () => {},
    sendDtmf: () => false,
  };
}

describe("sip.js over our WebSocket transport", () => {
  let uas: MinimalUas;
  let ua: UserAgent;
  let port: number;

  beforeAll(async () => {
    uas = await startMinimalUas({
      // Timer L (64·T1) applies on WS too; a short T1 keeps the leak check quick.
      timers: { t1: 20, t2: 4000, t4: 1000 },
      transports: [{ protocol: "WS", host: "127.0.0.1", port: 0 }],
    });
    port = uas.stack.transport("WS")!.local.port;
    ua = new UserAgent({
      uri: UserAgent.makeURI("sip:alice@example.com"),
      transportOptions: { server: `ws://127.0.0.1:${port}` },
      sessionDescriptionHandlerFactory: () => fixedSdp(),
      logLevel: "error",
    });
    await ua.start();
  });

  afterAll(async () => {
    await ua?.stop();
    await uas?.stack.close();
  });

  it("gets 200 for OPTIONS", async () => {
    const target = UserAgent.makeURI(`sip:bob@127.0.0.1:${port};transport=ws`)!;
    const core = ua.userAgentCore;
    const msg = core.makeOutgoingRequestMessage("OPTIONS", target, ua.configuration.uri, target, {});
    const status = await new Promise<number>((resolve) => {
      core.request(msg, {
        onAccept: (r) => resolve(r.message.statusCode ?? 0),
        onReject: (r) => resolve(r.message.statusCode ?? 0),
      });
    });
    expect(status).toBe(200);
  });

  it("sets up and tears down an INVITE dialog (200, ACK, BYE)", async () => {
    const target = UserAgent.makeURI(`sip:bob@127.0.0.1:${port};transport=ws`)!;
    const inviter = new Inviter(ua, target);
    const established = new Promise<void>((resolve, reject) => {
      inviter.stateChange.addListener((state) => {
        if (state === SessionState.Established) resolve();
        if (state === SessionState.Terminated) reject(new Error("terminated before established"));
      });
    });
    await inviter.invite();
    await established;
    await waitFor(() => uas.acks === 1, 3000, "ACK from sip.js");
    await inviter.bye();
    await waitFor(() => inviter.state === SessionState.Terminated, 3000, "BYE answered");
    await waitFor(() => uas.stack.counts().total === 0, 10_000, "empty transaction table");
    expect(uas.invites).toBe(1);
  });
});
