/** What the four transaction state machines share: named timers, the send path and termination. */
import type { Clock, TimerHandle, TimerValues } from "../timers.js";
import type { Endpoint } from "../transport/types.js";

export type TransactionKind = "invite-client" | "non-invite-client" | "invite-server" | "non-invite-server";

export type TransactionState =
  | "calling"
  | "trying"
  | "proceeding"
  | "completed"
  | "confirmed"
  | "accepted"
  | "terminated";

/** Why a transaction ended; the TU hears about the abnormal ones through its callbacks. */
export type TerminationReason = "normal" | "timeout" | "transport-error" | "shutdown";

export interface TransactionContext {
  clock: Clock;
  timers: TimerValues;
  /** Whether the transport retransmits for us (TCP, TLS, WS): no A/E/G, zero D/I/J/K. */
  reliable: boolean;
  /** Where this transaction's messages go (the request target, or the response destination). */
  destination: Endpoint;
  /** Sends bytes to `destination` over the right transport. */
  send(data: Buffer, onError: (err: Error) => void): void;
  /** A server transaction sent its final response (it may be called again for 2xx retransmissions). */
  onFinalResponse?(tx: Transaction): void;
  /** Called once, when the transaction reaches Terminated: the table forgets it. */
  onTerminated(tx: Transaction): void;
  /**
   * A TU callback threw inside a timer or transport callback, where nothing
   * above us could catch it. Reported here instead of crashing the process.
   */
  onCallbackError?(err: unknown, tx: Transaction): void;
}

/** Counters the stack aggregates for metrics and for the loss tests. */
export interface RetransmitCounters {
  /** Requests we sent again (Timers A, E). */
  requestRetransmits: number;
  /** Final responses we sent again (Timer G, or answering a retransmitted request). */
  responseRetransmits: number;
  /** Retransmitted requests or responses that the transaction swallowed. */
  absorbed: number;
}

export abstract class Transaction {
  abstract readonly kind: TransactionKind;
  state: TransactionState;
  terminationReason: TerminationReason | undefined;
  private readonly timers = new Map<string, TimerHandle>();

  constructor(
    readonly key: string,
    protected readonly ctx: TransactionContext,
    protected readonly counters: RetransmitCounters,
    initial: TransactionState,
  ) {
    this.state = initial;
  }

  get destination(): Endpoint {
    return this.ctx.destination;
  }

  /** Names of the timers currently running (for tests). */
  get runningTimers(): string[] {
    return [...this.timers.keys()];
  }

  protected startTimer(name: string, ms: number, fire: () => void): void {
    this.stopTimer(name);
    this.timers.set(
      name,
      this.ctx.clock.setTimer(ms, () => {
        this.timers.delete(name);
        if (this.state !== "terminated") this.guarded(fire);
      }),
    );
  }

  protected stopTimer(name: string): void {
    const handle = this.timers.get(name);
    if (handle === undefined) return;
    this.ctx.clock.clearTimer(handle);
    this.timers.delete(name);
  }

  /** Runs `fn` from a timer or socket callback, where a throwing TU callback would otherwise crash the process. */
  private guarded(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      if (this.ctx.onCallbackError) this.ctx.onCallbackError(err, this);
      else throw err;
    }
  }

  /** Starts a wait that may be zero (reliable transports): zero terminates now. */
  protected terminateAfter(name: string, ms: number): void {
    if (ms <= 0) this.terminate("normal");
    else this.startTimer(name, ms, () => this.terminate("normal"));
  }

  protected transmit(data: Buffer): void {
    this.ctx.send(data, (err) => this.guarded(() => this.failTransport(err)));
  }

  /** The transport lost what this transaction sent (its connection broke). */
  transportFailed(err: Error): void {
    this.failTransport(err);
  }

  protected failTransport(err: Error): void {
    if (this.state === "terminated") return;
    this.terminate("transport-error", err);
  }

  terminate(reason: TerminationReason, err?: Error): void {
    if (this.state === "terminated") return;
    this.state = "terminated";
    this.terminationReason = reason;
    for (const handle of this.timers.values()) this.ctx.clock.clearTimer(handle);
    this.timers.clear();
    this.ctx.onTerminated(this);
    this.notifyTerminated(reason, err);
  }

  /** Tells the TU about the end (timeout, transport error, or the quiet normal end). */
  protected abstract notifyTerminated(reason: TerminationReason, err?: Error): void;
}
