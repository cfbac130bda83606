/**
 * The one error type of the SIP message layer. It carries what a server should
 * do about the bad message: answer with `status` (400, 413, 505, …) or, for a
 * malformed response or a request that names no way back, drop it silently.
 */
export class SipParseError extends Error {
  override readonly name = "SipParseError";

  constructor(
    /** Short precise text, usable as a SIP reason phrase (no CR/LF). */
    readonly reason: string,
    /** Status a UAS would answer with. Meaningless when `drop` is true. */
    readonly status: number = 400,
    /** True when no response must be sent (malformed responses, no Via to answer to). */
    readonly drop: boolean = false,
  ) {
    super(`${drop ? "drop" : status}: ${reason}`);
  }

  /** A copy that must be dropped instead of answered (used once we know the message is a response). */
  asDrop(): SipParseError {
    return this.drop ? this : new SipParseError(this.reason, this.status, true);
  }
}

export function isSipParseError(err: unknown): err is SipParseError {
  return err instanceof SipParseError;
}

/** Shorthand for the most common failure: 400 with a precise reason phrase. */
export function badRequest(reason: string): SipParseError {
  return new SipParseError(reason, 400);
}
