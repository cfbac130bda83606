/**
 * Digest authentication for SIP (RFC 3261 §22, with the RFC 7616 computation
 * rules and the SHA-256 algorithm that RFC 8760 brings to SIP).
 *
 * Client side: pick the best challenge of a 401/407 and answer it.
 * Server side: issue challenges (one per algorithm, preferred first), with
 * nonces that carry their own issue time and an HMAC, so a nonce's origin and
 * age are checked without remembering it; only the nonce-counts seen per nonce
 * are remembered, to refuse replays, and they are forgotten once the nonce has
 * expired anyway.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { quoteString } from "./grammar.js";
import type { AuthValue } from "./headers/auth.js";

export type DigestAlgorithm = "MD5" | "MD5-sess" | "SHA-256" | "SHA-256-sess";

/** Strongest first: the order a client prefers and a server offers. */
const PREFERENCE: readonly DigestAlgorithm[] = ["SHA-256", "SHA-256-sess", "MD5", "MD5-sess"];

/** A digest problem, carrying the SIP status a UAS answers it with. */
export class DigestError extends Error {
  override readonly name = "DigestError";
  constructor(
    message: string,
    /** 400 for malformed credentials or challenges, 401/407 to challenge again, 403 to refuse. */
    readonly status: number = 400,
  ) {
    super(message);
  }
}

function canonicalAlgorithm(value: string | undefined): DigestAlgorithm | undefined {
  // RFC 7616 §3.3: an absent algorithm means MD5; names are case-insensitive.
  if (value === undefined) return "MD5";
  switch (value.toUpperCase()) {
    case "MD5":
      return "MD5";
    case "MD5-SESS":
      return "MD5-sess";
    case "SHA-256":
      return "SHA-256";
    case "SHA-256-SESS":
      return "SHA-256-sess";
    default:
      return undefined;
  }
}

function hashHex(algorithm: DigestAlgorithm, data: string | Uint8Array): string {
  const name = algorithm.startsWith("SHA-256") ? "sha256" : "md5";
  return createHash(name).update(data).digest("hex");
}

export interface DigestInputs {
  algorithm: DigestAlgorithm;
  username: string;
  realm: string;
  password: string;
  method: string;
  uri: string;
  nonce: string;
  /** "auth", "auth-int" or undefined for the RFC 2069 form without qop. */
  qop?: "auth" | "auth-int" | undefined;
  /** Eight hex digits, e.g. "00000001"; required with qop. */
  nc?: string | undefined;
  cnonce?: string | undefined;
  /** The message body, for qop=auth-int. */
  body?: string | Uint8Array | undefined;
}

/** The `response` value (RFC 7616 §3.4.1–3.4.3; RFC 2617 when qop is absent). */
export function computeDigestResponse(i: DigestInputs): string {
  let ha1 = hashHex(i.algorithm, `${i.username}:${i.realm}:${i.password}`);
  if (i.algorithm.endsWith("-sess")) {
    if (i.cnonce === undefined) throw new DigestError("-sess algorithms need a cnonce");
    ha1 = hashHex(i.algorithm, `${ha1}:${i.nonce}:${i.cnonce}`);
  }
  const a2 =
    i.qop === "auth-int"
      ? `${i.method}:${i.uri}:${hashHex(i.algorithm, i.body ?? "")}`
      : `${i.method}:${i.uri}`;
  const ha2 = hashHex(i.algorithm, a2);
  if (i.qop === undefined) return hashHex(i.algorithm, `${ha1}:${i.nonce}:${ha2}`);
  if (i.nc === undefined || i.cnonce === undefined) throw new DigestError("qop needs nc and cnonce");
  return hashHex(i.algorithm, `${ha1}:${i.nonce}:${i.nc}:${i.cnonce}:${i.qop}:${ha2}`);
}

// ---------------------------------------------------------------- client side

/** A parsed Digest challenge we know how to answer. */
export interface DigestChallenge {
  realm: string;
  nonce: string;
  algorithm: DigestAlgorithm;
  opaque?: string | undefined;
  /** The qop values offered, lower case; empty for an RFC 2069 challenge. */
  qop: string[];
  stale: boolean;
}

function readChallenge(value: AuthValue): DigestChallenge | undefined {
  if (value.scheme.toLowerCase() !== "digest") return undefined;
  const p = value.params;
  const algorithm = canonicalAlgorithm(p.algorithm);
  if (algorithm === undefined || p.realm === undefined || p.nonce === undefined) return undefined;
  const qop = (p.qop ?? "")
    .split(",")
    .map((q) => q.trim().toLowerCase())
    .filter((q) => q.length > 0);
  return {
    realm: p.realm,
    nonce: p.nonce,
    algorithm,
    opaque: p.opaque,
    qop,
    stale: (p.stale ?? "").toLowerCase() === "true",
  };
}

/**
 * The challenge to answer among those of one 401/407 (all its WWW-Authenticate
 * or Proxy-Authenticate values): the strongest algorithm we support, so
 * SHA-256 wins over MD5 when both are offered (RFC 8760 §2.4). Undefined when
 * none is a Digest challenge we can compute.
 */
export function selectDigestChallenge(
  challenges: readonly AuthValue[],
  realm?: string,
): DigestChallenge | undefined {
  let best: DigestChallenge | undefined;
  for (const value of challenges) {
    const c = readChallenge(value);
    if (!c || (realm !== undefined && c.realm !== realm)) continue;
    // A challenge that offers qop but neither auth nor auth-int is one we cannot answer.
    if (c.qop.length > 0 && !c.qop.includes("auth") && !c.qop.includes("auth-int")) continue;
    if (!best || PREFERENCE.indexOf(c.algorithm) < PREFERENCE.indexOf(best.algorithm)) best = c;
  }
  return best;
}

export interface DigestCredentials {
  username: string;
  password: string;
}

export interface AuthorizeOptions {
  method: string;
  /** The Request-URI of the request being authorised, as it will be sent. */
  uri: string;
  /** Nonce-count to use; the caller increments it when reusing a nonce. Default 1. */
  nc?: number;
  /** Default: 16 random bytes, hex. Injectable for known-answer tests. */
  cnonce?: string;
  /** For qop=auth-int (used only when the challenge offers auth-int and not auth). */
  body?: string | Uint8Array;
}

/** The Authorization / Proxy-Authorization value answering `challenge`. */
export function buildAuthorization(
  challenge: DigestChallenge,
  credentials: DigestCredentials,
  opts: AuthorizeOptions,
): string {
  // auth is preferred: auth-int hashes the body, which a B2BUA may not have in final form.
  const qop = challenge.qop.includes("auth")
    ? "auth"
    : challenge.qop.includes("auth-int")
      ? "auth-int"
      : undefined;
  const sess = challenge.algorithm.endsWith("-sess");
  const cnonce = qop || sess ? (opts.cnonce ?? randomBytes(16).toString("hex")) : undefined;
  const nc = qop ? (opts.nc ?? 1).toString(16).padStart(8, "0") : undefined;
  const response = computeDigestResponse({
    algorithm: challenge.algorithm,
    username: credentials.username,
    realm: challenge.realm,
    password: credentials.password,
    method: opts.method,
    uri: opts.uri,
    nonce: challenge.nonce,
    qop,
    nc,
    cnonce,
    body: opts.body,
  });
  const parts = [
    `username=${quoteString(credentials.username)}`,
    `realm=${quoteString(challenge.realm)}`,
    `nonce=${quoteString(challenge.nonce)}`,
    `uri=${quoteString(opts.uri)}`,
    `response=${quoteString(response)}`,
    `algorithm=${challenge.algorithm}`,
  ];
  if (cnonce !== undefined) parts.push(`cnonce=${quoteString(cnonce)}`);
  if (challenge.opaque !== undefined) parts.push(`opaque=${quoteString(challenge.opaque)}`);
  if (qop !== undefined) parts.push(`qop=${qop}`, `nc=${nc}`);
  return `Digest ${parts.join(", ")}`;
}

/** A challenge response as the client sees it: the status and its challenge header values. */
export interface ChallengeResponse {
  status: number;
  wwwAuthenticate: readonly AuthValue[];
  proxyAuthenticate: readonly AuthValue[];
}

export interface DigestAnswer {
  header: "Authorization" | "Proxy-Authorization";
  value: string;
}

/**
 * A UAC's digest state towards one peer: answers 401/407 challenges, counts
 * nonce uses (nc) so later requests can reuse a nonce, and gives up instead of
 * looping when a fresh answer to the same nonce is challenged again (a wrong
 * password), unless the server said the nonce was only stale.
 */
export class DigestClient {
  /** Per challenge kind, the challenge in use and how many times its nonce was used. */
  private readonly current = new Map<DigestAnswer["header"], { challenge: DigestChallenge; nc: number }>();

  constructor(
    /** Credentials for a realm, or undefined when we have none for it. */
    private readonly credentials: (realm: string) => DigestCredentials | undefined,
  ) {}

  /**
   * The header to add when resending the request that drew `response`, or
   * undefined when it should not be retried (not a 401/407, no challenge we
   * can answer, no credentials, or our answer to this nonce was refused).
   */
  answer(
    response: ChallengeResponse,
    request: { method: string; uri: string; body?: string | Uint8Array },
  ): DigestAnswer | undefined {
    const proxy = response.status === 407;
    if (!proxy && response.status !== 401) return undefined;
    const header = proxy ? "Proxy-Authorization" : "Authorization";
    const offered = proxy ? response.proxyAuthenticate : response.wwwAuthenticate;
    const challenge = selectDigestChallenge(
      offered.filter((v) => {
        const realm = v.params.realm;
        return realm !== undefined && this.credentials(realm) !== undefined;
      }),
    );
    if (!challenge) return undefined;
    const previous = this.current.get(header);
    // Challenged again on the nonce we just answered, and not for staleness: the credentials are wrong.
    if (previous && previous.challenge.nonce === challenge.nonce && !challenge.stale) return undefined;
    const state = { challenge, nc: 0 };
    this.current.set(header, state);
    return this.use(header, state, request);
  }

  /** Pre-emptive credentials for a later request, reusing the last challenge with the next nc. */
  authorize(request: { method: string; uri: string; body?: string | Uint8Array }): DigestAnswer[] {
    const out: DigestAnswer[] = [];
    for (const [header, state] of this.current) {
      // Without qop a nonce cannot be counted, so reusing it would be a replay.
      if (state.challenge.qop.length === 0) continue;
      const answer = this.use(header, state, request);
      if (answer) out.push(answer);
    }
    return out;
  }

  private use(
    header: DigestAnswer["header"],
    state: { challenge: DigestChallenge; nc: number },
    request: { method: string; uri: string; body?: string | Uint8Array },
  ): DigestAnswer | undefined {
    const creds = this.credentials(state.challenge.realm);
    if (!creds) return undefined;
    state.nc++;
    return {
      header,
      value: buildAuthorization(state.challenge, creds, {
        method: request.method,
        uri: request.uri,
        nc: state.nc,
        ...(request.body !== undefined ? { body: request.body } : {}),
      }),
    };
  }
}

// ---------------------------------------------------------------- server side

export interface DigestServerOptions {
  realm: string;
  /** HMAC key for nonces; at least 16 bytes. Servers sharing it accept each other's nonces. */
  secret: Uint8Array | string;
  /** Offered in this order, the preferred first. Default ["SHA-256", "MD5"]. */
  algorithms?: readonly ("MD5" | "SHA-256")[];
  /** Seconds a nonce is good for. Default 300. */
  nonceLifetime?: number;
  /** Offer qop="auth" (default true); false issues RFC 2069-style challenges. */
  qop?: boolean;
  /** "www" answers 401 with WWW-Authenticate, "proxy" 407 with Proxy-Authenticate. */
  kind?: "www" | "proxy";
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number;
}

export type DigestPasswordLookup = (username: string, realm: string) => string | undefined;

export interface VerifyRequest {
  method: string;
  /** The Request-URI as received, to compare with the credentials' `uri`. */
  requestUri: string;
  body?: string | Uint8Array;
}

export type DigestVerifyResult =
  | { ok: true; username: string; algorithm: DigestAlgorithm }
  | {
      ok: false;
      /** 400 malformed, 401/407 challenge again (with `stale` when only the nonce aged), 403 refused. */
      status: number;
      reason: string;
      stale: boolean;
    };

const NONCE_TIME_BYTES = 6;
const NONCE_RANDOM_BYTES = 9;
const NONCE_MAC_BYTES = 18;
const NONCE_BYTES = NONCE_TIME_BYTES + NONCE_RANDOM_BYTES + NONCE_MAC_BYTES;

/**
 * A digest server: challenges and verifies. One instance per realm; it keeps
 * only the nonce-counts seen, for replay protection, bounded by the nonce lifetime.
 */
export class DigestServer {
  readonly realm: string;
  readonly algorithms: readonly ("MD5" | "SHA-256")[];
  readonly nonceLifetime: number;
  readonly challengeStatus: 401 | 407;
  readonly challengeHeader: "WWW-Authenticate" | "Proxy-Authenticate";
  private readonly secret: Buffer;
  private readonly qop: boolean;
  private readonly now: () => number;
  /** nonce → nonce-counts already used with it (qop) or "used" (no qop: one use per nonce). */
  private readonly seen = new Map<string, { expires: number; counts: Set<number> }>();
  private lastSweep = 0;

  constructor(opts: DigestServerOptions) {
    this.secret = Buffer.from(opts.secret);
    if (this.secret.length < 16) throw new DigestError("digest secret must be at least 16 bytes", 500);
    this.realm = opts.realm;
    this.algorithms = opts.algorithms ?? ["SHA-256", "MD5"];
    if (this.algorithms.length === 0) throw new DigestError("at least one digest algorithm", 500);
    this.nonceLifetime = opts.nonceLifetime ?? 300;
    this.qop = opts.qop ?? true;
    this.now = opts.now ?? Date.now;
    const proxy = opts.kind === "proxy";
    this.challengeStatus = proxy ? 407 : 401;
    this.challengeHeader = proxy ? "Proxy-Authenticate" : "WWW-Authenticate";
  }

  /** A fresh nonce: issue time (seconds), random bytes and an HMAC over both and the realm. */
  createNonce(): string {
    const body = Buffer.alloc(NONCE_TIME_BYTES + NONCE_RANDOM_BYTES);
    body.writeUIntBE(Math.floor(this.now() / 1000), 0, NONCE_TIME_BYTES);
    randomBytes(NONCE_RANDOM_BYTES).copy(body, NONCE_TIME_BYTES);
    return Buffer.concat([body, this.mac(body)]).toString("base64url");
  }

  private mac(body: Buffer): Buffer {
    return createHmac("sha256", this.secret)
      .update(body)
      .update(this.realm)
      .digest()
      .subarray(0, NONCE_MAC_BYTES);
  }

  /** "valid", "stale" (ours but expired) or "invalid" (not ours, or issued in the future). */
  checkNonce(nonce: string): "valid" | "stale" | "invalid" {
    const raw = Buffer.from(nonce, "base64url");
    if (raw.length !== NONCE_BYTES || raw.toString("base64url") !== nonce) return "invalid";
    const body = raw.subarray(0, NONCE_TIME_BYTES + NONCE_RANDOM_BYTES);
    if (!timingSafeEqual(raw.subarray(body.length), this.mac(body))) return "invalid";
    const issued = raw.readUIntBE(0, NONCE_TIME_BYTES);
    const age = Math.floor(this.now() / 1000) - issued;
    if (age < -5) return "invalid";
    return age > this.nonceLifetime ? "stale" : "valid";
  }

  /**
   * Challenge header values, one per algorithm, preferred first (RFC 8760 §2.4),
   * all with the same nonce. `stale` tells the client that only the nonce aged,
   * so it retries without asking the user again.
   */
  challenge(opts: { stale?: boolean } = {}): string[] {
    const nonce = this.createNonce();
    return this.algorithms.map((algorithm) => {
      const parts = [`realm=${quoteString(this.realm)}`, `nonce=${quoteString(nonce)}`];
      if (this.qop) parts.push(`qop="auth"`);
      parts.push(`algorithm=${algorithm}`);
      if (opts.stale) parts.push("stale=true");
      return `Digest ${parts.join(", ")}`;
    });
  }

  /**
   * Checks Authorization / Proxy-Authorization credentials. Failures say the
   * status to answer: 400 for malformed credentials, the challenge status
   * (401/407, with `stale` when only the nonce expired) otherwise, so the
   * caller answers with a new `challenge()`.
   */
  verify(credentials: AuthValue, request: VerifyRequest, lookup: DigestPasswordLookup): DigestVerifyResult {
    const fail = (status: number, reason: string, stale = false): DigestVerifyResult => ({
      ok: false,
      status,
      reason,
      stale,
    });
    if (credentials.scheme.toLowerCase() !== "digest") return fail(this.challengeStatus, "not Digest");
    const p = credentials.params;
    const { username, realm, nonce, uri, response } = p;
    if (
      username === undefined ||
      realm === undefined ||
      nonce === undefined ||
      uri === undefined ||
      response === undefined
    )
      return fail(400, "Digest credentials lack username, realm, nonce, uri or response");
    if (realm !== this.realm) return fail(this.challengeStatus, "wrong realm");
    const algorithm = canonicalAlgorithm(p.algorithm);
    if (algorithm === undefined || !(this.algorithms as readonly string[]).includes(algorithm))
      return fail(this.challengeStatus, "algorithm not offered");
    const qop = p.qop?.toLowerCase();
    let nc: number | undefined;
    if (this.qop) {
      if (qop !== "auth") return fail(this.challengeStatus, "qop=auth required");
      if (p.nc === undefined || !/^[0-9a-fA-F]{8}$/.test(p.nc) || p.cnonce === undefined)
        return fail(400, "qop=auth credentials need nc (8 hex digits) and cnonce");
      nc = Number.parseInt(p.nc, 16);
    } else if (qop !== undefined) {
      return fail(this.challengeStatus, "qop not offered");
    }
    // RFC 3261 §22.4 asks the server to check that uri names the Request-URI.
    if (uri !== request.requestUri) return fail(400, "Digest uri differs from the Request-URI");
    const state = this.checkNonce(nonce);
    if (state === "invalid") return fail(this.challengeStatus, "nonce not issued here");
    const password = lookup(username, realm);
    if (password === undefined) return fail(this.challengeStatus, "unknown user");
    const expected = computeDigestResponse({
      algorithm,
      username,
      realm,
      password,
      method: request.method,
      uri,
      nonce,
      qop: qop === "auth" ? "auth" : undefined,
      nc: p.nc,
      cnonce: p.cnonce,
      body: request.body,
    });
    const a = Buffer.from(expected, "utf8");
    const b = Buffer.from(response.toLowerCase(), "utf8");
    if (a.length !== b.length || !timingSafeEqual(a, b)) return fail(this.challengeStatus, "wrong response");
    // Only a correct response may learn that its nonce is merely old (RFC 7616 §3.3, stale).
    if (state === "stale") return fail(this.challengeStatus, "nonce expired", true);
    if (!this.markSeen(nonce, nc ?? 0)) return fail(this.challengeStatus, "nonce-count replayed");
    return { ok: true, username, algorithm };
  }

  /** False when this nonce-count (or, without qop, this nonce) was already used. */
  private markSeen(nonce: string, nc: number): boolean {
    const now = this.now();
    if (now - this.lastSweep > 60_000) {
      this.lastSweep = now;
      for (const [n, s] of this.seen) if (s.expires < now) this.seen.delete(n);
    }
    let entry = this.seen.get(nonce);
    if (!entry) {
      entry = { expires: now + (this.nonceLifetime + 10) * 1000, counts: new Set() };
      this.seen.set(nonce, entry);
    }
    if (entry.counts.has(nc)) return false;
    entry.counts.add(nc);
    return true;
  }

  /** Nonces currently remembered for replay checks (for metrics and tests). */
  get trackedNonces(): number {
    return this.seen.size;
  }
}
