/**
 * The gateway's SIP side, bootstrapped from the loaded configuration (the
 * jambonz app.js shape): a SipStack on `sip.listen`, an Srf, a middleware
 * pipeline that classifies and admits each INVITE (trunk by source → digest →
 * overload → route), then one CallSession per call. Also: OPTIONS, metrics
 * feeding, and a graceful shutdown that drains calls.
 */
import { randomBytes, randomUUID } from "node:crypto";
import pino, { type Logger } from "pino";
import type { DsipMessage } from "../agent/index.js";
import type { GatewayConfig, TrunkConfig } from "../config/index.js";
import { Directory, numberFromTnDid } from "../mapping/index.js";
import {
  type AuthenticateHook,
  DigestClient,
  DigestServer,
  type Handler,
  type SipLogger,
  SipStack,
  Srf,
  type SrfRequest,
  type SrfResponse,
  type TransportSpec,
} from "../sip/index.js";
import type { CallMetrics } from "./call-metrics.js";
import { CallSession } from "./call-session.js";
import { CallRecordBuilder, CdrWriter } from "./cdr.js";
import { DsipCallRegistry, type DsipPort } from "./dsip-port.js";
import { DsipToSipCall } from "./dsip-to-sip-call.js";
import { type MediaEngine, PassThroughMediaEngine } from "./media.js";
import { type CallPermit, OverloadController } from "./overload.js";
import {
  calledNumber,
  isEmergencyCall,
  type RouteDecision,
  RoutingError,
  routeNumber,
  TrunkIdentifier,
} from "./routing.js";
import { type DsipCallee, SipToDsipCall } from "./sip-to-dsip-call.js";

/** A refusal from the pipeline, carrying the SIP status (and headers) A is answered with. */
export class CallRejection extends Error {
  override readonly name = "CallRejection";
  constructor(
    readonly status: number,
    readonly reason: string,
    readonly headers: [string, string][] = [],
    /** Whether the refusal is worth a CDR (a call attempt), or noise (scanners, challenges). */
    readonly recorded = true,
  ) {
    super(`${status} ${reason}`);
  }
}

export interface GatewayOptions {
  logger?: Logger;
  metrics?: CallMetrics;
  /** The media engine (src/media): every DSIP call, and SIP calls when `media.anchorSip`. Default: pass-through. */
  media?: MediaEngine;
  /** The DSIP side (the embedded agent); without it numbers in the directory are not reachable. */
  dsip?: DsipPort;
  /** Retry-After seconds on 503 while draining or overloaded (default 5). */
  retryAfter?: number;
  /** SIP timers (tests shorten T1); see SipStack. */
  timers?: { t1?: number; t2?: number; t4?: number };
}

interface Locals {
  trunk?: TrunkConfig;
  emergency?: boolean;
  permit?: CallPermit;
  route?: RouteDecision;
  /** Set instead of `route` when the called number belongs to a DSIP user of the directory. */
  dsipCallee?: DsipCallee;
}

/** What the gateway needs of any call it runs (SIP ⇄ SIP, SIP → DSIP, DSIP → SIP). */
export interface GatewayCall {
  readonly state: "trying" | "connected" | "ended";
  /** The DSIP call id (the dsip.invite's id) of a call with a DSIP leg. */
  readonly dsipId?: string;
  readonly isEnded: boolean;
  hangup(reason?: string): Promise<void>;
}

function locals(req: SrfRequest): Locals {
  return req.locals as Locals;
}

export function transportSpecs(config: GatewayConfig): TransportSpec[] {
  return config.sip.listen.map((l) => {
    if (l.transport !== "udp" && l.transport !== "tcp")
      throw new Error(
        `sip.listen ${l.transport}:${l.host}:${l.port}: the gateway serves udp and tcp for now`,
      );
    return { protocol: l.transport === "udp" ? "UDP" : "TCP", host: l.host, port: l.port };
  });
}

export class Gateway {
  readonly stack: SipStack;
  readonly srf: Srf;
  readonly overload: OverloadController;
  readonly cdr: CdrWriter | undefined;
  readonly sessions = new Set<GatewayCall>();
  readonly directory: Directory;
  readonly dsipCalls = new DsipCallRegistry();
  private readonly logger: Logger;
  private readonly identifier: TrunkIdentifier;
  private readonly digestServers = new Map<string, DigestServer>();
  private readonly media: MediaEngine;
  /** SIP ⇄ SIP calls: the engine when anchored, else pass-through. */
  private readonly sipMedia: MediaEngine;
  private readonly retryAfter: number;
  private draining = false;
  private closed = false;
  private metricsTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly config: GatewayConfig,
    private readonly opts: GatewayOptions = {},
  ) {
    this.logger = opts.logger ?? pino({ level: config.logging.level });
    this.media = opts.media ?? new PassThroughMediaEngine();
    this.sipMedia = config.media.anchorSip ? this.media : new PassThroughMediaEngine();
    this.directory = Directory.fromConfig(config, opts.dsip?.did ?? "did:web:localhost");
    this.retryAfter = opts.retryAfter ?? 5;
    const sipLog = this.logger.child({ component: "sip" });
    const stackLogger: SipLogger = {
      debug: (o, m) => sipLog.debug(o, m),
      warn: (o, m) => sipLog.warn(o, m),
    };
    this.stack = new SipStack({
      transports: transportSpecs(config),
      logger: stackLogger,
      ...(opts.timers ? { timers: opts.timers } : {}),
    });
    this.srf = new Srf(this.stack);
    this.overload = OverloadController.fromConfig(config, { busyRetryAfter: this.retryAfter });
    this.identifier = new TrunkIdentifier(config.trunks);
    // One nonce secret per process: nonces do not outlive a restart, which only costs a re-challenge.
    const secret = randomBytes(32);
    for (const t of config.trunks) {
      if (t.inbound.auth)
        this.digestServers.set(
          t.name,
          new DigestServer({
            realm: t.inbound.auth.realm ?? t.name,
            secret,
            kind: "www",
            algorithms: t.inbound.auth.algorithms,
          }),
        );
    }
    this.cdr =
      config.cdr.sqlite || config.cdr.jsonl
        ? new CdrWriter({ sqlite: config.cdr.sqlite, jsonl: config.cdr.jsonl })
        : undefined;
    this.pipeline();
  }

  async start(): Promise<void> {
    await this.stack.start();
    const m = this.opts.metrics;
    if (m) this.metricsTimer = setInterval(() => this.updateGauges(), 1000).unref();
    this.logger.info({ sip: this.listeners() }, "SIP listening");
  }

  /** "udp:127.0.0.1:5060"… as actually bound. */
  listeners(): string[] {
    return this.config.sip.listen.map((l) => {
      const t = this.stack.transport(l.transport.toUpperCase() as "UDP" | "TCP");
      const port = t?.local.port ?? l.port;
      const host = l.host.includes(":") ? `[${l.host}]` : l.host;
      return `${l.transport}:${host}:${port}`;
    });
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Live call, dialog and transaction counts (for /metrics and the leak checks of tests). */
  counts() {
    return { calls: this.sessions.size, ...this.srf.counts() };
  }

  /** Pushes the stack's and dialog layer's counts into the gauges. */
  updateGauges(): void {
    const m = this.opts.metrics;
    if (!m) return;
    const { dialogs, transactions } = this.srf.counts();
    m.dialogs.set({ state: "early" }, dialogs.early);
    m.dialogs.set({ state: "confirmed" }, dialogs.confirmed);
    m.transactions.set({ kind: "invite-client" }, transactions.inviteClient);
    m.transactions.set({ kind: "non-invite-client" }, transactions.nonInviteClient);
    m.transactions.set({ kind: "invite-server" }, transactions.inviteServer);
    m.transactions.set({ kind: "non-invite-server" }, transactions.nonInviteServer);
  }

  // ---- the pipeline ----------------------------------------------------------

  private pipeline(): void {
    const srf = this.srf;
    srf.options((_req, res) => {
      res.send(200, { headers: [["Accept", "application/sdp"]] });
    });
    const steps: Handler[] = [
      (req, _res, next) => this.checkDraining(req, next),
      (req, _res, next) => this.identifyTrunk(req, next),
      (req, res, next) => this.authenticate(req, res, next),
      (req, _res, next) => this.admit(req, next),
      (req, _res, next) => this.route(req, next),
    ];
    srf.use("invite", steps);
    srf.invite((req, res) => this.startCall(req, res));
    srf.use("invite", (err: unknown, req: SrfRequest, res: SrfResponse, _next: (e?: unknown) => void) =>
      this.reject(err, req, res),
    );
  }

  private checkDraining(_req: SrfRequest, next: (e?: unknown) => void): void {
    if (this.draining) {
      next(new CallRejection(503, "Service Unavailable", [["Retry-After", String(this.retryAfter)]], false));
      return;
    }
    next();
  }

  private identifyTrunk(req: SrfRequest, next: (e?: unknown) => void): void {
    const l = locals(req);
    l.emergency = isEmergencyCall(req.msg.uri, this.config.emergency.numbers);
    // A trunk without an ACL but with inbound credentials takes any source: digest decides.
    const trunk =
      this.identifier.identify(req.source.host) ??
      this.config.trunks.find((t) => t.inbound.acl.length === 0 && t.inbound.auth !== undefined);
    if (!trunk) {
      this.logger.warn({ callId: req.callId, source: req.source.host }, "INVITE from an unknown source");
      next(new CallRejection(403, "Forbidden", [], false));
      return;
    }
    l.trunk = trunk;
    next();
  }

  private authenticate(req: SrfRequest, res: SrfResponse, next: (e?: unknown) => void): void {
    const l = locals(req);
    const trunk = l.trunk!;
    const server = this.digestServers.get(trunk.name);
    // Emergency calls are never challenged: a caller who cannot authenticate must still reach help.
    if (!server || l.emergency) {
      next();
      return;
    }
    const creds = trunk.inbound.auth!;
    const offered = req.msg.authorization.find(
      (a) => a.scheme.toLowerCase() === "digest" && a.params.realm === server.realm,
    );
    const challenge = (stale: boolean) => {
      res.send(server.challengeStatus, {
        headers: server.challenge({ stale }).map((v): [string, string] => [server.challengeHeader, v]),
      });
    };
    if (!offered) {
      challenge(false);
      return;
    }
    const result = server.verify(
      offered,
      { method: req.method, requestUri: req.uri, body: req.msg.body },
      (user) => (user === creds.username ? creds.password : undefined),
    );
    if (result.ok) {
      next();
      return;
    }
    if (result.status === 400 || result.status === 403) {
      next(new CallRejection(result.status, result.reason, [], false));
      return;
    }
    this.logger.info({ callId: req.callId, reason: result.reason }, "digest refused, challenging again");
    challenge(result.stale);
  }

  private admit(req: SrfRequest, next: (e?: unknown) => void): void {
    const l = locals(req);
    const a = this.overload.admit({ trunks: [l.trunk!.name], emergency: l.emergency === true });
    if (!a.accepted) {
      this.opts.metrics?.overloadRejections.inc({ scope: a.scope, limit: a.limit });
      next(new CallRejection(503, "Service Unavailable", [["Retry-After", String(a.retryAfter)]], true));
      return;
    }
    l.permit = a.permit;
    next();
  }

  private route(req: SrfRequest, next: (e?: unknown) => void): void {
    const l = locals(req);
    try {
      const format = l.trunk?.numbers ?? this.config.numbers;
      const number = calledNumber(req.msg.uri, format);
      const did = this.opts.dsip ? this.directory.didForCalled(number) : undefined;
      if (did !== undefined) {
        l.dsipCallee = { did, callerNumber: this.callerNumber(req, format) };
        next();
        return;
      }
      l.route = routeNumber(this.config, number);
    } catch (err) {
      if (err instanceof RoutingError) {
        next(new CallRejection(err.status, err.message));
        return;
      }
      next(err);
      return;
    }
    next();
  }

  /** The caller's number as E.164, when From has one (for the DSIP callee to see and call back). */
  private callerNumber(req: SrfRequest, format: TrunkConfig["numbers"]): string | undefined {
    const from = req.msg.from;
    if (!from) return undefined;
    try {
      const n = calledNumber(from.uri, format);
      return n.kind === "e164" ? n.number : undefined;
    } catch {
      return undefined;
    }
  }

  private startCall(req: SrfRequest, res: SrfResponse): Promise<void> {
    const l = locals(req);
    if (l.dsipCallee && this.opts.dsip) {
      const call = new SipToDsipCall(
        req,
        res,
        { inbound: l.trunk, permit: l.permit!, emergency: l.emergency === true, callee: l.dsipCallee },
        {
          srf: this.srf,
          port: this.opts.dsip,
          media: this.media,
          registry: this.dsipCalls,
          logger: this.logger,
          noAnswerTimeout: this.config.dsip.noAnswerTimeout,
          cdr: this.cdr,
          metrics: this.opts.metrics,
          onEnd: (c) => this.sessions.delete(c),
        },
      );
      this.sessions.add(call);
      return call.connect();
    }
    const session = new CallSession(
      req,
      res,
      { inbound: l.trunk, route: l.route!, permit: l.permit!, emergency: l.emergency === true },
      {
        srf: this.srf,
        logger: this.logger,
        media: this.sipMedia,
        cdr: this.cdr,
        metrics: this.opts.metrics,
        authFor: (t) => this.outboundAuth(t),
        onEnd: (s) => this.sessions.delete(s),
      },
    );
    this.sessions.add(session);
    return session.connect();
  }

  /** Answers a refused INVITE, frees its permit, and records the attempt when it was one. */
  private reject(err: unknown, req: SrfRequest, res: SrfResponse): void {
    const l = locals(req);
    l.permit?.release();
    const rejection =
      err instanceof CallRejection ? err : new CallRejection(500, "Server Internal Error", [], true);
    if (!(err instanceof CallRejection))
      this.logger.error({ err, callId: req.callId }, "INVITE handling failed");
    if (!res.finalSent) res.send(rejection.status, rejection.reason, { headers: rejection.headers });
    if (!rejection.recorded) return;
    this.opts.metrics?.callsTotal.inc({
      status: String(rejection.status),
      class: `${Math.floor(rejection.status / 100)}xx`,
    });
    const fromHeader = req.get("from") ?? "";
    const record = new CallRecordBuilder(
      `${Date.now().toString(36)}-${randomBytes(6).toString("hex")}`,
      /<([^>]*)>/.exec(fromHeader)?.[1] ?? fromHeader,
      req.uri,
    );
    record.leg({
      role: "a",
      callId: req.callId,
      trunk: l.trunk?.name,
      remote: `${req.source.host}:${req.source.port}`,
      status: rejection.status,
    });
    if (l.emergency) record.markEmergency();
    const reason = `${rejection.status} ${rejection.message.replace(/^\d+ /, "")}`;
    this.logger.info({ callId: req.callId, status: rejection.status, reason }, "call refused");
    this.cdr?.write(record.finish({ status: rejection.status, hangupBy: "gateway", reason })).then(
      () => this.opts.metrics?.cdrWritten.inc(),
      () => this.opts.metrics?.cdrErrors.inc(),
    );
  }

  /** Digest towards a trunk with outbound credentials: one client per call attempt (nonce state is per peer). */
  private outboundAuth(trunk: TrunkConfig): AuthenticateHook | undefined {
    const creds = trunk.outbound.auth;
    if (!creds) return undefined;
    const client = new DigestClient((realm) =>
      creds.realm === undefined || creds.realm === realm
        ? { username: creds.username, password: creds.password }
        : undefined,
    );
    return (res, req) =>
      client.answer(
        {
          status: res.status,
          wwwAuthenticate: res.wwwAuthenticate,
          proxyAuthenticate: res.proxyAuthenticate,
        },
        { method: req.method, uri: req.uriText, body: req.body },
      );
  }

  // ---- the DSIP side -----------------------------------------------------------

  /** Whether a DSIP `to` is the gateway's to answer: its DID, its tn DIDs, or a tel: URI. */
  servesDsipTarget(to: string): boolean {
    const did = this.opts.dsip?.did;
    if (did === undefined) return false;
    return to === did || to.startsWith("tel:") || numberFromTnDid(did, to) !== undefined;
  }

  /** A verified DSIP message for a target the gateway serves (see servesDsipTarget). */
  onDsipMessage(message: DsipMessage): void {
    const port = this.opts.dsip;
    if (!port) return;
    if (message.type === "dsip.invite") {
      if (this.draining) {
        this.dsipRefuse(message, 503, "gateway:draining", "the gateway is shutting down");
        return;
      }
      if (this.dsipCalls.has(message.from, message.id)) return;
      const call = new DsipToSipCall(message, {
        srf: this.srf,
        port,
        media: this.media,
        registry: this.dsipCalls,
        directory: this.directory,
        overload: this.overload,
        config: this.config,
        logger: this.logger,
        fromHost: this.fromHost(),
        cdr: this.cdr,
        metrics: this.opts.metrics,
        authFor: (t) => this.outboundAuth(t),
        onEnd: (c) => this.sessions.delete(c),
      });
      this.sessions.add(call);
      call.start().catch((err: unknown) => {
        this.logger.error({ err, dsipId: message.id }, "DSIP call failed");
      });
      return;
    }
    const call = this.dsipCalls.find(message);
    if (call) {
      call.onDsip(message);
      return;
    }
    if (message.type === "dsip.bye" || message.type === "dsip.cancel" || message.type === "dsip.answer")
      this.dsipRefuse(message, 481, "call:unknown", "no such call at this gateway");
    else this.logger.debug({ type: message.type, from: message.from }, "dsip message for no call, dropped");
  }

  private dsipRefuse(message: DsipMessage, code: number, reason: string, detail: string): void {
    const port = this.opts.dsip!;
    const to = (message as { to?: unknown }).to;
    const as = typeof to === "string" && to.startsWith("did:") ? to : port.did;
    this.logger.info({ dsipId: message.id, from: message.from, code, reason }, "dsip refused");
    port
      .send(as, {
        type: "dsip.error",
        id: randomUUID(),
        ts: Math.floor(Date.now() / 1000),
        from: as,
        to: message.from,
        correlates: message.id,
        code,
        reason,
        detail,
      })
      .catch(() => {});
  }

  /** The host trunks see in our From URIs: the first SIP listener's address. */
  private fromHost(): string {
    const l = this.config.sip.listen[0]!;
    return l.host.includes(":") ? `[${l.host}]` : l.host;
  }

  // ---- shutdown --------------------------------------------------------------

  /**
   * Graceful stop: new INVITEs get 503 + Retry-After, calls in progress get up
   * to `drainMs` to end by themselves, the rest are hung up (BYE both legs),
   * then CDRs are flushed and the transports closed.
   */
  async shutdown(drainMs = 30_000): Promise<void> {
    if (this.closed) return;
    this.draining = true;
    this.logger.info({ calls: this.sessions.size, drainMs }, "draining");
    const until = Date.now() + drainMs;
    while (this.sessions.size > 0 && Date.now() < until) await sleep(100);
    if (this.sessions.size > 0) {
      this.logger.warn({ calls: this.sessions.size }, "drain timeout: hanging up");
      await Promise.race([
        Promise.all([...this.sessions].map((s) => s.hangup("shutdown"))),
        sleep(Math.max(2000, this.stack.timers.t1 * 4)),
      ]);
    }
    await this.close();
  }

  /** Closes at once (no draining): dialogs dropped, transports closed, CDRs flushed. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.draining = true;
    if (this.metricsTimer) clearInterval(this.metricsTimer);
    this.srf.layer.clear();
    await this.stack.close();
    this.cdr?.close();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
