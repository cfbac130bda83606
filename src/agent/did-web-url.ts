/**
 * did:web → HTTPS URL (w3c-ccg did-method-web), with the input checks a resolver
 * facing attacker-supplied DIDs needs: no IP literals, no userinfo, no `%2F` or
 * `..` in path segments, only a percent-encoded port in the host segment.
 */

export class InvalidDidWebError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidDidWebError";
  }
}

const HOST_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;
const PATH_SEGMENT = /^[A-Za-z0-9._~-]+$/;

export interface DidWebLocation {
  url: URL;
  host: string;
  port: number;
}

export function didWebToUrl(did: string): DidWebLocation {
  if (!did.startsWith("did:web:") || did.length > 2048) throw new InvalidDidWebError("not a did:web");
  const segments = did.slice("did:web:".length).split(":");
  const hostSegment = segments[0] ?? "";
  const portMatch = /^(.*)%3A([0-9]{1,5})$/i.exec(hostSegment);
  const host = (portMatch ? portMatch[1]! : hostSegment).toLowerCase();
  const port = portMatch ? Number(portMatch[2]) : 443;
  if (port < 1 || port > 65535) throw new InvalidDidWebError("port out of range");
  const labels = host.split(".");
  if (host.length === 0 || host.length > 253 || !labels.every((l) => HOST_LABEL.test(l))) {
    throw new InvalidDidWebError("host is not a domain name");
  }
  if (labels.every((l) => /^[0-9]+$/.test(l)) || /^[0-9]+$/.test(labels[labels.length - 1]!)) {
    throw new InvalidDidWebError("host must be a domain name, not an IP address");
  }
  const path = segments.slice(1);
  for (const segment of path) {
    if (!PATH_SEGMENT.test(segment) || segment === "." || segment === "..") {
      throw new InvalidDidWebError("bad path segment");
    }
  }
  const authority = port === 443 ? host : `${host}:${port}`;
  const pathname = path.length === 0 ? "/.well-known/did.json" : `/${path.join("/")}/did.json`;
  return { url: new URL(`https://${authority}${pathname}`), host, port };
}

/** The did:web naming a host (and optional port and path), e.g. for the gateway's own identity. */
export function didWebFor(host: string, port?: number, path: string[] = []): string {
  const hostPart = port && port !== 443 ? `${host}%3A${port}` : host;
  return ["did:web", hostPart, ...path].join(":");
}
