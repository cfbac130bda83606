import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { FIXTURES, TORTURE_DIR } from "../sip/helpers.js";

function cli(args: string[], input?: Buffer) {
  const r = spawnSync("npx", ["tsx", "src/cli.ts", ...args], { input, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("dsip-gateway sip parse", () => {
  it("prints a valid message as JSON and exits 0", () => {
    const r = cli(["sip", "parse", `${FIXTURES}ng911/dsip-to-esinet-invite.sip`]);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json).toMatchObject({
      type: "request",
      method: "INVITE",
      requestUri: { scheme: "urn", nid: "service", nss: "sos" },
    });
    expect(json.headers.cseq).toEqual({ seq: 1, method: "INVITE" });
    expect(json.headers.geolocation[0].uri.scheme).toBe("cid");
    expect(json.body.parts).toHaveLength(5);
  });

  it("prints the reason and the status a server would answer for an invalid message, and exits 1", () => {
    const r = cli(["sip", "parse", `${TORTURE_DIR}badvers.dat`]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual({ valid: false, status: 505, reason: "Version Not Supported" });
    expect(r.stderr).toContain("answer 505");
  });

  it("reads standard input with -", () => {
    const r = cli(
      ["sip", "parse", "-"],
      Buffer.from(
        "SIP/2.0 100 \r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n\r\n",
      ),
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ type: "response", status: 100, reason: "" });
  });

  it("prints one JSON line per file and exits 0 only if all are valid", () => {
    const files = ["wsinv", "bigcode", "ncl"].map((n) => `${TORTURE_DIR}${n}.dat`);
    const r = cli(["sip", "parse", ...files]);
    expect(r.code).toBe(1);
    const lines = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      { file: files[0], valid: true },
      { file: files[1], valid: false, status: "drop", reason: "Invalid status code" },
      { file: files[2], valid: false, status: 400, reason: "Negative Content-Length" },
    ]);
    const ok = cli(["sip", "parse", `${TORTURE_DIR}wsinv.dat`, `${TORTURE_DIR}esc01.dat`]);
    expect(ok.code).toBe(0);
  });

  it("exits 2 on a usage error", () => {
    expect(cli(["sip", "parse", "--no-such-flag"]).code).toBe(2);
    expect(cli(["sip", "parse", "/nonexistent/file.sip"]).code).toBe(2);
  });
});
