import { describe, expect, it } from "vitest";
import { createRequest } from "../../src/sip/builder.js";
import { parseVia } from "../../src/sip/headers/via.js";
import { responseDestination, stampReceived } from "../../src/sip/transport/routing.js";

function withVia(via: string) {
  return createRequest({
    method: "OPTIONS",
    uri: "sip:x@y",
    headers: [
      ["Via", via],
      ["Via", "SIP/2.0/UDP second"],
    ],
  });
}

describe("received/rport (RFC 3581) and response routing (RFC 3261 §18.2.2)", () => {
  it("leaves a Via untouched when sent-by is the source and no rport was asked", () => {
    const req = withVia("SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1");
    stampReceived(req, req.topVia!, { protocol: "UDP", host: "10.0.0.1", port: 5060 });
    expect(req.headerValues("via")[0]).toBe("SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1");
  });

  it("adds received when the sent-by host differs, and fills rport", () => {
    const req = withVia("SIP/2.0/UDP phone.example:5060;branch=z9hG4bK1;rport");
    stampReceived(req, req.topVia!, { protocol: "UDP", host: "192.0.2.7", port: 40123 });
    const via = req.topVia!;
    expect(via.params.received).toBe("192.0.2.7");
    expect(via.params.rport).toBe("40123");
    expect(req.via).toHaveLength(2);
  });

  it("routes UDP responses to source ip with rport, else to the sent-by port, and honours maddr", () => {
    const src = { protocol: "UDP" as const, host: "192.0.2.7", port: 40123 };
    expect(responseDestination(parseVia("SIP/2.0/UDP h:5062;rport=40123;branch=z9hG4bK1"), src)).toEqual(src);
    expect(responseDestination(parseVia("SIP/2.0/UDP h:5062;branch=z9hG4bK1"), src)).toEqual({
      ...src,
      port: 5062,
    });
    expect(responseDestination(parseVia("SIP/2.0/UDP h;branch=z9hG4bK1"), src).port).toBe(5060);
    expect(responseDestination(parseVia("SIP/2.0/UDP h:5062;maddr=239.1.1.1;branch=z9hG4bK1"), src)).toEqual({
      protocol: "UDP",
      host: "239.1.1.1",
      port: 5062,
    });
  });

  it("answers reliable transports on the connection the request came from", () => {
    const src = { protocol: "TCP" as const, host: "::1", port: 50000 };
    expect(responseDestination(parseVia("SIP/2.0/TCP [::1]:5060;branch=z9hG4bK1"), src)).toEqual(src);
  });
});
