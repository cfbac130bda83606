// Child process for the kill -9 test: stores envelopes one by one and reports
// each id on stdout only after RelayStore.put has returned.
import { RelayStore } from "../../src/agent/relay-store.js";

const [dbPath, recipient] = process.argv.slice(2) as [string, string];
const store = new RelayStore(dbPath, { maxPerRecipient: 1_000_000 });
const now = Math.floor(Date.now() / 1000);
let n = 0;
function writeOne(): void {
  const id = `env-${n++}`;
  store.put(
    {
      type: "dsip.envelope.v1",
      id,
      ts: now,
      from: "did:web:gateway.test",
      to: recipient,
      exp: now + 3600,
      epk: "A".repeat(43),
      nonce: "B".repeat(16),
      payload_enc: "C".repeat(200),
      sig: { alg: "EdDSA", kid: "did:web:gateway.test#key-1", jws: "e30..AA" },
    },
    now,
  );
  process.stdout.write(`${id}\n`);
  setImmediate(writeOne);
}
writeOne();
