/**
 * The error the dialog and application layers reject with: it carries the SIP
 * status that ended the attempt (a peer's final response, or one we made up
 * locally such as 408 on timeout or 487 when cancelled) so a caller can map it
 * without parsing text.
 */
import type { SipResponse } from "../message.js";

export class SipStatusError extends Error {
  override readonly name = "SipStatusError";

  constructor(
    readonly status: number,
    readonly reason: string,
    /** The peer's response, when the status came from one. */
    readonly response?: SipResponse,
  ) {
    super(`${status} ${reason}`);
  }
}

export function isSipStatusError(err: unknown): err is SipStatusError {
  return err instanceof SipStatusError;
}
