/**
 * `dsip.error` code ⇄ SIP final status: one table, read both ways.
 *
 * Call outcomes that both worlds share keep their number (486 is busy on either
 * side). The agent's own protocol refusals (a bad signature, a stale `ts`…)
 * are the gateway's fault when they come back about a message it sent, never
 * the SIP caller's, so they become 5xx towards SIP — carriers then try their
 * next route instead of giving up on the number. docs/mapping.md explains every
 * row.
 */

export interface StatusRow {
  /** `dsip.error` code. */
  readonly code: number;
  /** `dsip.error` reason token. */
  readonly reason: string;
  /** SIP status. */
  readonly status: number;
  readonly phrase: string;
  /**
   * "both": the row maps either way. "to-sip": only a DSIP (code, reason) → SIP
   * (the agent's protocol errors). "to-dsip": only SIP → DSIP (statuses whose
   * meaning cannot cross the B2BUA as is).
   */
  readonly way: "both" | "to-sip" | "to-dsip";
}

const row = (code: number, reason: string, status: number, phrase: string, way: StatusRow["way"] = "both") =>
  ({ code, reason, status, phrase, way }) as const;

export const STATUS_TABLE: readonly StatusRow[] = [
  row(400, "call:bad-request", 400, "Bad Request"),
  row(402, "payment:required", 402, "Payment Required"),
  row(403, "policy:refused", 403, "Forbidden"),
  row(404, "number:not-found", 404, "Not Found"),
  row(408, "callee:timeout", 408, "Request Timeout"),
  row(410, "number:gone", 410, "Gone"),
  row(413, "request:too-large", 413, "Request Entity Too Large"),
  row(415, "media:unsupported", 415, "Unsupported Media Type"),
  row(480, "callee:offline", 480, "Temporarily Unavailable"),
  row(484, "number:incomplete", 484, "Address Incomplete"),
  row(486, "callee:busy", 486, "Busy Here"),
  row(487, "call:cancelled", 487, "Request Terminated"),
  row(488, "media:not-acceptable", 488, "Not Acceptable Here"),
  row(500, "internal:error", 500, "Server Internal Error"),
  row(502, "relay:bad-gateway", 502, "Bad Gateway"),
  row(503, "service:unavailable", 503, "Service Unavailable"),
  row(504, "relay:timeout", 504, "Server Time-out"),
  row(600, "callee:busy-everywhere", 600, "Busy Everywhere"),
  row(603, "callee:declined", 603, "Decline"),
  row(604, "number:does-not-exist", 604, "Does Not Exist Anywhere"),
  row(606, "media:not-acceptable-anywhere", 606, "Not Acceptable"),
  row(607, "callee:unwanted", 607, "Unwanted"),
  row(608, "policy:rejected", 608, "Rejected"),

  // A digest challenge is between the gateway and its trunk: the DSIP caller
  // cannot answer it, so it is the relay's failure.
  row(502, "trunk:auth-failed", 401, "Unauthorized", "to-dsip"),
  row(502, "trunk:auth-failed", 407, "Proxy Authentication Required", "to-dsip"),

  // The agent's refusals (src/agent/errors.ts) of a message the gateway sent.
  row(400, "malformed:json", 500, "Server Internal Error", "to-sip"),
  row(401, "sig:invalid", 500, "Server Internal Error", "to-sip"),
  row(404, "did:not-found", 500, "Server Internal Error", "to-sip"),
  row(405, "auth:kid-not-in-authentication", 500, "Server Internal Error", "to-sip"),
  row(406, "auth:from-mismatch", 500, "Server Internal Error", "to-sip"),
  row(407, "auth:required", 500, "Server Internal Error", "to-sip"),
  row(408, "ts:stale", 500, "Server Internal Error", "to-sip"),
  row(409, "id:replay", 500, "Server Internal Error", "to-sip"),
  // The invite waited at the relay until it expired: the callee was not reachable in time.
  row(410, "exp:expired", 480, "Temporarily Unavailable", "to-sip"),
  row(412, "ts:future", 500, "Server Internal Error", "to-sip"),
  row(413, "size:too-large", 500, "Server Internal Error", "to-sip"),
  row(415, "type:unknown", 500, "Server Internal Error", "to-sip"),
  row(416, "auth:bad-challenge", 500, "Server Internal Error", "to-sip"),
  row(417, "presence:stale", 500, "Server Internal Error", "to-sip"),
  row(422, "schema:invalid", 500, "Server Internal Error", "to-sip"),
  // SIP's 429 means "Provide Referrer Identity"; a rate limit is SIP's 503 (back off).
  row(429, "rate:too-many-errors", 503, "Service Unavailable", "to-sip"),
  row(502, "did:resolution-failed", 502, "Bad Gateway", "to-sip"),
  // The callee is offline and cannot be stored for: to a carrier that is 480, not
  // 503, which would make it think the gateway itself is down.
  row(503, "callee:unavailable", 480, "Temporarily Unavailable", "to-sip"),
  row(504, "did:resolution-timeout", 504, "Server Time-out", "to-sip"),
  row(507, "relay:full", 480, "Temporarily Unavailable", "to-sip"),
  row(603, "blocked:global", 603, "Decline", "to-sip"),
];

/** SIP statuses whose DSIP code has another class on purpose (a round trip cannot keep them). */
export const ONE_WAY_SIP_STATUSES: readonly number[] = STATUS_TABLE.filter(
  (r) => r.way === "to-dsip" && Math.floor(r.code / 100) !== Math.floor(r.status / 100),
).map((r) => r.status);

/**
 * Class defaults towards SIP for codes without a row: an unknown 4xx from a DSIP
 * callee is "cannot be reached now" (480) rather than 400, which would tell the
 * carrier its own request was malformed; 5xx is 500 (a carrier may try another
 * route; 503 could make it mark the gateway down); 6xx is 603.
 */
const SIP_DEFAULTS: Readonly<Record<number, { status: number; phrase: string }>> = {
  4: { status: 480, phrase: "Temporarily Unavailable" },
  5: { status: 500, phrase: "Server Internal Error" },
  6: { status: 603, phrase: "Decline" },
};

/** The token for a SIP status without a row: "sip:433" keeps the exact status for the way back. */
const SIP_TOKEN = /^sip:([4-6][0-9]{2})$/;

/** RFC 3261 phrases for the statuses a "sip:NNN" token can restore without a row. */
const EXTRA_PHRASES: Readonly<Record<number, string>> = {
  405: "Method Not Allowed",
  406: "Not Acceptable",
  414: "Request-URI Too Long",
  416: "Unsupported URI Scheme",
  420: "Bad Extension",
  421: "Extension Required",
  423: "Interval Too Brief",
  433: "Anonymity Disallowed",
  481: "Call/Transaction Does Not Exist",
  482: "Loop Detected",
  483: "Too Many Hops",
  485: "Ambiguous",
  491: "Request Pending",
  493: "Undecipherable",
  501: "Not Implemented",
  505: "Version Not Supported",
  513: "Message Too Large",
  580: "Precondition Failure",
};

export interface DsipErrorFields {
  code: number;
  reason: string;
  detail?: string;
}

export interface SipStatus {
  status: number;
  reasonPhrase: string;
  /** RFC 3326 Reason header value carrying the DSIP reason (and detail) to the SIP side. */
  reasonHeader?: string;
}

const MAX_DETAIL = 512;

/**
 * A SIP final failure (4xx–6xx, or an unfollowed 3xx) as `dsip.error` fields.
 * The reason phrase is carried as `detail` when the peer sent one.
 */
export function sipStatusToDsipError(status: number, reasonPhrase?: string): DsipErrorFields {
  if (!Number.isInteger(status) || status < 300 || status > 699)
    throw new RangeError(`SIP status ${status} is not a failure`);
  const phrase = reasonPhrase?.trim().slice(0, MAX_DETAIL);
  const detail = phrase ? { detail: phrase } : {};
  // The gateway does not follow redirects for DSIP callers: one that reaches here
  // means the number is not where the trunk sent us, so "cannot be reached now".
  if (status < 400) return { code: 480, reason: `sip:${status}`, ...detail };
  const r = STATUS_TABLE.find((x) => x.status === status && x.way !== "to-sip");
  if (r) return { code: r.code, reason: r.reason, ...detail };
  return { code: Math.floor(status / 100) * 100, reason: `sip:${status}`, ...detail };
}

/** The reason token a `dsip.error` with this code carries when nothing more precise is known. */
export function defaultDsipReason(code: number): string {
  const r =
    STATUS_TABLE.find((x) => x.code === code && x.way === "both") ??
    STATUS_TABLE.find((x) => x.code === code);
  return r ? r.reason : `error:${code}`;
}

/**
 * `dsip.error` fields as the SIP final status to answer with. Looks up the
 * exact (code, reason) first, then the code's own row, then the class default.
 * A "sip:NNN" reason restores that SIP status, so a status without a row
 * survives a round trip.
 */
export function dsipErrorToSipStatus(code: number, reason: string, detail?: string): SipStatus {
  const status = sipStatusFor(code, reason);
  const out: SipStatus = { ...status };
  if (reason) out.reasonHeader = reasonHeaderValue(status.status, detail ? `${reason} (${detail})` : reason);
  return out;
}

function sipStatusFor(code: number, reason: string): { status: number; reasonPhrase: string } {
  const token = SIP_TOKEN.exec(reason);
  const restored = token ? Number(token[1]) : 0;
  // Same class only, and never a challenge: a 401 without WWW-Authenticate would break the SIP caller.
  if (
    token &&
    Math.floor(restored / 100) === Math.floor(code / 100) &&
    !STATUS_TABLE.some((x) => x.status === restored && x.way === "to-dsip")
  ) {
    const status = restored;
    const known = STATUS_TABLE.find((x) => x.status === status);
    const phrase = known?.phrase ?? EXTRA_PHRASES[status];
    if (phrase) return { status, reasonPhrase: phrase };
    return { status, reasonPhrase: SIP_DEFAULTS[Math.floor(status / 100)]!.phrase };
  }
  const exact = STATUS_TABLE.find((x) => x.code === code && x.reason === reason && x.way !== "to-dsip");
  const own =
    exact ??
    STATUS_TABLE.find((x) => x.code === code && x.way === "both") ??
    STATUS_TABLE.find((x) => x.code === code && x.way === "to-sip");
  if (own) return { status: own.status, reasonPhrase: own.phrase };
  const cls = Number.isInteger(code) && code >= 400 && code <= 699 ? Math.floor(code / 100) : 5;
  const d = SIP_DEFAULTS[cls]!;
  return { status: d.status, reasonPhrase: d.phrase };
}

// ------------------------------------------------------------ RFC 3326 Reason

/** A quoted-string's content: no controls, `"` and `\` escaped, bounded. */
function quoted(text: string): string {
  const clean = text.replace(/[\u0000-\u001f\u007f]/g, " ").slice(0, 200);
  return `"${clean.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** `SIP;cause=486;text="callee:busy"` (RFC 3326 §2). */
export function reasonHeaderValue(cause: number, text?: string, protocol: "SIP" | "Q.850" = "SIP"): string {
  return text ? `${protocol};cause=${cause};text=${quoted(text)}` : `${protocol};cause=${cause}`;
}

export interface ReasonValue {
  protocol: string;
  cause?: number;
  text?: string;
}

/**
 * The reason-values of Reason header values (a header may list several,
 * comma-separated, and appear several times). Malformed values are skipped:
 * a Reason header is informative and never worth failing a call over.
 */
export function parseReasonHeaders(values: readonly string[]): ReasonValue[] {
  const out: ReasonValue[] = [];
  for (const value of values) {
    for (const item of splitOutsideQuotes(value, ",")) {
      const parts = splitOutsideQuotes(item, ";").map((p) => p.trim());
      const protocol = parts[0];
      if (!protocol || !/^[A-Za-z0-9.!%*_+`'~-]+$/.test(protocol)) continue;
      const rv: ReasonValue = { protocol };
      for (const p of parts.slice(1)) {
        const eq = p.indexOf("=");
        if (eq < 0) continue;
        const name = p.slice(0, eq).trim().toLowerCase();
        const val = p.slice(eq + 1).trim();
        if (name === "cause" && /^[0-9]{1,5}$/.test(val)) rv.cause = Number(val);
        else if (name === "text")
          rv.text =
            val.startsWith('"') && val.endsWith('"') && val.length >= 2
              ? val.slice(1, -1).replace(/\\(.)/g, "$1")
              : val;
      }
      out.push(rv);
    }
  }
  return out;
}

function splitOutsideQuotes(text: string, sep: string): string[] {
  const out: string[] = [];
  let start = 0;
  let inQuotes = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\\" && inQuotes) i++;
    else if (c === '"') inQuotes = !inQuotes;
    else if (c === sep && !inQuotes) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}
