/**
 * Just enough SDP for media anchoring: read the first audio section's address,
 * ports, codecs and direction; rewrite the addresses of a plain RTP/AVP SDP; and
 * build a fresh RTP/AVP SDP. Line order and unknown attributes are kept as they are.
 */

export type Direction = "sendrecv" | "sendonly" | "recvonly" | "inactive";

export interface Codec {
  pt: number;
  /** Encoding name as written (e.g. "PCMU", "telephone-event"). */
  name: string;
  clock: number;
  channels?: number;
  fmtp?: string;
}

export interface AudioInfo {
  /** c= address (media level, else session level); "0.0.0.0" means hold (RFC 2543 style). */
  address: string;
  port: number;
  proto: string;
  /** a=rtcp port, else port + 1 (unless rtcp-mux). */
  rtcpPort: number;
  rtcpMux: boolean;
  codecs: Codec[];
  direction: Direction;
  ssrcs: number[];
  /** Whether the section carries ICE/DTLS (a WebRTC description). */
  ice: boolean;
}

const STATIC_PT: Record<number, Codec> = {
  0: { pt: 0, name: "PCMU", clock: 8000 },
  8: { pt: 8, name: "PCMA", clock: 8000 },
  9: { pt: 9, name: "G722", clock: 8000 },
  18: { pt: 18, name: "G729", clock: 8000 },
};

function lines(sdp: string): string[] {
  return sdp.split(/\r?\n/).filter((l) => l.length > 0);
}

function join(ls: string[]): string {
  return `${ls.join("\r\n")}\r\n`;
}

/** Index range [start, end) of the first m=audio section, or undefined. */
function audioSection(ls: string[]): [number, number] | undefined {
  const start = ls.findIndex((l) => l.startsWith("m=audio "));
  if (start < 0) return undefined;
  let end = ls.findIndex((l, i) => i > start && l.startsWith("m="));
  if (end < 0) end = ls.length;
  return [start, end];
}

export class SdpError extends Error {}

export function parseAudio(sdp: string): AudioInfo {
  const ls = lines(sdp);
  const range = audioSection(ls);
  if (!range) throw new SdpError("SDP has no m=audio section");
  const [start, end] = range;
  const session = ls.slice(0, start);
  const media = ls.slice(start, end);
  const m = /^m=audio (\d+)(?:\/\d+)? (\S+) ?(.*)$/.exec(media[0]!);
  if (!m) throw new SdpError(`bad m= line: ${media[0]}`);
  const port = Number(m[1]);
  const pts = m[3]!.split(/\s+/).filter(Boolean).map(Number);
  const conn = (media.find((l) => l.startsWith("c=")) ?? session.find((l) => l.startsWith("c=")) ?? "")
    .split(/\s+/)[2]
    ?.split("/")[0];
  const attr = (name: string): string[] =>
    media.filter((l) => l.startsWith(`a=${name}:`)).map((l) => l.slice(name.length + 3));
  const rtpmaps = new Map<number, string>(
    attr("rtpmap").map((v) => {
      const sp = v.indexOf(" ");
      return [Number(v.slice(0, sp)), v.slice(sp + 1)];
    }),
  );
  const fmtps = new Map<number, string>(
    attr("fmtp").map((v) => {
      const sp = v.indexOf(" ");
      return [Number(v.slice(0, sp)), v.slice(sp + 1)];
    }),
  );
  const codecs: Codec[] = [];
  for (const pt of pts) {
    const map = rtpmaps.get(pt);
    let codec: Codec | undefined;
    if (map) {
      const [name, clock, channels] = map.split("/");
      codec = { pt, name: name!, clock: Number(clock) };
      if (channels) codec.channels = Number(channels);
    } else if (STATIC_PT[pt]) codec = { ...STATIC_PT[pt]! };
    if (!codec) continue;
    const fmtp = fmtps.get(pt);
    if (fmtp !== undefined) codec.fmtp = fmtp;
    codecs.push(codec);
  }
  const all = [...session, ...media];
  const dirs: Direction[] = ["sendrecv", "sendonly", "recvonly", "inactive"];
  const direction =
    dirs.find((d) => media.includes(`a=${d}`)) ?? dirs.find((d) => session.includes(`a=${d}`)) ?? "sendrecv";
  const rtcpMux = media.includes("a=rtcp-mux");
  const rtcpAttr = attr("rtcp")[0];
  const rtcpPort = rtcpAttr ? Number(rtcpAttr.split(/\s+/)[0]) : rtcpMux ? port : port + 1;
  const ssrcs = [...new Set(attr("ssrc").map((v) => Number(v.split(" ")[0])))];
  return {
    address: conn ?? "0.0.0.0",
    port,
    proto: m[2]!,
    rtcpPort,
    rtcpMux,
    codecs,
    direction,
    ssrcs,
    ice: all.some((l) => l.startsWith("a=ice-ufrag:") || l.startsWith("a=fingerprint:")),
  };
}

/** Whether a codec can be passed through between WebRTC and plain RTP without transcoding. */
export function isG711(c: Codec): boolean {
  const n = c.name.toUpperCase();
  return (n === "PCMU" || n === "PCMA") && c.clock === 8000;
}

export function isTelephoneEvent8k(c: Codec): boolean {
  return c.name.toLowerCase() === "telephone-event" && c.clock === 8000;
}

export function rtpmapLine(c: Codec): string {
  return `a=rtpmap:${c.pt} ${c.name}/${c.clock}${c.channels && c.channels > 1 ? `/${c.channels}` : ""}`;
}

/**
 * Rewrites a plain RTP SDP so that the relay is the media address: o= and c=
 * addresses, the first audio port, and a=rtcp (always written in the full
 * `PORT IN IP4 ADDR` form because werift cannot parse the short one).
 */
export function rewriteRtpSdp(sdp: string, host: string, port: number, rtcpPort: number): string {
  const ls = lines(sdp);
  const range = audioSection(ls);
  if (!range) throw new SdpError("SDP has no m=audio section");
  const fam = host.includes(":") ? "IP6" : "IP4";
  const out: string[] = [];
  let sawRtcp = false;
  ls.forEach((l, i) => {
    const inAudio = i >= range[0] && i < range[1];
    if (l.startsWith("o=")) {
      const f = l.split(" ");
      if (f.length >= 6) {
        f[4] = fam;
        f[5] = host;
        // The version must grow whenever the SDP changes (RFC 3264 §8); the relay's answer
        // keeps the peer's version, which grows with the peer's.
      }
      out.push(f.join(" "));
    } else if (l.startsWith("c=")) {
      // A hold written as c=0.0.0.0 stays a hold.
      const old = l.split(/\s+/)[2] ?? "";
      out.push(`c=IN ${fam} ${old === "0.0.0.0" ? "0.0.0.0" : host}`);
    } else if (i === range[0]) {
      out.push(l.replace(/^m=audio \d+/, `m=audio ${port}`));
    } else if (inAudio && l.startsWith("a=rtcp:")) {
      sawRtcp = true;
      out.push(`a=rtcp:${rtcpPort} IN ${fam} ${host}`);
    } else if (inAudio && (l.startsWith("a=candidate:") || l === "a=end-of-candidates")) {
      // A plain RTP peer has no ICE; stale candidates would point around the relay.
    } else {
      out.push(l);
    }
    if (i === range[1] - 1 && !sawRtcp && !ls.slice(range[0], range[1]).includes("a=rtcp-mux")) {
      out.push(`a=rtcp:${rtcpPort} IN ${fam} ${host}`);
    }
  });
  return join(out);
}

export interface RtpSdpOptions {
  host: string;
  port: number;
  rtcpPort: number;
  codecs: Codec[];
  direction: Direction;
  sessionId: string;
  version: number;
  ptime?: number;
}

/** A fresh RTP/AVP SDP toward a plain SIP peer. */
export function buildRtpSdp(o: RtpSdpOptions): string {
  const fam = o.host.includes(":") ? "IP6" : "IP4";
  const ls = [
    "v=0",
    `o=- ${o.sessionId} ${o.version} IN ${fam} ${o.host}`,
    "s=-",
    `c=IN ${fam} ${o.host}`,
    "t=0 0",
    `m=audio ${o.port} RTP/AVP ${o.codecs.map((c) => c.pt).join(" ")}`,
  ];
  for (const c of o.codecs) {
    ls.push(rtpmapLine(c));
    if (c.fmtp !== undefined) ls.push(`a=fmtp:${c.pt} ${c.fmtp}`);
  }
  ls.push(`a=ptime:${o.ptime ?? 20}`, `a=rtcp:${o.rtcpPort} IN ${fam} ${o.host}`, `a=${o.direction}`);
  return join(ls);
}

/** Adds `a=ssrc:N cname:…` to the first audio section when it has none (werift drops unsignalled SSRCs). */
export function addSsrc(sdp: string, ssrc: number, cname = "relay"): string {
  const ls = lines(sdp);
  const range = audioSection(ls);
  if (!range || ls.slice(range[0], range[1]).some((l) => l.startsWith("a=ssrc:"))) return sdp;
  ls.splice(range[1], 0, `a=ssrc:${ssrc >>> 0} cname:${cname}`);
  return join(ls);
}

/**
 * Keeps only ICE candidates on `address`. werift gathers every interface but
 * binds the sockets where it is told, so candidates for other interfaces would
 * be unreachable — and with equal priorities they make rtpengine pick badly.
 */
export function keepCandidates(sdp: string, address: string): string {
  return join(
    lines(sdp).filter((l) => {
      if (!l.startsWith("a=candidate:")) return true;
      return l.split(" ")[4] === address;
    }),
  );
}

/** `a=rtcp:PORT` → `a=rtcp:PORT IN IP4 0.0.0.0`: werift throws on the short (valid) form. */
export function fullRtcpAttribute(sdp: string): string {
  return sdp.replace(/^a=rtcp:(\d+)[ \t]*(\r?)$/gm, "a=rtcp:$1 IN IP4 0.0.0.0$2");
}
