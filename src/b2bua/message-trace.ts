/**
 * A message tap on a running SipStack, for `npm run demo` and debugging: every
 * message sent or received, with its first line, CSeq and Call-ID. The stack
 * has no tracing hook of its own (and src/sip must stay free of gateway
 * concerns), so this wraps the transports' `send` and the stack's packet entry
 * point at run time. It costs a regex or two per message: not for production
 * traffic.
 */
import type { Endpoint, Packet, SipStack, Transport, TransportProtocol } from "../sip/index.js";

export interface TracedMessage {
  /** Milliseconds (performance.now()). */
  at: number;
  direction: "in" | "out";
  /** The far end. */
  peer: Endpoint;
  /** Our listening address it went through. */
  local: Endpoint;
  callId: string;
  /** "INVITE sip:…" or "200 OK". */
  firstLine: string;
  cseq: string;
}

function summarise(data: Buffer): { firstLine: string; callId: string; cseq: string } {
  // Only the header section matters; cap the text so a huge body costs nothing.
  const text = data.subarray(0, 4096).toString("latin1");
  const end = text.indexOf("\r\n");
  const line = end < 0 ? text : text.slice(0, end);
  const firstLine = line.startsWith("SIP/2.0 ") ? line.slice(8) : line.replace(/ SIP\/2\.0$/, "");
  const callId = /^(?:call-id|i)[ \t]*:[ \t]*(\S+)/im.exec(text)?.[1] ?? "";
  const cseq = /^cseq[ \t]*:[ \t]*([^\r\n]+)/im.exec(text)?.[1]?.trim() ?? "";
  return { firstLine, callId, cseq };
}

/** Starts tapping; returns a function that stops it. */
export function traceStack(stack: SipStack, onMessage: (m: TracedMessage) => void): () => void {
  const restores: Array<() => void> = [];
  for (const protocol of ["UDP", "TCP", "TLS", "WS", "WSS"] as TransportProtocol[]) {
    const t: Transport | undefined = stack.transport(protocol);
    if (!t) continue;
    const send = t.send;
    const local = t.local;
    t.send = (dest, data, onError) => {
      if (data.length > 4)
        onMessage({ at: performance.now(), direction: "out", peer: dest, local, ...summarise(data) });
      send.call(t, dest, data, onError);
    };
    restores.push(() => {
      t.send = send;
    });
  }
  const inner = stack as unknown as { handlePacket(p: Packet): void };
  const handle = inner.handlePacket;
  inner.handlePacket = (p: Packet) => {
    // Keep-alive CRLFs are not messages.
    if (p.data.length > 4)
      onMessage({
        at: performance.now(),
        direction: "in",
        peer: p.source,
        local: p.transport.local,
        ...summarise(p.data),
      });
    handle.call(stack, p);
  };
  restores.push(() => {
    inner.handlePacket = handle;
  });
  return () => {
    for (const r of restores) r();
  };
}

/**
 * A readable ladder of one call: the caller on the left, the gateway in the
 * middle, the callee on the right, one line per message, times relative to
 * the first one.
 */
export function formatLadder(
  messages: readonly TracedMessage[],
  legs: { a: string; b: readonly string[] },
  names: { a: string; gateway: string; b: string },
): string {
  const W = 44;
  const rows: string[] = [];
  const head = `${"".padEnd(10)}${names.a.padEnd(W)}${names.gateway.padEnd(W)}${names.b}`;
  rows.push(head, "-".repeat(head.length));
  const mine = messages.filter((m) => m.callId === legs.a || legs.b.includes(m.callId));
  const t0 = mine[0]?.at ?? 0;
  for (const m of mine) {
    const aLeg = m.callId === legs.a;
    const label = `${m.firstLine.length > 32 ? `${m.firstLine.slice(0, 31)}…` : m.firstLine} (${m.cseq})`;
    const arrowBody = (text: string, right: boolean) => {
      const inner = ` ${text} `;
      const fill = Math.max(2, W - 2 - inner.length);
      const left = Math.floor(fill / 2);
      return right
        ? `${"─".repeat(left)}${inner}${"─".repeat(fill - left)}▶ `
        : ` ◀${"─".repeat(left)}${inner}${"─".repeat(fill - left)}`;
    };
    const time = `${(m.at - t0).toFixed(1).padStart(7)}ms `;
    // A-leg: in = A → GW (rightwards), out = GW → A (leftwards). B-leg: out = GW → B, in = B → GW.
    const line = aLeg
      ? `|${arrowBody(label, m.direction === "in")}|`
      : `${"".padEnd(W)}|${arrowBody(label, m.direction === "out")}|`;
    rows.push(`${time} ${line}`);
  }
  return rows.join("\n");
}
