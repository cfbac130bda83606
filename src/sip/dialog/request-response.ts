/**
 * What the application sees of an inbound request and how it answers it: a
 * thin, drachtio-like wrapper over a server transaction. `req.on("cancel")`
 * fires when a pending INVITE is CANCELled (the stack has already answered the
 * CANCEL and sends 487 unless the application answered first).
 */
import { EventEmitter } from "node:events";
import { createResponse, type HeaderList } from "../builder.js";
import type { SipRequest, SipResponse } from "../message.js";
import type { AnyServerTransaction } from "../transaction/table.js";
import type { Endpoint } from "../transport/types.js";

/** Headers as a list of pairs (order kept, repeats allowed) or a plain object. */
export type HeadersInit = HeaderList | Record<string, string>;

export function toHeaderList(h: HeadersInit | undefined): HeaderList {
  if (!h) return [];
  if (Array.isArray(h)) return h;
  return Object.entries(h);
}

/** The arguments of `send(status, reason?, opts?)` / `send(status, opts?)`, sorted out once. */
export function sendArguments(
  reasonOrOpts: string | SendOptions | undefined,
  maybeOpts: SendOptions | undefined,
): { reason: string | undefined; opts: SendOptions } {
  return {
    reason: typeof reasonOrOpts === "string" ? reasonOrOpts : undefined,
    opts: (typeof reasonOrOpts === "object" ? reasonOrOpts : maybeOpts) ?? {},
  };
}

/** A body without a Content-Type is SDP in this stack: say so on the wire (RFC 3261 §20.15). */
export function addDefaultContentType(headers: HeaderList, body: string | Buffer | undefined): void {
  if (body === undefined || body.length === 0) return;
  if (!headers.some(([n]) => /^content-type$/i.test(n))) headers.push(["Content-Type", "application/sdp"]);
}

export interface SendOptions {
  headers?: HeadersInit;
  body?: string | Buffer;
}

export class SrfRequest extends EventEmitter {
  /** Per-request scratch space for middleware (drachtio's req.locals). */
  readonly locals: Record<string, unknown> = {};
  cancelled = false;

  constructor(readonly tx: AnyServerTransaction) {
    super();
    if (tx.kind === "invite-server") {
      tx.onCancel = (cancel) => {
        this.cancelled = true;
        this.emit("cancel", cancel);
      };
      // No CANCEL reaches us after the final response; its listeners would keep the call reachable
      // through the transaction for the 32 s of Timer L.
      tx.onAnswered = () => this.removeAllListeners("cancel");
    }
  }

  get msg(): SipRequest {
    return this.tx.request;
  }
  get method(): string {
    return this.tx.request.method;
  }
  get uri(): string {
    return this.tx.request.uriText;
  }
  get callId(): string {
    return this.tx.request.callId!;
  }
  get source(): Endpoint {
    return this.tx.source;
  }
  /** The body as text ("" when none). */
  get body(): string {
    return this.tx.request.body.toString("utf8");
  }
  get(name: string): string | undefined {
    return this.tx.request.header(name);
  }
  has(name: string): boolean {
    return this.tx.request.hasHeader(name);
  }
}

export class SrfResponse {
  /** Set by the dialog layer for INVITE: headers every response must carry (Contact …). */
  constructor(
    readonly tx: AnyServerTransaction,
    private readonly decorate: (status: number, headers: HeaderList) => HeaderList = (_s, h) => h,
  ) {}

  /** True once a final response went out. */
  get finalSent(): boolean {
    return this.tx.finalStatus !== undefined;
  }

  /** `send(status)`, `send(status, reason)`, `send(status, {headers, body})`, `send(status, reason, opts)`. */
  send(
    status: number,
    reasonOrOpts?: string | SendOptions,
    maybeOpts?: SendOptions,
  ): SipResponse | undefined {
    const { reason, opts } = sendArguments(reasonOrOpts, maybeOpts);
    const headers = this.decorate(status, toHeaderList(opts.headers));
    addDefaultContentType(headers, opts.body);
    const res = createResponse(this.tx.request, status, {
      toTag: this.tx.localTag,
      headers,
      body: opts.body,
      ...(reason ? { reason } : {}),
    });
    return this.tx.respond(res) ? res : undefined;
  }
}
