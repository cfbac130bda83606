/**
 * RFC 3261 §14.1: after a 491 to our re-INVITE, wait before retrying. The
 * owner of the Call-ID (the side that sent the initial INVITE) waits
 * 2.1–4 s, the other side 0–2 s, in 10 ms units, so the two never collide again.
 */
export function glareRetryDelayMs(ownsCallId: boolean, random: () => number = Math.random): number {
  const units = ownsCallId ? 210 + Math.floor(random() * 191) : Math.floor(random() * 201);
  return units * 10;
}
