import { describe, expect, it } from "vitest";
import {
  buildAuthorization,
  computeDigestResponse,
  DigestClient,
  DigestServer,
  parseAuthValue,
  parseMessage,
  type SipResponse,
  selectDigestChallenge,
} from "../../src/sip/index.js";

const SECRET = "0123456789abcdef0123456789abcdef";

describe("digest known answers", () => {
  it("RFC 2617 §3.5 (MD5, qop=auth)", () => {
    expect(
      computeDigestResponse({
        algorithm: "MD5",
        username: "Mufasa",
        realm: "testrealm@host.com",
        password: "Circle Of Life",
        method: "GET",
        uri: "/dir/index.html",
        nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
        qop: "auth",
        nc: "00000001",
        cnonce: "0a4f113b",
      }),
    ).toBe("6629fae49393a05397450978507c4ef1");
  });

  const rfc7616 = {
    username: "Mufasa",
    realm: "http-auth@example.org",
    password: "Circle of Life",
    method: "GET",
    uri: "/dir/index.html",
    nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
    qop: "auth" as const,
    nc: "00000001",
    cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
  };

  it("RFC 7616 §3.9.1 (MD5 and SHA-256)", () => {
    expect(computeDigestResponse({ ...rfc7616, algorithm: "MD5" })).toBe("8ca523f5e9506fed4657c9700eebdbec");
    expect(computeDigestResponse({ ...rfc7616, algorithm: "SHA-256" })).toBe(
      "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
    );
  });

  it("builds the RFC 7616 §3.9.1 Authorization from its challenge", () => {
    const challenges = [
      `Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="${rfc7616.nonce}", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`,
      `Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, nonce="${rfc7616.nonce}", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`,
    ].map(parseAuthValue);
    // MD5 listed first must not win over SHA-256.
    const chosen = selectDigestChallenge([challenges[1], challenges[0]]);
    expect(chosen?.algorithm).toBe("SHA-256");
    const value = buildAuthorization(
      chosen!,
      { username: "Mufasa", password: "Circle of Life" },
      { method: "GET", uri: "/dir/index.html", cnonce: rfc7616.cnonce },
    );
    const params = parseAuthValue(value).params;
    expect(params).toMatchObject({
      username: "Mufasa",
      realm: "http-auth@example.org",
      uri: "/dir/index.html",
      algorithm: "SHA-256",
      qop: "auth",
      nc: "00000001",
      cnonce: rfc7616.cnonce,
      opaque: "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS",
      response: "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
    });
  });

  it("answers an RFC 2069 challenge (no qop) without nc or cnonce", () => {
    const c = selectDigestChallenge([
      parseAuthValue('Digest realm="atlanta.com", nonce="84a4cc6f3082121f32b42a2187831a9e"'),
    ]);
    expect(c?.algorithm).toBe("MD5");
    const v = parseAuthValue(
      buildAuthorization(
        c!,
        { username: "bob", password: "zanzibar" },
        { method: "INVITE", uri: "sip:bob@biloxi.com" },
      ),
    ).params;
    expect(v.nc).toBeUndefined();
    expect(v.cnonce).toBeUndefined();
    expect(v.response).toBe(
      computeDigestResponse({
        algorithm: "MD5",
        username: "bob",
        realm: "atlanta.com",
        password: "zanzibar",
        method: "INVITE",
        uri: "sip:bob@biloxi.com",
        nonce: "84a4cc6f3082121f32b42a2187831a9e",
      }),
    );
  });

  it("skips challenges it cannot answer", () => {
    expect(
      selectDigestChallenge([parseAuthValue('Digest realm="a", nonce="n", algorithm=SHA-512-256')]),
    ).toBe(undefined);
    expect(selectDigestChallenge([parseAuthValue('Basic realm="a"')])).toBe(undefined);
    expect(selectDigestChallenge([parseAuthValue('Digest realm="a", nonce="n"')], "b")).toBe(undefined);
  });

  it("reads the challenges of a parsed 407", () => {
    const server = new DigestServer({ realm: "gw.example", secret: SECRET, kind: "proxy" });
    const headers = server.challenge().map((v) => `Proxy-Authenticate: ${v}\r\n`);
    const res = parseMessage(
      Buffer.from(
        "SIP/2.0 407 Proxy Authentication Required\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK1\r\n" +
          "From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\n" +
          headers.join("") +
          "Content-Length: 0\r\n\r\n",
      ),
    ) as SipResponse;
    expect(res.proxyAuthenticate.map((a) => a.params.algorithm)).toEqual(["SHA-256", "MD5"]);
    expect(selectDigestChallenge(res.proxyAuthenticate)?.algorithm).toBe("SHA-256");
  });
});

describe("DigestServer", () => {
  let clock = 1_700_000_000_000;
  const now = () => clock;
  const users: Record<string, string> = { alice: "secret-a" };
  const lookup = (u: string) => users[u];
  const req = { method: "INVITE", requestUri: "sip:+15551230000@gw.example" };

  function answer(
    server: DigestServer,
    opts: { password?: string; nc?: number; algorithm?: "MD5" | "SHA-256"; realm?: string } = {},
  ) {
    const challenges = server.challenge().map(parseAuthValue);
    const c = selectDigestChallenge(
      opts.algorithm ? challenges.filter((v) => v.params.algorithm === opts.algorithm) : challenges,
    )!;
    if (opts.realm) c.realm = opts.realm;
    const value = buildAuthorization(
      c,
      { username: "alice", password: opts.password ?? "secret-a" },
      { method: req.method, uri: req.requestUri, ...(opts.nc ? { nc: opts.nc } : {}) },
    );
    return { value: parseAuthValue(value), challenge: c };
  }

  it("offers one challenge per algorithm, preferred first, with qop=auth", () => {
    const s = new DigestServer({ realm: "gw.example", secret: SECRET, now });
    const values = s.challenge().map(parseAuthValue);
    expect(values.map((v) => v.params.algorithm)).toEqual(["SHA-256", "MD5"]);
    expect(values.every((v) => v.params.qop === "auth" && v.params.realm === "gw.example")).toBe(true);
    expect(s.challengeStatus).toBe(401);
    expect(s.challengeHeader).toBe("WWW-Authenticate");
    expect(s.challenge({ stale: true })[0]).toContain("stale=true");
  });

  it("round trip: SHA-256 and MD5 credentials verify", () => {
    const s = new DigestServer({ realm: "gw.example", secret: SECRET, now });
    for (const algorithm of ["SHA-256", "MD5"] as const) {
      const r = s.verify(answer(s, { algorithm }).value, req, lookup);
      expect(r).toEqual({ ok: true, username: "alice", algorithm });
    }
  });

  it("refuses a wrong password, a wrong realm and an unknown user", () => {
    const s = new DigestServer({ realm: "gw.example", secret: SECRET, now });
    expect(s.verify(answer(s, { password: "nope" }).value, req, lookup)).toMatchObject({
      ok: false,
      status: 401,
      reason: "wrong response",
      stale: false,
    });
    expect(s.verify(answer(s, { realm: "other" }).value, req, lookup)).toMatchObject({
      ok: false,
      reason: "wrong realm",
    });
    expect(s.verify(answer(s).value, req, () => undefined)).toMatchObject({
      ok: false,
      reason: "unknown user",
    });
  });

  it("refuses credentials for another Request-URI or method", () => {
    const s = new DigestServer({ realm: "gw.example", secret: SECRET, now });
    const { value } = answer(s);
    expect(s.verify(value, { ...req, requestUri: "sip:other@gw.example" }, lookup)).toMatchObject({
      ok: false,
      status: 400,
    });
    expect(s.verify(value, { ...req, method: "BYE" }, lookup)).toMatchObject({
      ok: false,
      reason: "wrong response",
    });
  });

  it("refuses nonces it did not issue, including a tampered time", () => {
    const s = new DigestServer({ realm: "gw.example", secret: SECRET, now });
    const other = new DigestServer({ realm: "gw.example", secret: "another-secret-of-32-bytes-long!", now });
    expect(s.verify(answer(other).value, req, lookup)).toMatchObject({
      ok: false,
      reason: "nonce not issued here",
    });
    const nonce = s.createNonce();
    const raw = Buffer.from(nonce, "base64url");
    raw[5] ^= 1;
    expect(s.checkNonce(raw.toString("base64url"))).toBe("invalid");
    expect(s.checkNonce("not-a-nonce")).toBe("invalid");
    expect(s.checkNonce(nonce)).toBe("valid");
  });

  it("says stale=true for an expired nonce with a correct response, without state", () => {
    const s = new DigestServer({ realm: "gw.example", secret: SECRET, now, nonceLifetime: 60 });
    const { value } = answer(s);
    clock += 61_000;
    // A second instance with the same secret judges the nonce alike: the age lives in the nonce.
    const twin = new DigestServer({ realm: "gw.example", secret: SECRET, now, nonceLifetime: 60 });
    expect(twin.verify(value, req, lookup)).toMatchObject({ ok: false, status: 401, stale: true });
    // A wrong password on an old nonce is not told that the nonce is merely stale.
    clock -= 61_000;
    const bad = answer(s, { password: "x" }).value;
    clock += 61_000;
    expect(s.verify(bad, req, lookup)).toMatchObject({ ok: false, stale: false });
  });

  it("refuses a replayed nonce-count and accepts the next one", () => {
    const s = new DigestServer({ realm: "gw.example", secret: SECRET, now });
    const challenges = s.challenge().map(parseAuthValue);
    const c = selectDigestChallenge(challenges)!;
    const cred = { username: "alice", password: "secret-a" };
    const first = parseAuthValue(
      buildAuthorization(c, cred, { method: "INVITE", uri: req.requestUri, nc: 1 }),
    );
    expect(s.verify(first, req, lookup).ok).toBe(true);
    expect(s.verify(first, req, lookup)).toMatchObject({ ok: false, reason: "nonce-count replayed" });
    const second = parseAuthValue(
      buildAuthorization(c, cred, { method: "INVITE", uri: req.requestUri, nc: 2 }),
    );
    expect(second.params.nc).toBe("00000002");
    expect(s.verify(second, req, lookup).ok).toBe(true);
    expect(s.trackedNonces).toBe(1);
  });

  it("uses 407 and Proxy-Authenticate as a proxy, and refuses malformed credentials with 400", () => {
    const s = new DigestServer({ realm: "gw.example", secret: SECRET, now, kind: "proxy" });
    expect(s.challengeStatus).toBe(407);
    expect(s.verify(parseAuthValue('Digest username="alice"'), req, lookup)).toMatchObject({ status: 400 });
    const { value } = answer(s);
    delete value.params.nc;
    expect(s.verify(value, req, lookup)).toMatchObject({ status: 400 });
  });

  it("works without qop (one use per nonce)", () => {
    const s = new DigestServer({ realm: "gw.example", secret: SECRET, now, qop: false, algorithms: ["MD5"] });
    const { value } = answer(s);
    expect(value.params.qop).toBeUndefined();
    expect(s.verify(value, req, lookup).ok).toBe(true);
    expect(s.verify(value, req, lookup).ok).toBe(false);
  });

  it("refuses an algorithm it did not offer", () => {
    const s = new DigestServer({ realm: "gw.example", secret: SECRET, now, algorithms: ["SHA-256"] });
    const md5 = new DigestServer({ realm: "gw.example", secret: SECRET, now, algorithms: ["MD5"] });
    expect(s.verify(answer(md5).value, req, lookup)).toMatchObject({
      ok: false,
      reason: "algorithm not offered",
    });
  });
});

describe("DigestClient", () => {
  const clock = 1_700_000_000_000;
  const now = () => clock;
  const users: Record<string, string> = { alice: "secret-a" };
  const lookup = (u: string) => users[u];
  const request = { method: "INVITE", uri: "sip:+15551230000@gw.example" };
  const verifyReq = { method: "INVITE", requestUri: request.uri };

  function challengeOf(server: DigestServer, stale = false) {
    const values = server.challenge({ stale }).map(parseAuthValue);
    return server.challengeStatus === 407
      ? { status: 407, wwwAuthenticate: [], proxyAuthenticate: values }
      : { status: 401, wwwAuthenticate: values, proxyAuthenticate: [] };
  }

  it("answers a 401 and a 407 with the right header, SHA-256 preferred", () => {
    const client = new DigestClient((realm) =>
      realm === "gw.example" ? { username: "alice", password: "secret-a" } : undefined,
    );
    for (const kind of ["www", "proxy"] as const) {
      const server = new DigestServer({ realm: "gw.example", secret: SECRET, now, kind });
      const a = client.answer(challengeOf(server), request)!;
      expect(a.header).toBe(kind === "www" ? "Authorization" : "Proxy-Authorization");
      expect(server.verify(parseAuthValue(a.value), verifyReq, lookup)).toMatchObject({
        ok: true,
        algorithm: "SHA-256",
      });
    }
  });

  it("gives up when its answer to a nonce is refused, but retries a stale nonce", () => {
    const client = new DigestClient(() => ({ username: "alice", password: "wrong" }));
    const server = new DigestServer({ realm: "gw.example", secret: SECRET, now });
    const first = challengeOf(server);
    expect(client.answer(first, request)).toBeDefined();
    expect(client.answer(first, request)).toBeUndefined();
    expect(client.answer(challengeOf(server, true), request)).toBeDefined();
  });

  it("does not answer without credentials for the realm, or a non-challenge", () => {
    const client = new DigestClient(() => undefined);
    const server = new DigestServer({ realm: "gw.example", secret: SECRET, now });
    expect(client.answer(challengeOf(server), request)).toBeUndefined();
    expect(
      client.answer({ status: 403, wwwAuthenticate: [], proxyAuthenticate: [] }, request),
    ).toBeUndefined();
  });

  it("reuses the nonce for later requests with increasing nc, accepted by the server", () => {
    const client = new DigestClient(() => ({ username: "alice", password: "secret-a" }));
    const server = new DigestServer({ realm: "gw.example", secret: SECRET, now });
    const a = client.answer(challengeOf(server), request)!;
    expect(server.verify(parseAuthValue(a.value), verifyReq, lookup).ok).toBe(true);
    const [b] = client.authorize({ method: "BYE", uri: request.uri });
    expect(parseAuthValue(b!.value).params.nc).toBe("00000002");
    expect(
      server.verify(parseAuthValue(b!.value), { method: "BYE", requestUri: request.uri }, lookup).ok,
    ).toBe(true);
  });
});
