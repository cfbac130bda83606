// Envelope throughput: the full parse + acceptance pipeline and signing, each
// next to the bare node:crypto Ed25519 operation on the same bytes, and the pure
// JS @noble/curves verify for scale. Run: npm run bench:envelope
import { sign as cryptoSign, verify as cryptoVerify } from "node:crypto";
import { ed25519 } from "@noble/curves/ed25519.js";
import { MessageAcceptor } from "../../src/agent/acceptance.js";
import { AgentDidResolver, KeyDirectory } from "../../src/agent/did-resolution.js";
import { privateKeyFromSeed, publicKeyFromRaw } from "../../src/agent/ed25519-keys.js";
import { canonicalJson } from "../../src/agent/jcs.js";
import { didKeyIdentity } from "../../src/agent/wallet.js";

const N = Number(process.env.BENCH_N ?? 20_000);
const alice = didKeyIdentity(new Uint8Array(32).fill(1));
const bob = didKeyIdentity(new Uint8Array(32).fill(2));
const ts = Math.floor(Date.now() / 1000);

function invite(i: number) {
  return {
    type: "dsip.invite",
    id: `bench-${i}-${ts}`,
    ts,
    from: alice.did,
    to: bob.did,
    cap: { ver: "1.0", features: ["webrtc", "progress", "cancel"] },
    media: {
      sdp: "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 0 8\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdef012345\r\na=fingerprint:sha-256 12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:DE:F0\r\na=setup:actpass\r\na=mid:0\r\na=sendrecv\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n",
      codecs: ["opus/48000/2", "PCMU/8000", "PCMA/8000"],
    },
    net: { ice: { ufrag: "abcd", pwd: "0123456789abcdef012345" }, candidates: [], hints: {} },
    identity: { proof: "DIDAuth-JWS", credentials: [] },
  };
}

function signingInput(message: { sig: { jws: string } }): Buffer {
  const { sig, ...rest } = message;
  const protectedB64 = sig.jws.split("..")[0]!;
  return Buffer.from(`${protectedB64}.${Buffer.from(canonicalJson(rest)).toString("base64url")}`);
}

interface Row {
  what: string;
  perSecond: number;
  usPerOp: number;
}
const rows: Row[] = [];

async function measure(
  what: string,
  n: number,
  op: (i: number) => unknown | Promise<unknown>,
): Promise<void> {
  for (let i = 0; i < Math.min(500, n); i++) await op(i); // warm-up
  const started = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await op(i);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  rows.push({ what, perSecond: n / seconds, usPerOp: (seconds / n) * 1e6 });
}

const signed = Array.from({ length: N + 500 }, (_, i) => alice.signer.sign(invite(i)));
const frames = signed.map((m) => JSON.stringify(m));
const frameBytes = Buffer.byteLength(frames[0]!);
const inputs = signed.map(signingInput);
const signatures = signed.map((m) => Buffer.from(m.sig.jws.split("..")[1]!, "base64url"));
const publicKey = publicKeyFromRaw(alice.publicKey);
const privateKey = privateKeyFromSeed(alice.seed);

const acceptor = new MessageAcceptor({ keys: new KeyDirectory(new AgentDidResolver()), skewSeconds: 3600 });
let next = 0;
await measure("parse + accept (JSON, schema, clock, kid, verify, replay)", N, () =>
  acceptor.acceptFrame(frames[next++]!),
);
await measure("bare crypto.verify (same signing input)", N, (i) =>
  cryptoVerify(null, inputs[i]!, publicKey, signatures[i]!),
);
await measure("@noble/curves ed25519.verify (pure JS)", Math.min(N, 2000), (i) =>
  ed25519.verify(signatures[i]!, inputs[i]!, alice.publicKey),
);
const unsigned = Array.from({ length: N + 500 }, (_, i) => invite(i));
await measure("sign (JCS + JWS + node:crypto)", N, (i) => alice.signer.sign(unsigned[i]!));
await measure("bare crypto.sign (same signing input)", N, (i) => cryptoSign(null, inputs[i]!, privateKey));

const nameWidth = Math.max(...rows.map((r) => r.what.length));
console.log(`dsip.invite of ${frameBytes} bytes, N=${N}, node ${process.version}, ${process.arch}\n`);
console.log(`${"operation".padEnd(nameWidth)}  ${"msg/s".padStart(10)}  ${"µs/msg".padStart(8)}`);
console.log(`${"-".repeat(nameWidth)}  ${"-".repeat(10)}  ${"-".repeat(8)}`);
for (const r of rows) {
  console.log(
    `${r.what.padEnd(nameWidth)}  ${Math.round(r.perSecond).toString().padStart(10)}  ${r.usPerOp.toFixed(1).padStart(8)}`,
  );
}
