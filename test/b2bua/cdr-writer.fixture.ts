// Child process for the kill -9 test: writes CDRs continuously and prints each
// id on stdout only after CdrWriter.write() has resolved (the record is durable).
import { type CallRecord, CdrWriter } from "../../src/b2bua/cdr.js";

const [sqlite, jsonl] = process.argv.slice(2) as [string, string];
const writer = new CdrWriter({ sqlite, jsonl, maxDelayMs: 20, maxBatch: 64 });
let n = 0;

function record(i: number): CallRecord {
  const start = new Date(Date.UTC(2026, 0, 1, 0, 0, 0) + i * 1000).toISOString();
  return {
    id: `call-${i}`,
    legs: [
      { role: "a", callId: `a-${i}@127.0.0.1`, trunk: "in", remote: "127.0.0.1:5070", status: 200 },
      { role: "b", callId: `b-${i}@gw`, trunk: "out", remote: "127.0.0.1:5080", status: 200 },
    ],
    from: "sip:+15550001111@127.0.0.1",
    to: "sip:+15550002222@gw",
    start,
    answer: start,
    end: start,
    durationMs: 0,
    status: 200,
    hangupBy: "caller",
    reason: "BYE",
  };
}

// Writes keep coming without waiting for acknowledgements, so a kill always
// lands with records queued or mid-flush: only acknowledged ones must survive.
function pump(): void {
  for (let k = 0; k < 4; k++) {
    const id = n++;
    void writer.write(record(id)).then(() => process.stdout.write(`call-${id}\n`));
  }
  setImmediate(pump);
}
pump();
