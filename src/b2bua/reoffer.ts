/**
 * SDP helpers for mid-call re-offers on an anchored call (hold, resume, codec
 * change). The gateway terminates each side's media in the engine, so a
 * re-offer from one side is answered there: the other side's peer keeps the
 * session it has, and only hears about the change (a signed dsip.update, or a
 * re-INVITE/UPDATE). Pure functions; the call classes do the signalling.
 */
import { isHoldSdp, type MediaDirection, sdpDirection } from "../mapping/index.js";

/** The direction an offer asks for; an RFC 2543 hold (c=0.0.0.0, no attribute) counts as inactive. */
export function offeredDirection(sdp: string): MediaDirection {
  const d = sdpDirection(sdp);
  return d === "sendrecv" && isHoldSdp(sdp) ? "inactive" : d;
}

/** RFC 3264 §6.1: the answerer's direction for an offered one. */
export function answerDirection(offered: MediaDirection): MediaDirection {
  switch (offered) {
    case "sendonly":
      return "recvonly";
    case "recvonly":
      return "sendonly";
    default:
      return offered;
  }
}

const DIRECTION_LINE = /^a=(sendrecv|sendonly|recvonly|inactive)\s*$/;

/**
 * `sdp` with every media section's direction set to `dir`: an existing
 * attribute is replaced in place, else one is added at the end of the section
 * (attributes come after c=/b=, RFC 8866 §5). Session-level direction
 * attributes are dropped so that they cannot contradict.
 */
export function withDirection(sdp: string, dir: MediaDirection): string {
  const eol = sdp.includes("\r\n") ? "\r\n" : "\n";
  const lines = sdp.split(/\r?\n/);
  const trailing = lines.at(-1) === "" ? lines.pop() : undefined;
  const session: string[] = [];
  const media: string[][] = [];
  for (const line of lines) {
    if (line.startsWith("m=")) media.push([line]);
    else if (media.length > 0) media.at(-1)!.push(line);
    else if (!DIRECTION_LINE.test(line)) session.push(line);
  }
  if (media.length === 0) return sdp;
  const out = [...session];
  for (const section of media) {
    const at = section.findIndex((l) => DIRECTION_LINE.test(l));
    const kept = section.filter((l, i) => i === at || !DIRECTION_LINE.test(l));
    if (at >= 0) out.push(...kept.map((l) => (DIRECTION_LINE.test(l) ? `a=${dir}` : l)));
    else out.push(...kept, `a=${dir}`);
  }
  if (trailing !== undefined) out.push(trailing);
  return out.join(eol);
}

function setupOf(sdp: string): string | undefined {
  return /^a=setup:(\w+)/m.exec(sdp)?.[1];
}

/**
 * The answer the engine's WebRTC leg gets for its re-offer when the DSIP peer
 * is not asked (dsip.update has no answer on the wire): the peer's SDP as it
 * stands (same ICE credentials and fingerprint, so no ICE restart nor new DTLS
 * handshake), with the answering direction for `offer`, and a DTLS role that is
 * the one already in use (an offerer's `actpass` becomes the opposite of the
 * role the gateway took in `ours`, its own earlier answer).
 */
export function localWebrtcAnswer(peerSdp: string, offer: string, ours: string | undefined): string {
  let sdp = withDirection(peerSdp, answerDirection(offeredDirection(offer)));
  if (setupOf(sdp) === "actpass") {
    const role = setupOf(ours ?? "") === "passive" ? "active" : "passive";
    sdp = sdp.replace(/^a=setup:actpass/gm, `a=setup:${role}`);
  }
  return sdp;
}
