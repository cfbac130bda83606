/**
 * A hardened did:web resolver. DIDs arrive in attacker-controlled messages, so:
 * HTTPS only, every resolved address checked by the AddressPolicy at connect time
 * (no DNS rebinding between check and connect), one overall timeout, a body size
 * cap, redirects only to the same host, a TTL cache, a negative cache and one
 * in-flight fetch per DID.
 */
import { lookup as dnsLookup } from "node:dns";
import { request } from "node:https";
import type { LookupFunction } from "node:net";
import { createSecureContext, rootCertificates, type SecureContext } from "node:tls";
import { AddressPolicy } from "./address-policy.js";
import type { DidDocument } from "./did-document.js";
import { didWebToUrl, InvalidDidWebError } from "./did-web-url.js";
import { DsipError, ResolutionFailedError, ResolutionTimeoutError, UnknownDidError } from "./errors.js";

export interface DidWebResolverOptions {
  /** Addresses or CIDRs that may be fetched although private or loopback. */
  allowPrivateAddresses?: readonly string[];
  /** Extra trusted CA certificates (PEM), added to Node's default roots. */
  ca?: string | readonly string[];
  timeoutMs?: number;
  maxBytes?: number;
  maxRedirects?: number;
  cacheTtlMs?: number;
  negativeCacheTtlMs?: number;
  maxCacheEntries?: number;
  /** Fetches in flight to one host; more wait their turn (within the same timeout). */
  maxPerHost?: number;
}

interface CacheEntry {
  expires: number;
  doc?: DidDocument;
  error?: DsipError;
}

export class DidWebResolver {
  private readonly policy: AddressPolicy;
  private readonly timeoutMs: number;
  private readonly maxBytes: number;
  private readonly maxRedirects: number;
  private readonly cacheTtlMs: number;
  private readonly negativeCacheTtlMs: number;
  private readonly maxCacheEntries: number;
  private readonly secureContext: SecureContext | undefined;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inFlight = new Map<string, Promise<DidDocument>>();
  private readonly maxPerHost: number;
  private readonly hostSlots = new Map<string, { active: number; waiting: (() => void)[] }>();

  constructor(options: DidWebResolverOptions = {}) {
    this.policy = new AddressPolicy(options.allowPrivateAddresses ?? []);
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.maxBytes = options.maxBytes ?? 64 * 1024;
    this.maxRedirects = options.maxRedirects ?? 3;
    this.cacheTtlMs = options.cacheTtlMs ?? 5 * 60_000;
    this.negativeCacheTtlMs = options.negativeCacheTtlMs ?? 30_000;
    this.maxCacheEntries = options.maxCacheEntries ?? 10_000;
    this.maxPerHost = options.maxPerHost ?? 4;
    if (options.ca !== undefined) {
      const extra = typeof options.ca === "string" ? [options.ca] : [...options.ca];
      // Passing `ca` replaces Node's roots, so add them back; built once, not per fetch.
      this.secureContext = createSecureContext({ ca: [...rootCertificates, ...extra] });
    }
  }

  /** Resolves and validates a did:web document; throws a DsipError on failure. */
  async resolve(did: string): Promise<DidDocument> {
    const now = Date.now();
    const cached = this.cache.get(did);
    if (cached && cached.expires > now) {
      if (cached.doc) return cached.doc;
      throw cached.error!;
    }
    const pending = this.inFlight.get(did);
    if (pending) return pending;
    const fetching = this.fetchDocument(did).then(
      (doc) => {
        this.remember(did, { expires: Date.now() + this.cacheTtlMs, doc });
        return doc;
      },
      (err: unknown) => {
        const error = err instanceof DsipError ? err : new ResolutionFailedError(String(err));
        this.remember(did, { expires: Date.now() + this.negativeCacheTtlMs, error });
        throw error;
      },
    );
    this.inFlight.set(did, fetching);
    try {
      return await fetching;
    } finally {
      this.inFlight.delete(did);
    }
  }

  clearCache(): void {
    this.cache.clear();
  }

  private remember(did: string, entry: CacheEntry): void {
    if (this.cache.size >= this.maxCacheEntries) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(did, entry);
  }

  private async fetchDocument(did: string): Promise<DidDocument> {
    let location: ReturnType<typeof didWebToUrl>;
    try {
      location = didWebToUrl(did);
    } catch (err) {
      throw new UnknownDidError(err instanceof InvalidDidWebError ? err.message : "invalid did:web");
    }
    const deadline = Date.now() + this.timeoutMs;
    await this.acquireHost(location.host, deadline);
    try {
      return await this.fetchFrom(did, location.url, deadline);
    } finally {
      this.releaseHost(location.host);
    }
  }

  private acquireHost(host: string, deadline: number): Promise<void> {
    let slot = this.hostSlots.get(host);
    if (!slot) {
      slot = { active: 0, waiting: [] };
      this.hostSlots.set(host, slot);
    }
    if (slot.active < this.maxPerHost) {
      slot.active++;
      return Promise.resolve();
    }
    const queue = slot;
    return new Promise((resolve, reject) => {
      const grant = () => {
        clearTimeout(timer);
        queue.active++;
        resolve();
      };
      const timer = setTimeout(
        () => {
          queue.waiting.splice(queue.waiting.indexOf(grant), 1);
          reject(new ResolutionTimeoutError(`${host}: waiting for a fetch slot`));
        },
        Math.max(0, deadline - Date.now()),
      );
      queue.waiting.push(grant);
    });
  }

  private releaseHost(host: string): void {
    const slot = this.hostSlots.get(host);
    if (!slot) return;
    slot.active--;
    const next = slot.waiting.shift();
    if (next) next();
    else if (slot.active === 0) this.hostSlots.delete(host);
  }

  private async fetchFrom(did: string, first: URL, deadline: number): Promise<DidDocument> {
    let url = first;
    for (let hop = 0; ; hop++) {
      const result = await this.get(url, deadline);
      if (result.kind === "body") return parseDocument(did, result.body);
      if (hop >= this.maxRedirects) throw new ResolutionFailedError("too many redirects");
      let next: URL;
      try {
        next = new URL(result.location, url);
      } catch {
        throw new ResolutionFailedError("bad redirect location");
      }
      if (next.protocol !== "https:" || next.host !== url.host) {
        throw new ResolutionFailedError(`redirect to another host refused (${next.host})`);
      }
      url = next;
    }
  }

  private get(
    url: URL,
    deadline: number,
  ): Promise<{ kind: "body"; body: Buffer } | { kind: "redirect"; location: string }> {
    const policy = this.policy;
    const guardedLookup: LookupFunction = (hostname, options, callback) => {
      dnsLookup(hostname, { all: true, family: options.family ?? 0 }, (err, addresses) => {
        if (err) return callback(err, "", 0);
        const allowed = addresses.filter((a) => policy.isAllowed(a.address));
        if (allowed.length === 0) {
          const refused = Object.assign(new Error(`address of ${hostname} is private or reserved`), {
            code: "DSIP_ADDRESS_REFUSED",
          });
          return callback(refused, "", 0);
        }
        if (options.all) return (callback as unknown as (e: null, a: typeof allowed) => void)(null, allowed);
        const first = allowed[0]!;
        return callback(null, first.address, first.family);
      });
    };
    return new Promise((resolve, reject) => {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return reject(new ResolutionTimeoutError(url.host));
      let settled = false;
      const fail = (err: DsipError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        reject(err);
      };
      const req = request(
        url,
        {
          method: "GET",
          headers: { accept: "application/did+json, application/json" },
          lookup: guardedLookup,
          agent: false,
          ...(this.secureContext ? { secureContext: this.secureContext } : {}),
        },
        (res) => {
          const status = res.statusCode ?? 0;
          if (status >= 300 && status < 400 && typeof res.headers.location === "string") {
            res.resume();
            settled = true;
            clearTimeout(timer);
            resolve({ kind: "redirect", location: res.headers.location });
            return;
          }
          if (status !== 200) {
            res.resume();
            return fail(
              status === 404
                ? new UnknownDidError(`HTTP 404 from ${url.host}`)
                : new ResolutionFailedError(`HTTP ${status}`),
            );
          }
          const declared = Number(res.headers["content-length"] ?? 0);
          if (declared > this.maxBytes) return fail(new ResolutionFailedError("document too large"));
          const chunks: Buffer[] = [];
          let size = 0;
          res.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size > this.maxBytes) return fail(new ResolutionFailedError("document too large"));
            chunks.push(chunk);
          });
          res.on("end", () => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            resolve({ kind: "body", body: Buffer.concat(chunks) });
          });
          res.on("error", (err) => fail(new ResolutionFailedError(err.message)));
        },
      );
      const timer = setTimeout(() => fail(new ResolutionTimeoutError(url.host)), remaining);
      req.on("error", (err: NodeJS.ErrnoException) => {
        if (err.code === "DSIP_ADDRESS_REFUSED") return fail(new ResolutionFailedError(err.message));
        fail(new ResolutionFailedError(`${url.host}: ${err.code ?? err.message}`));
      });
      req.end();
    });
  }
}

function parseDocument(did: string, body: Buffer): DidDocument {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString("utf8"));
  } catch {
    throw new ResolutionFailedError("document is not JSON");
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new ResolutionFailedError("document is not a JSON object");
  }
  if ((doc as { id?: unknown }).id !== did)
    throw new ResolutionFailedError("document id differs from the DID");
  return doc as DidDocument;
}
