/**
 * The gateway's Prometheus metrics. One registry per gateway (not prom-client's
 * global one), so tests and several gateways in one process do not collide.
 * The SIP, dialog and B2BUA layers feed these; this module only declares them.
 */
import { Counter, collectDefaultMetrics, Gauge, Registry } from "prom-client";

export interface MetricsOptions {
  /** Process and Node.js metrics (event-loop lag, heap, GC, handles). Default true. */
  defaultMetrics?: boolean;
  /** Constant labels on every series, e.g. { instance_role: "edge" }. */
  labels?: Record<string, string>;
}

/** Status classes keep dashboards simple; the exact code is a label too (bounded: 100–699). */
function statusClass(status: number): string {
  return `${Math.floor(status / 100)}xx`;
}

export class GatewayMetrics {
  readonly registry = new Registry();
  /** Calls in progress (from admission to CDR), per trunk ("" when none is known yet). */
  readonly activeCalls: Gauge<"trunk">;
  /** Finished calls by the final status the caller got. */
  readonly callsTotal: Counter<"status" | "class">;
  /** Calls refused by overload control. */
  readonly overloadRejections: Counter<"scope" | "limit">;
  /** Live SIP transactions, by kind. */
  readonly transactions: Gauge<"kind">;
  /** SIP transactions created, by kind. */
  readonly transactionsTotal: Counter<"kind">;
  /** Live dialogs, by state. */
  readonly dialogs: Gauge<"state">;
  /** CDRs written, and CDR write failures. */
  readonly cdrWritten: Counter;
  readonly cdrErrors: Counter;

  constructor(opts: MetricsOptions = {}) {
    if (opts.labels) this.registry.setDefaultLabels(opts.labels);
    const registers = [this.registry];
    this.activeCalls = new Gauge({
      name: "dsip_gateway_active_calls",
      help: "Calls in progress",
      labelNames: ["trunk"],
      registers,
    });
    this.callsTotal = new Counter({
      name: "dsip_gateway_calls_total",
      help: "Finished calls by final status sent to the caller",
      labelNames: ["status", "class"],
      registers,
    });
    this.overloadRejections = new Counter({
      name: "dsip_gateway_overload_rejections_total",
      help: "Calls refused with 503 by overload control",
      labelNames: ["scope", "limit"],
      registers,
    });
    this.transactions = new Gauge({
      name: "dsip_gateway_sip_transactions",
      help: "Live SIP transactions",
      labelNames: ["kind"],
      registers,
    });
    this.transactionsTotal = new Counter({
      name: "dsip_gateway_sip_transactions_total",
      help: "SIP transactions created",
      labelNames: ["kind"],
      registers,
    });
    this.dialogs = new Gauge({
      name: "dsip_gateway_sip_dialogs",
      help: "Live SIP dialogs",
      labelNames: ["state"],
      registers,
    });
    this.cdrWritten = new Counter({
      name: "dsip_gateway_cdr_written_total",
      help: "CDRs written",
      registers,
    });
    this.cdrErrors = new Counter({
      name: "dsip_gateway_cdr_errors_total",
      help: "CDR batches that could not be written",
      registers,
    });
    // Includes nodejs_eventloop_lag_seconds and its percentiles (monitorEventLoopDelay underneath).
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  callStarted(trunk = ""): void {
    this.activeCalls.inc({ trunk });
  }

  /** A call ended with `status` as the caller's final response (200 for an answered call). */
  callEnded(status: number, trunk = ""): void {
    this.activeCalls.dec({ trunk });
    this.callsTotal.inc({ status: String(status), class: statusClass(status) });
  }

  /** The text exposition format and its content type, for GET /metrics. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
