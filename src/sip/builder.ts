/** Building new messages: requests from parts, responses from the request they answer. */
import { canonicalHeaderName, headerKey } from "./header-names.js";
import { type HeaderField, SipRequest, SipResponse } from "./message.js";
import { reasonPhrase } from "./status-codes.js";
import type { Uri } from "./uri.js";

export type HeaderList = Array<[name: string, value: string]>;

function toFields(headers: HeaderList): HeaderField[] {
  return headers.map(([name, value]) => ({ name: canonicalHeaderName(name), key: headerKey(name), value }));
}

function toBody(body: Buffer | string | undefined): Buffer {
  if (body === undefined) return Buffer.alloc(0);
  return typeof body === "string" ? Buffer.from(body, "utf8") : body;
}

export interface RequestParts {
  method: string;
  uri: string | Uri;
  headers?: HeaderList;
  body?: Buffer | string;
}

export function createRequest(parts: RequestParts): SipRequest {
  return new SipRequest(parts.method, parts.uri, toFields(parts.headers ?? []), toBody(parts.body));
}

export interface ResponseOptions {
  reason?: string;
  /** Extra headers, added after the copied ones. */
  headers?: HeaderList;
  body?: Buffer | string;
  /** Added to To when the request's To has no tag (RFC 3261 §8.2.6.2). */
  toTag?: string;
}

/**
 * A response to `req` (RFC 3261 §8.2.6): Via, From, To, Call-ID and CSeq are
 * copied from the request as received, byte for byte; a To tag is added when given.
 */
export function createResponse(req: SipRequest, status: number, opts: ResponseOptions = {}): SipResponse {
  const copied: HeaderField[] = [];
  for (const h of req.headers) {
    if (h.key === "via" || h.key === "from" || h.key === "call-id" || h.key === "cseq") copied.push(h);
    else if (h.key === "to") {
      let hasTag: boolean;
      try {
        hasTag = req.to?.params.tag != null;
      } catch {
        hasTag = true; // a To we cannot read is echoed untouched (e.g. in a 400)
      }
      if (opts.toTag !== undefined && !hasTag && status !== 100) {
        copied.push({ name: h.name, key: h.key, value: `${h.value};tag=${opts.toTag}` });
      } else copied.push(h);
    }
  }
  // Timestamp is echoed in 100 Trying (RFC 3261 §8.2.6.1)
  if (status === 100) for (const h of req.headers) if (h.key === "timestamp") copied.push(h);
  const res = new SipResponse(status, opts.reason ?? reasonPhrase(status), copied, toBody(opts.body));
  for (const h of toFields(opts.headers ?? [])) res.headers.push(h);
  return res;
}
