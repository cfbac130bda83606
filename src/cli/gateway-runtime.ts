/**
 * The whole gateway in one process, as `dsip-gateway start` runs it and as the
 * end-to-end tests start it in process: the embedded DSIP agent, the media
 * engine from config, the B2BUA on the SIP listeners (knowing the agent as its
 * DSIP side), and the HTTP listener (health, metrics, DID documents, /dsip).
 */
import type { Logger } from "pino";
import { type GatewayAgent, startGatewayAgent } from "../agent/gateway-agent.js";
import { agentDsipPort } from "../b2bua/agent-port.js";
import { Gateway } from "../b2bua/gateway.js";
import type { GatewayConfig } from "../config/index.js";
import { toE164 } from "../mapping/numbers.js";
import { createMediaEngine, type MediaEngine } from "../media/index.js";
import { type HttpListener, startHttpServer } from "../ops/http-server.js";
import { GatewayMetrics } from "../ops/metrics.js";

export interface RuntimeOptions {
  config: GatewayConfig;
  logger: Logger;
  http: { host: string; port: number };
  dataDir: string;
  did: string;
  publicUrl: string;
  allowPrivate?: string[];
  pushWebhook?: string | undefined;
  /** SIP timers (tests shorten T1). */
  timers?: { t1?: number; t2?: number; t4?: number };
  /** Default: a GatewayMetrics with the process metrics (tests pass one without). */
  metrics?: GatewayMetrics;
  /**
   * An engine to use instead of the one config.media describes (the DSIP
   * signaling benchmark measures the call path without WebRTC work). Closed by stop().
   */
  media?: MediaEngine;
}

export interface GatewayRuntime {
  agent: GatewayAgent;
  gateway: Gateway;
  media: MediaEngine;
  http: HttpListener;
  metrics: GatewayMetrics;
  /** Drains calls (up to drainMs), then closes everything. */
  stop(drainMs: number): Promise<void>;
}

/** Starts every part; on a failure, closes what was started and rethrows with what failed. */
export async function startRuntime(o: RuntimeOptions): Promise<GatewayRuntime> {
  const { config, logger } = o;
  const agent = await startGatewayAgent({
    dataDir: o.dataDir,
    did: o.did,
    dsipEndpoints: [o.publicUrl],
    logger,
    web: { allowPrivateAddresses: o.allowPrivate ?? [] },
    // Any possible number: an inbound caller's tn DID must verify whatever the routes say (docs/mapping.md §6).
    servesNumber: (e164) => toE164(e164) === e164,
    ...(o.pushWebhook ? { pushWebhook: o.pushWebhook } : {}),
  });
  let media: MediaEngine;
  try {
    media =
      o.media ??
      (await createMediaEngine(
        {
          engine: config.media.engine,
          embedded: config.media.embedded,
          rtpengine: config.media.rtpengine,
        },
        logger.child({ component: "media" }),
      ));
  } catch (err) {
    await agent.close();
    throw new Error(`cannot start the media engine (${config.media.engine}): ${(err as Error).message}`);
  }
  const metrics = o.metrics ?? new GatewayMetrics();
  let stopping = false;
  // The SIP side before HTTP: a gateway that cannot bind its SIP ports must not look healthy.
  const gateway = new Gateway(config, {
    logger,
    metrics,
    media,
    dsip: agentDsipPort(agent),
    ...(o.timers ? { timers: o.timers } : {}),
  });
  try {
    await gateway.start();
  } catch (err) {
    await media.close();
    await agent.close();
    throw new Error(`cannot start the SIP side: ${(err as Error).message}`);
  }
  agent.server.serveLocal(
    (to) => gateway.servesDsipTarget(to),
    (message) => gateway.onDsipMessage(message),
  );
  const http = await startHttpServer(o.http.host, o.http.port, agent, {
    metrics,
    readiness: () =>
      stopping || gateway.isDraining ? { ready: false, reason: "stopping" } : { ready: true },
  });
  return {
    agent,
    gateway,
    media,
    http,
    metrics,
    async stop(drainMs: number) {
      if (stopping) return;
      stopping = true;
      // Drain SIP and DSIP calls first (new calls refused, /readyz not ready), then the rest.
      await gateway.shutdown(drainMs);
      await media.close();
      await agent.server.close();
      await http.close();
      await agent.close();
    },
  };
}
