/**
 * DID resolution for the agent: `did-resolver` routes by method to our did:key
 * and hardened did:web drivers, and a key directory turns documents into the
 * node:crypto keys that may authenticate as a DID (cached with a TTL).
 */
import type { KeyObject } from "node:crypto";
import { type DIDResolutionResult, type DIDResolver, Resolver } from "did-resolver";
import type { DidDocument } from "./did-document.js";
import { didKeyDocument } from "./did-key.js";
import { DidWebResolver, type DidWebResolverOptions } from "./did-web-resolver.js";
import { publicKeyFromRaw } from "./ed25519-keys.js";
import { DsipError, ResolutionFailedError, UnknownDidError } from "./errors.js";
import { authenticationKeys } from "./verification-method.js";

export interface DidResolverOptions {
  web?: DidWebResolverOptions;
  /** Documents served locally (e.g. the gateway's own did:web), resolved without a fetch. */
  local?: (did: string) => DidDocument | undefined;
}

/** Resolves a DID to its document; throws a DsipError (404/502/504) on failure. */
export interface DidDocumentSource {
  resolveDocument(did: string): Promise<DidDocument>;
}

// Our typed error travels through did-resolver's metadata and is rebuilt on the other side.
const DSIP_ERROR_KIND = "dsipErrorKind";
const DSIP_ERROR_DETAIL = "dsipErrorDetail";

function failed(err: unknown): DIDResolutionResult {
  const dsip = err instanceof DsipError ? err : new ResolutionFailedError(String(err));
  return {
    didResolutionMetadata: {
      error: dsip.kind === "unknownDid" ? "notFound" : "internalError",
      message: dsip.message,
      [DSIP_ERROR_KIND]: dsip.kind,
      [DSIP_ERROR_DETAIL]: dsip.detail,
    },
    didDocument: null,
    didDocumentMetadata: {},
  };
}

export class AgentDidResolver implements DidDocumentSource {
  readonly router: Resolver;
  readonly web: DidWebResolver;

  constructor(options: DidResolverOptions = {}) {
    this.web = new DidWebResolver(options.web);
    const local = options.local;
    const key: DIDResolver = async (did) => {
      const doc = didKeyDocument(did);
      return doc
        ? {
            didResolutionMetadata: { contentType: "application/did+json" },
            didDocument: doc as never,
            didDocumentMetadata: {},
          }
        : failed(new UnknownDidError("not a valid Ed25519 did:key"));
    };
    const web: DIDResolver = async (did) => {
      try {
        const doc = local?.(did) ?? (await this.web.resolve(did));
        return {
          didResolutionMetadata: { contentType: "application/did+json" },
          didDocument: doc as never,
          didDocumentMetadata: {},
        };
      } catch (err) {
        return failed(err);
      }
    };
    this.router = new Resolver({ key, web });
  }

  async resolveDocument(did: string): Promise<DidDocument> {
    const result = await this.router.resolve(did);
    if (result.didDocument) return result.didDocument as unknown as DidDocument;
    const meta = result.didResolutionMetadata;
    const kind = meta[DSIP_ERROR_KIND] as DsipError["kind"] | undefined;
    if (kind) throw new DsipError(kind, meta[DSIP_ERROR_DETAIL] as string | undefined);
    // did-resolver's own errors: invalidDid, unsupportedDidMethod.
    throw new UnknownDidError(meta.error ?? "unresolvable");
  }
}

/** Keys that may authenticate as a DID, by absolute key id. */
export interface AuthenticationKeySource {
  authenticationKeys(did: string): Promise<ReadonlyMap<string, KeyObject>>;
}

export class KeyDirectory implements AuthenticationKeySource {
  private readonly cache = new Map<string, { expires: number; keys: ReadonlyMap<string, KeyObject> }>();

  constructor(
    private readonly documents: DidDocumentSource,
    private readonly ttlMs = 5 * 60_000,
    private readonly maxEntries = 50_000,
  ) {}

  async authenticationKeys(did: string): Promise<ReadonlyMap<string, KeyObject>> {
    const hit = this.cache.get(did);
    if (hit && hit.expires > Date.now()) return hit.keys;
    const doc = await this.documents.resolveDocument(did);
    const keys = new Map<string, KeyObject>();
    for (const [kid, raw] of authenticationKeys(doc)) keys.set(kid, publicKeyFromRaw(raw));
    if (this.cache.size >= this.maxEntries) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(did, { expires: Date.now() + this.ttlMs, keys });
    return keys;
  }

  forget(did: string): void {
    this.cache.delete(did);
  }
}
