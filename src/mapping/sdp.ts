/**
 * The little SDP reading the mapping needs: which way media flows (hold is a
 * direction, RFC 3264 §8.4) and which codecs an offer lists. Bodies are passed
 * on untouched; rewriting them is the media engine's job.
 */

export type MediaDirection = "sendrecv" | "sendonly" | "recvonly" | "inactive";

const DIRECTIONS: readonly string[] = ["sendrecv", "sendonly", "recvonly", "inactive"];

/** A body is taken as SDP when its first line is the version line (RFC 8866 §5). */
export function looksLikeSdp(body: string | undefined): body is string {
  return body !== undefined && /^v=0\r?\n/.test(body);
}

interface Sections {
  session: string[];
  /** The first audio section, else the first media section. */
  media: string[];
}

function sections(sdp: string): Sections {
  const lines = sdp.split(/\r?\n/);
  const session: string[] = [];
  const all: string[][] = [];
  for (const line of lines) {
    if (line.startsWith("m=")) all.push([line]);
    else if (all.length > 0) all.at(-1)!.push(line);
    else session.push(line);
  }
  const media = all.find((s) => s[0]!.startsWith("m=audio")) ?? all[0] ?? [];
  return { session, media };
}

function directionIn(lines: readonly string[]): MediaDirection | undefined {
  for (const line of lines) {
    const a = line.startsWith("a=") ? line.slice(2).trim() : "";
    if (DIRECTIONS.includes(a)) return a as MediaDirection;
  }
  return undefined;
}

/** The direction of the first audio stream: its own attribute, else the session's, else sendrecv. */
export function sdpDirection(sdp: string): MediaDirection {
  const s = sections(sdp);
  return directionIn(s.media) ?? directionIn(s.session) ?? "sendrecv";
}

/**
 * True when the offer puts the peer on hold: sendonly or inactive (RFC 3264
 * §8.4), or the old RFC 2543 way, a connection address of 0.0.0.0, which some
 * PBXs still send. With ICE, 0.0.0.0 is only a placeholder (RFC 8839 §4.2.4:
 * WebRTC offers always carry it), so it says nothing about hold there. A port
 * of 0 removes a stream; that is not hold either.
 */
export function isHoldSdp(sdp: string): boolean {
  const d = sdpDirection(sdp);
  if (d === "sendonly" || d === "inactive") return true;
  const s = sections(sdp);
  const ice = [...s.session, ...s.media].some((l) => l.startsWith("a=ice-ufrag:"));
  if (ice) return false;
  const c = s.media.find((l) => l.startsWith("c=")) ?? s.session.find((l) => l.startsWith("c="));
  return c !== undefined && /^c=IN IP4 0\.0\.0\.0\s*$/.test(c);
}

/** "opus/48000/2", "PCMU/8000"… of the first audio stream, in offer order. */
export function sdpCodecs(sdp: string): string[] {
  const { media } = sections(sdp);
  const m = /^m=\S+ \d+(?:\/\d+)? \S+ (.*)$/.exec(media[0] ?? "");
  if (!m) return [];
  const rtpmap = new Map<string, string>();
  for (const line of media) {
    const r = /^a=rtpmap:(\d+) ([^\s]+)$/.exec(line.trim());
    if (r) rtpmap.set(r[1]!, r[2]!);
  }
  const out: string[] = [];
  for (const pt of m[1]!.trim().split(/\s+/)) {
    const name = rtpmap.get(pt);
    if (name) out.push(name);
    // Static payload types may omit rtpmap (RFC 3551).
    else if (pt === "0") out.push("PCMU/8000");
    else if (pt === "8") out.push("PCMA/8000");
    else if (pt === "9") out.push("G722/8000");
    else if (pt === "18") out.push("G729/8000");
  }
  return out.slice(0, 64);
}
