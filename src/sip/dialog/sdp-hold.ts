/**
 * Whether an SDP offer puts the call on hold (RFC 3264 §8.4: a=sendonly or
 * a=inactive, or the RFC 2543 connection address 0.0.0.0). Only the session
 * level and the first media section are looked at: enough for the `hold` and
 * `unhold` events, not an SDP parser.
 */
export function isHoldOffer(sdp: string): boolean {
  if (sdp.length === 0) return false;
  let direction: string | undefined;
  let inMedia = 0;
  for (const raw of sdp.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith("m=")) {
      inMedia++;
      if (inMedia > 1) break;
      continue;
    }
    if (/^c=IN IP4 0\.0\.0\.0\b/.test(line)) return true;
    const m = /^a=(sendonly|inactive|sendrecv|recvonly)$/.exec(line);
    if (m) direction = m[1]; // a media-level attribute overrides the session-level one
  }
  return direction === "sendonly" || direction === "inactive";
}
