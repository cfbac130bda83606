import type { KeyObject } from "node:crypto";
import type { AuthenticationKeySource } from "../../src/agent/did-resolution.js";
import { didKeyIdentity, type Identity } from "../../src/agent/wallet.js";

export function seed(n: number): Uint8Array {
  const s = new Uint8Array(32);
  s[31] = n;
  return s;
}

export function identity(n: number): Identity {
  return didKeyIdentity(seed(n));
}

/** A key source over fixed documents, for unit tests of the pipeline (not of resolution). */
export function fixedKeys(entries: Record<string, Map<string, KeyObject>>): AuthenticationKeySource {
  return {
    async authenticationKeys(did) {
      const keys = entries[did];
      if (!keys) throw new Error(`unknown ${did}`);
      return keys;
    },
  };
}

let counter = 0;
export function nextId(): string {
  counter++;
  return `m-${process.pid}-${Date.now()}-${counter}`;
}

export function invite(from: Identity, to: string, ts = Math.floor(Date.now() / 1000)) {
  return {
    type: "dsip.invite" as const,
    id: nextId(),
    ts,
    from: from.did,
    to,
    cap: { ver: "1.0", features: ["webrtc"] },
    media: {
      sdp: "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n",
      codecs: ["opus/48000/2"],
    },
    net: { ice: { ufrag: "abcd", pwd: "0123456789abcdef012345" }, candidates: [] },
  };
}
