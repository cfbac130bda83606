import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ERROR_SPECS } from "../../src/agent/errors.js";
import { MappingError } from "../../src/mapping/errors.js";
import {
  defaultDsipReason,
  dsipErrorToSipStatus,
  ONE_WAY_SIP_STATUSES,
  parseReasonHeaders,
  reasonHeaderValue,
  STATUS_TABLE,
  sipStatusToDsipError,
} from "../../src/mapping/status.js";

describe("status table", () => {
  it.each(STATUS_TABLE.filter((r) => r.way === "both"))("$status ⇄ dsip $code $reason (both ways)", (row) => {
    expect(sipStatusToDsipError(row.status, row.phrase)).toEqual({
      code: row.code,
      reason: row.reason,
      detail: row.phrase,
    });
    expect(dsipErrorToSipStatus(row.code, row.reason)).toEqual({
      status: row.status,
      reasonPhrase: row.phrase,
      reasonHeader: `SIP;cause=${row.status};text="${row.reason}"`,
    });
  });

  it.each(STATUS_TABLE.filter((r) => r.way === "to-sip"))("dsip $code $reason → SIP $status", (row) => {
    expect(dsipErrorToSipStatus(row.code, row.reason)).toMatchObject({
      status: row.status,
      reasonPhrase: row.phrase,
    });
  });

  it.each(STATUS_TABLE.filter((r) => r.way === "to-dsip"))("SIP $status → dsip $code $reason", (row) => {
    expect(sipStatusToDsipError(row.status)).toEqual({ code: row.code, reason: row.reason });
  });

  it("has a row for every refusal the agent sends, and each maps to the SIP status its row names", () => {
    for (const spec of Object.values(ERROR_SPECS)) {
      const own = STATUS_TABLE.find((r) => r.code === spec.code && r.reason === spec.reason);
      expect(own, `${spec.code} ${spec.reason}`).toBeDefined();
      expect(dsipErrorToSipStatus(spec.code, spec.reason).status).toBe(own!.status);
    }
  });

  it("answers protocol failures of the gateway's own messages with 5xx, never blaming the SIP caller", () => {
    expect(dsipErrorToSipStatus(401, "sig:invalid").status).toBe(500);
    expect(dsipErrorToSipStatus(409, "id:replay").status).toBe(500);
    expect(dsipErrorToSipStatus(422, "schema:invalid").status).toBe(500);
    // …while the same code with another reason is the call outcome of the code's own row.
    expect(dsipErrorToSipStatus(404, "number:not-found").status).toBe(404);
    expect(dsipErrorToSipStatus(404, "whatever").status).toBe(404);
    expect(dsipErrorToSipStatus(408, "callee:timeout").status).toBe(408);
  });

  it("maps an offline callee to 480 (not 503) and a rate limit to 503", () => {
    expect(dsipErrorToSipStatus(503, "callee:unavailable")).toMatchObject({
      status: 480,
      reasonPhrase: "Temporarily Unavailable",
    });
    expect(dsipErrorToSipStatus(507, "relay:full").status).toBe(480);
    expect(dsipErrorToSipStatus(429, "rate:too-many-errors").status).toBe(503);
    expect(dsipErrorToSipStatus(429, "other").status).toBe(503);
  });

  it("uses class defaults for codes without a row", () => {
    expect(dsipErrorToSipStatus(418, "teapot")).toMatchObject({ status: 480 });
    expect(dsipErrorToSipStatus(599, "x")).toMatchObject({
      status: 500,
      reasonPhrase: "Server Internal Error",
    });
    expect(dsipErrorToSipStatus(699, "x")).toMatchObject({ status: 603, reasonPhrase: "Decline" });
    expect(dsipErrorToSipStatus(999, "x").status).toBe(500);
    expect(sipStatusToDsipError(433, "Anonymity Disallowed")).toEqual({
      code: 400,
      reason: "sip:433",
      detail: "Anonymity Disallowed",
    });
    expect(sipStatusToDsipError(580)).toEqual({ code: 500, reason: "sip:580" });
    expect(sipStatusToDsipError(699)).toEqual({ code: 600, reason: "sip:699" });
  });

  it("maps an unfollowed redirect to 480 and refuses non-failures", () => {
    expect(sipStatusToDsipError(302, "Moved Temporarily")).toEqual({
      code: 480,
      reason: "sip:302",
      detail: "Moved Temporarily",
    });
    expect(dsipErrorToSipStatus(480, "sip:302").status).toBe(480);
    expect(() => sipStatusToDsipError(200)).toThrow(RangeError);
    expect(() => sipStatusToDsipError(180)).toThrow(RangeError);
    expect(() => sipStatusToDsipError(700)).toThrow(RangeError);
  });

  it("round-trips every SIP failure status: same class, and the same status unless it is one-way", () => {
    expect(ONE_WAY_SIP_STATUSES).toEqual([401, 407]);
    fc.assert(
      fc.property(fc.integer({ min: 400, max: 699 }), fc.string({ maxLength: 40 }), (status, phrase) => {
        const d = sipStatusToDsipError(status, phrase);
        expect(Math.floor(d.code / 100)).toBe(
          ONE_WAY_SIP_STATUSES.includes(status) ? 5 : Math.floor(status / 100),
        );
        const back = dsipErrorToSipStatus(d.code, d.reason, d.detail);
        if (ONE_WAY_SIP_STATUSES.includes(status)) expect(back.status).toBe(502);
        else expect(back.status).toBe(status);
      }),
    );
  });

  it("never sends a challenge status to SIP, even when a peer asks for it", () => {
    expect(dsipErrorToSipStatus(400, "sip:401").status).toBe(400);
    expect(dsipErrorToSipStatus(400, "sip:407").status).toBe(400);
    // A restored status keeps the code's class.
    expect(dsipErrorToSipStatus(500, "sip:486").status).toBe(500);
  });

  it("round-trips every dsip code through SIP within its class", () => {
    fc.assert(
      fc.property(fc.integer({ min: 400, max: 699 }), (code) => {
        const reason = defaultDsipReason(code);
        const sip = dsipErrorToSipStatus(code, reason);
        const back = sipStatusToDsipError(sip.status, sip.reasonPhrase);
        // 4xx protocol errors are the gateway's fault: they become 5xx on purpose.
        const protocol = STATUS_TABLE.some(
          (r) => r.code === code && r.reason === reason && r.way === "to-sip",
        );
        if (!protocol) expect(Math.floor(back.code / 100)).toBe(Math.floor(code / 100));
      }),
    );
  });

  it("carries the DSIP reason and detail in an RFC 3326 Reason header", () => {
    expect(dsipErrorToSipStatus(486, "callee:busy", 'in a "meeting"\r\n')).toEqual({
      status: 486,
      reasonPhrase: "Busy Here",
      reasonHeader: 'SIP;cause=486;text="callee:busy (in a \\"meeting\\"  )"',
    });
    expect(dsipErrorToSipStatus(486, "")).toEqual({ status: 486, reasonPhrase: "Busy Here" });
  });

  it("gives each code a default reason token", () => {
    expect(defaultDsipReason(486)).toBe("callee:busy");
    expect(defaultDsipReason(429)).toBe("rate:too-many-errors");
    expect(defaultDsipReason(499)).toBe("error:499");
  });
});

describe("Reason headers", () => {
  it("builds and parses reason-values", () => {
    const v = reasonHeaderValue(16, 'Normal "call" clearing', "Q.850");
    expect(v).toBe('Q.850;cause=16;text="Normal \\"call\\" clearing"');
    expect(parseReasonHeaders([v])).toEqual([
      { protocol: "Q.850", cause: 16, text: 'Normal "call" clearing' },
    ]);
  });

  it("reads several values, skips malformed ones and tolerates spacing", () => {
    expect(
      parseReasonHeaders([
        'SIP ;cause=200 ;text="Call completed elsewhere", Q.850;cause=16',
        "",
        ";cause=1",
        'Q.850;cause=abc;text="a,b;c"',
      ]),
    ).toEqual([
      { protocol: "SIP", cause: 200, text: "Call completed elsewhere" },
      { protocol: "Q.850", cause: 16 },
      { protocol: "Q.850", text: "a,b;c" },
    ]);
  });
});

describe("MappingError", () => {
  it("carries both sides' answers from the table", () => {
    expect(new MappingError("sip", 488, "x")).toMatchObject({
      side: "sip",
      status: 488,
      code: 488,
      reason: "media:not-acceptable",
      message: "x",
      name: "MappingError",
    });
    expect(new MappingError("sip", 401, "x")).toMatchObject({
      status: 401,
      code: 502,
      reason: "trunk:auth-failed",
    });
    // A callee's malformed message is the server's failure towards a SIP caller.
    expect(new MappingError("dsip", 422, "x")).toMatchObject({
      code: 422,
      reason: "schema:invalid",
      status: 500,
    });
    expect(new MappingError("dsip", 404, "x", "number:not-found")).toMatchObject({ status: 404 });
    expect(new MappingError("dsip", 404, "x")).toMatchObject({ reason: "number:not-found", status: 404 });
  });
});

describe("Reason header properties", () => {
  it("parses back any text it writes (controls become spaces, at most 200 characters)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 699 }),
        fc.string({ minLength: 1, maxLength: 300 }),
        (cause, text) => {
          const [parsed] = parseReasonHeaders([reasonHeaderValue(cause, text)]);
          const clean = text.replace(/[\u0000-\u001f\u007f]/g, " ").slice(0, 200);
          expect(parsed).toEqual({ protocol: "SIP", cause, text: clean });
        },
      ),
    );
  });

  it("never throws on arbitrary header text", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 200 }), { maxLength: 4 }), (values) => {
        for (const r of parseReasonHeaders(values)) expect(r.protocol.length).toBeGreaterThan(0);
      }),
    );
  });
});
