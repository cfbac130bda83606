/**
 * What the call layer reports to metrics, as a structural interface: src/ops
 * (GatewayMetrics, prom-client) satisfies it, and src/b2bua does not import
 * src/ops (ops sits above b2bua in the layering).
 */
export interface CallMetrics {
  callStarted(trunk?: string): void;
  /** A call ended with `status` as the caller's final response (200 for an answered call). */
  callEnded(status: number, trunk?: string): void;
  readonly callsTotal: { inc(labels: { status: string; class: string }): void };
  readonly overloadRejections: { inc(labels: { scope: string; limit: string }): void };
  readonly cdrWritten: { inc(): void };
  readonly cdrErrors: { inc(): void };
  readonly dialogs: { set(labels: { state: string }, value: number): void };
  readonly transactions: { set(labels: { kind: string }, value: number): void };
}
