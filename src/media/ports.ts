/**
 * UDP port pairs (even RTP port, RTCP on port + 1) from a configured range,
 * bound before they are handed out so that a port another process holds is
 * skipped rather than reported.
 */
import { createSocket, type Socket } from "node:dgram";
import { MediaEngineError } from "./engine.js";

export interface PortPair {
  rtpPort: number;
  rtp: Socket;
  rtcp: Socket;
  release(): void;
}

function bind(host: string, port: number): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const s = createSocket({ type: host.includes(":") ? "udp6" : "udp4" });
    const onError = (): void => {
      s.close();
      resolve(undefined);
    };
    s.once("error", onError);
    s.bind(port, host, () => {
      s.off("error", onError);
      resolve(s);
    });
  });
}

export class PortAllocator {
  private next: number;
  private readonly held = new Set<number>();
  private readonly first: number;
  private readonly last: number;

  constructor(
    readonly host: string,
    min: number,
    max: number,
  ) {
    this.first = min % 2 === 0 ? min : min + 1;
    // The last even RTP port whose RTCP port (+1) still fits under max.
    this.last = max % 2 === 1 ? max - 1 : max - 2;
    this.next = this.first;
  }

  /** Number of port pairs the range can hold. */
  get capacity(): number {
    return Math.max(0, Math.floor((this.last - this.first) / 2) + 1);
  }

  get inUse(): number {
    return this.held.size;
  }

  async allocate(): Promise<PortPair> {
    // Round-robin so a just-freed port is not reused at once (late packets of the old call).
    for (let tried = 0; tried < this.capacity; tried++) {
      const port = this.next;
      this.next = port + 2 > this.last ? this.first : port + 2;
      if (this.held.has(port)) continue;
      const rtp = await bind(this.host, port);
      if (!rtp) continue;
      const rtcp = await bind(this.host, port + 1);
      if (!rtcp) {
        rtp.close();
        continue;
      }
      this.held.add(port);
      let released = false;
      return {
        rtpPort: port,
        rtp,
        rtcp,
        release: () => {
          if (released) return;
          released = true;
          this.held.delete(port);
          for (const s of [rtp, rtcp]) {
            try {
              s.close();
            } catch {
              // already closed
            }
          }
        },
      };
    }
    throw new MediaEngineError(
      "no-ports",
      `no free UDP port pair in ${this.first}-${this.last + 1} on ${this.host} (${this.held.size} held)`,
    );
  }
}
