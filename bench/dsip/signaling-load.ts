/**
 * The DSIP signaling load generator (a child of bench/dsip/run.ts): many
 * WebSocket connections, each its own did:key identity that passed DID-Auth,
 * every frame Ed25519-signed and every frame from the gateway verified, as a
 * real DSIP client would. Per call: dsip.invite to a tel: number → wait for
 * dsip.answer → hold → dsip.bye. Calls are spread over the connections round
 * robin and paced to the step's rate from one clock, so a slow gateway shows
 * up as setup time and failures rather than as a lower offered rate.
 */
import {
  AgentDidResolver,
  type DidDocument,
  DsipClient,
  type DsipMessage,
  didKeyIdentity,
  KeyDirectory,
  MessageAcceptor,
  tnDidDocumentFromGateway,
} from "../../src/agent/index.js";
import { generateSeed } from "../../src/agent/wallet.js";
import { AudioLeg } from "../../src/softphone/media.js";
import type { FromSignaling, SignalingStepResult, ToSignaling } from "./protocol.js";

const CAP = { ver: "1.0", features: ["webrtc", "progress", "cancel"] };

interface PendingCall {
  client: DsipClient;
  to: string;
  sentAt: number;
  timer: NodeJS.Timeout;
}

let clients: DsipClient[] = [];
let offerSdp = "";

function reply(m: FromSignaling): void {
  process.send?.(m);
}

/**
 * A WebRTC offer as the softphone would send it (werift, host candidates), made
 * once: the gateway parses and maps the same bytes a browser's invite carries,
 * without the generator paying for a peer connection per call.
 */
async function realisticOffer(): Promise<string> {
  const { leg, sdp } = await AudioLeg.offer({
    iceAdditionalHostAddresses: ["127.0.0.1"],
    gatherTimeoutMs: 2000,
  });
  await leg.close();
  return sdp;
}

async function setup(m: Extract<ToSignaling, { type: "setup" }>): Promise<void> {
  // The gateway's answers come from its tn DIDs, whose documents derive from its own (docs/mapping.md).
  const gatewayDoc = (await (await fetch(`${m.httpBase}/.well-known/did.json`)).json()) as DidDocument;
  const resolver = new AgentDidResolver({
    local: (did) => (did === gatewayDoc.id ? gatewayDoc : tnDidDocumentFromGateway(gatewayDoc, did)),
  });
  const acceptor = new MessageAcceptor({ keys: new KeyDirectory(resolver) });
  offerSdp = m.offerSdp
    ? await realisticOffer()
    : "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nc=IN IP4 127.0.0.1\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
  clients = Array.from(
    { length: m.connections },
    () =>
      new DsipClient({
        url: m.url,
        identity: didKeyIdentity(generateSeed()),
        acceptor,
        reconnect: false,
      }),
  );
  // In small batches: 50 simultaneous DID-Auth handshakes are not what is being measured.
  for (let i = 0; i < clients.length; i += 10)
    await Promise.all(clients.slice(i, i + 10).map((c) => c.start()));
  reply({ type: "ready", connections: clients.length, sdpBytes: Buffer.byteLength(offerSdp) });
}

function step(m: Extract<ToSignaling, { type: "step" }>): Promise<SignalingStepResult> {
  const total = m.rate * m.seconds;
  const pending = new Map<string, PendingCall>();
  const setupMs: number[] = [];
  const failures: Record<string, number> = {};
  let attempted = 0;
  let answered = 0;
  let failed = 0;
  let finished = 0;
  const started = performance.now();

  return new Promise((resolve) => {
    const fail = (id: string, why: string): void => {
      const call = pending.get(id);
      if (!call) return;
      clearTimeout(call.timer);
      pending.delete(id);
      failed++;
      failures[why] = (failures[why] ?? 0) + 1;
      end();
    };
    const end = (): void => {
      finished++;
      if (finished === total) {
        for (const c of clients) {
          c.off("message", onMessage);
          c.off("refused", onRefused as never);
          c.off("invalid", onInvalid as never);
        }
        resolve({
          attempted,
          answered,
          failed,
          setupMs: setupMs.sort((a, b) => a - b),
          elapsedMs: performance.now() - started,
          failures,
        });
      }
    };
    const onMessage = ({ message }: { message: DsipMessage }): void => {
      const id = (message as { correlates?: string }).correlates;
      if (id === undefined) return;
      const call = pending.get(id);
      if (!call) return;
      if (message.type === "dsip.answer") {
        setupMs.push(performance.now() - call.sentAt);
        answered++;
        clearTimeout(call.timer);
        pending.delete(id);
        setTimeout(() => {
          try {
            call.client.send({ type: "dsip.bye", to: call.to, correlates: id, reason: "hangup" });
          } catch {
            // The connection is gone; the gateway ends the call on its side.
          }
          end();
        }, m.holdMs);
      } else if (message.type === "dsip.error") {
        fail(id, `dsip.error ${message.code}`);
      } else if (message.type === "dsip.bye" || message.type === "dsip.cancel") {
        fail(id, `${message.type} before answer`);
      }
    };
    // A frame from the gateway that fails our checks is dropped by the client; counted, because the call it belonged to then times out.
    const onInvalid = (e: { kind: string }): void => {
      failures[`frame refused by us: ${e.kind}`] = (failures[`frame refused by us: ${e.kind}`] ?? 0) + 1;
    };
    const onRefused = (e: { correlates?: string; code: number }): void => {
      if (e.correlates !== undefined) fail(e.correlates, `refused ${e.code}`);
    };
    for (const c of clients) {
      c.on("message", onMessage);
      c.on("refused", onRefused as never);
      c.on("invalid", onInvalid as never);
    }

    const place = (): void => {
      const client = clients[attempted % clients.length]!;
      const to = `tel:+${m.number.slice(0, -4)}${String(attempted % 10_000).padStart(4, "0")}`;
      attempted++;
      let id: string;
      try {
        id = client.send({
          type: "dsip.invite",
          to,
          cap: CAP,
          media: { sdp: offerSdp, codecs: ["PCMU/8000", "telephone-event/8000"] },
        }).id;
      } catch {
        failed++;
        failures["not connected"] = (failures["not connected"] ?? 0) + 1;
        end();
        return;
      }
      const timer = setTimeout(() => {
        try {
          client.send({ type: "dsip.cancel", to, correlates: id, reason: "timeout" });
        } catch {}
        fail(id, "no answer in time");
      }, m.answerTimeoutMs);
      pending.set(id, { client, to, sentAt: performance.now(), timer });
    };
    // One clock for the whole step: each tick sends every invite that is due, so timer jitter never lowers the rate.
    const pacer = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - started) * m.rate) / 1000) + 1);
      while (attempted < due) place();
      if (attempted >= total) clearInterval(pacer);
    }, 1);
  });
}

process.on("message", (m: ToSignaling) => {
  const run = async (): Promise<void> => {
    switch (m.type) {
      case "setup":
        await setup(m);
        return;
      case "step":
        reply({ type: "result", ...(await step(m)) });
        return;
      case "close":
        await Promise.all(clients.map((c) => c.close()));
        process.exit(0);
        return;
    }
  };
  run().catch((err: unknown) => reply({ type: "error", message: (err as Error).stack ?? String(err) }));
});
