/**
 * TLS transport (RFC 3261 §26.2, sips:): the stream transport over `tls`.
 * Certificate and key are read from files once, at start-up; client
 * certificates can be requested and required (mutual TLS towards trunks).
 */
import { readFileSync } from "node:fs";
import type { Server, Socket } from "node:net";
import tls from "node:tls";
import { StreamTransport, type StreamTransportOptions } from "./stream-transport.js";
import type { Endpoint, TransportHooks } from "./types.js";

export interface TlsFiles {
  /** PEM certificate (chain) presented by this side. */
  certFile: string;
  /** PEM private key. */
  keyFile: string;
  /** PEM CA bundle used to verify peers (defaults to the system store). */
  caFile?: string;
  /** Ask inbound peers for a client certificate (default false). */
  requestClientCert?: boolean;
  /** Refuse peers whose certificate does not verify (default true: server side only when requested). */
  rejectUnauthorized?: boolean;
}

export class TlsTransport extends StreamTransport {
  readonly protocol = "TLS" as const;
  private readonly secure: tls.SecureContextOptions;

  constructor(
    opts: StreamTransportOptions,
    hooks: TransportHooks,
    private readonly files: TlsFiles,
  ) {
    super(opts, hooks);
    this.secure = {
      cert: readFileSync(files.certFile),
      key: readFileSync(files.keyFile),
      ...(files.caFile !== undefined && { ca: readFileSync(files.caFile) }),
    };
  }

  protected createServer(onAccepted: (socket: Socket) => void): Server {
    const server = tls.createServer(
      {
        ...this.secure,
        requestCert: this.files.requestClientCert ?? false,
        rejectUnauthorized:
          (this.files.requestClientCert ?? false) && (this.files.rejectUnauthorized ?? true),
      },
      onAccepted,
    );
    // A failed handshake is the peer's problem; note it and carry on.
    server.on("tlsClientError", (err) =>
      this.hooks.onWarning?.("TLS: handshake failed", { err: err.message }),
    );
    return server;
  }

  protected connect(dest: Endpoint, onReady: () => void): Socket {
    return tls.connect(
      {
        host: dest.host,
        port: dest.port,
        ...this.secure,
        rejectUnauthorized: this.files.rejectUnauthorized ?? true,
      },
      onReady,
    );
  }
}
