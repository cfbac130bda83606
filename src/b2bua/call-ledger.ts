/**
 * The one end of a call, shared by every kind of call (SIP ⇄ SIP, SIP ⇄ DSIP):
 * whatever ends it and however often, the overload permit goes back once, the
 * media is freed once, the metrics count it once and exactly one CDR is written.
 */
import type { Logger } from "pino";
import type { CallMetrics } from "./call-metrics.js";
import type { CallRecord, CallRecordBuilder, CdrLeg, HangupBy } from "./cdr.js";
import type { CallPermit } from "./overload.js";

/** Where finished records go (a CdrWriter, or a test double). */
export interface CdrSink {
  write(record: CallRecord): Promise<void>;
}

export interface LedgerDeps {
  media: { delete(callId: string): Promise<void> };
  cdr?: CdrSink | undefined;
  metrics?: CallMetrics | undefined;
}

export interface CallEnd {
  status: number;
  hangupBy: HangupBy | null;
  reason: string;
}

export class CallLedger {
  private ended: CallEnd | undefined;

  constructor(
    readonly record: CallRecordBuilder,
    private readonly permit: CallPermit,
    /** The id the media engine knows this call by. */
    private readonly mediaId: string,
    /** The trunk label the active-calls gauge counts this call under. */
    private readonly trunkLabel: string,
    private readonly deps: LedgerDeps,
  ) {
    deps.metrics?.callStarted(trunkLabel);
  }

  get isEnded(): boolean {
    return this.ended !== undefined;
  }

  get outcome(): CallEnd | undefined {
    return this.ended;
  }

  /** Ends the call; false (and nothing done) when it had already ended. */
  finish(end: CallEnd, log: Logger): boolean {
    if (this.ended) return false;
    this.ended = end;
    this.permit.release();
    void this.deps.media.delete(this.mediaId).catch(() => {});
    this.deps.metrics?.callEnded(end.status, this.trunkLabel);
    const record = this.record.finish(end);
    log.info(
      {
        status: end.status,
        hangupBy: end.hangupBy,
        reason: end.reason,
        durationMs: record.durationMs,
        legs: record.legs.map(legSummary),
      },
      "cdr",
    );
    const written = this.deps.cdr?.write(record);
    written?.then(
      () => {
        this.deps.metrics?.cdrWritten.inc();
        // Logged only once durable: the kill -9 test holds the gateway to these lines.
        log.debug({ cdrId: record.id }, "cdr written");
      },
      (err: unknown) => {
        this.deps.metrics?.cdrErrors.inc();
        log.error({ err }, "CDR write failed");
      },
    );
    return true;
  }
}

function legSummary(l: CdrLeg): string {
  return `${l.role}:${l.trunk ?? "-"}:${l.status ?? "-"}`;
}
