/**
 * The one error the mapping throws. It carries both answers, because the
 * integrator needs both: the SIP status for the SIP leg and the `dsip.error`
 * code and reason token for the DSIP leg, taken from the status table so the
 * two never disagree.
 */
import { defaultDsipReason, dsipErrorToSipStatus, sipStatusToDsipError } from "./status.js";

export type MappingSide = "sip" | "dsip";

export class MappingError extends Error {
  override readonly name = "MappingError";
  /** Which side's input could not be mapped. */
  readonly side: MappingSide;
  /** SIP final status: the answer to SIP-side input, or what a SIP peer is told. */
  readonly status: number;
  /** `dsip.error` code: the answer to DSIP-side input, or what a DSIP peer is told. */
  readonly code: number;
  /** `dsip.error` reason token. */
  readonly reason: string;

  /**
   * `value` is a SIP status when `side` is "sip" and a `dsip.error` code when
   * it is "dsip"; the other side's value comes from the status table.
   */
  constructor(side: MappingSide, value: number, message: string, reason?: string) {
    super(message);
    this.side = side;
    if (side === "sip") {
      const d = sipStatusToDsipError(value);
      this.status = value;
      this.code = d.code;
      this.reason = reason ?? d.reason;
    } else {
      this.code = value;
      this.reason = reason ?? defaultDsipReason(value);
      this.status = dsipErrorToSipStatus(value, this.reason).status;
    }
  }
}
