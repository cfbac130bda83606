/**
 * The gateway's HTTP listener: health and readiness, Prometheus metrics, the
 * gateway's own DID document, the documents of its numbers' tn DIDs
 * (/tn/<digits>/did.json) and the DSIP WebSocket endpoint (upgrade on /dsip).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { didWebToUrl } from "../agent/did-web-url.js";
import type { GatewayAgent } from "../agent/gateway-agent.js";
import type { GatewayMetrics } from "./metrics.js";

/** What /readyz reports: whether a load balancer should send new calls here. */
export type Readiness = { ready: true } | { ready: false; reason: string };

export interface OpsEndpoints {
  /** Served on /metrics when given. */
  metrics?: GatewayMetrics;
  /** Asked on every /readyz; default: ready while the listener is up. */
  readiness?: () => Readiness;
}

export interface HttpListener {
  server: Server;
  address: AddressInfo;
  close(): Promise<void>;
}

const TN_PATH = /\/tn\/([1-9][0-9]{1,14})\/did\.json$/;

/**
 * The document of the tn DID that `path` is the did:web location of, when the
 * agent speaks for that number. The path must be exactly where did:web puts
 * that DID, so a gateway DID with a path (did:web:host:gw) serves /gw/tn/….
 */
function tnDocument(agent: GatewayAgent, path: string): unknown {
  const m = TN_PATH.exec(path);
  if (!m) return undefined;
  const did = `${agent.identity.did}:tn:${m[1]}`;
  try {
    if (didWebToUrl(did).url.pathname !== path) return undefined;
  } catch {
    return undefined;
  }
  return agent.documentFor?.(did);
}

export async function startHttpServer(
  host: string,
  port: number,
  agent: GatewayAgent,
  ops: OpsEndpoints = {},
): Promise<HttpListener> {
  const didJson = JSON.stringify(agent.document, null, 2);
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (path === "/healthz") {
      res.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({
          status: "ok",
          did: agent.identity.did,
          connections: agent.server.connectionCount,
        }),
      );
      return;
    }
    if (path === "/readyz") {
      // /healthz says the process lives; /readyz says it takes calls (false while draining on SIGTERM).
      const r = ops.readiness?.() ?? { ready: true };
      res
        .writeHead(r.ready ? 200 : 503, { "content-type": "application/json" })
        .end(JSON.stringify(r.ready ? { status: "ready" } : { status: "not ready", reason: r.reason }));
      return;
    }
    if (path === "/metrics" && ops.metrics) {
      ops.metrics.render().then(
        ({ contentType, body }) => res.writeHead(200, { "content-type": contentType }).end(body),
        (err: unknown) =>
          res
            .writeHead(500, { "content-type": "text/plain" })
            .end(`metrics failed: ${(err as Error).message}\n`),
      );
      return;
    }
    if (path === "/.well-known/did.json") {
      res.writeHead(200, { "content-type": "application/did+json" }).end(didJson);
      return;
    }
    const tn = tnDocument(agent, path);
    if (tn) {
      res.writeHead(200, { "content-type": "application/did+json" }).end(JSON.stringify(tn, null, 2));
      return;
    }
    res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
  });
  agent.server.attach(server, "/dsip");
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    server,
    address: server.address() as AddressInfo,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
