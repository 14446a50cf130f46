/**
 * Worker benchmark (issue 7): main thread → a real Deno Worker, 100k small
 * events, events/sec as a ratio to raw `postMessage` of the same envelope
 * objects measured in the same run. Rounds interleave the rows so machine
 * noise hits them alike; the median of the rounds is reported.
 *
 * Rows: the raw baseline; the adapter with one `postMessage` per event
 * (default), and with `batch: true` (one message per tick); each read by a
 * listener on the worker's target ("target") and through `createPubSub`'s
 * subscription ("pubsub").
 */

import { createPubSub } from "../../mod.ts";
import { createWorkerEventTarget } from "../../adapters/worker/mod.ts";

const N = 100_000;
const ROUNDS = Number(Deno.env.get("BENCH_ROUNDS") ?? 5);
type Events = { tick: { seq: number; name: string } };

const worker = new Worker(new URL("./worker_sink.ts", import.meta.url), { type: "module" });
const payloads = Array.from({ length: N }, (_, i) => ({ seq: i, name: "tick" }));
const envelopes = payloads.map((payload) => ({ type: "tick", id: "1", payload }));

function reply(expected: string): Promise<void> {
  return new Promise((resolve) => {
    const on = (e: MessageEvent): void => {
      if (e.data !== expected) return;
      worker.removeEventListener("message", on);
      resolve();
    };
    worker.addEventListener("message", on);
  });
}

async function raw(): Promise<number> {
  const ready = reply("ready");
  worker.postMessage(`raw:${N}`);
  await ready;
  const done = reply("done");
  const start = performance.now();
  for (let i = 0; i < N; i++) worker.postMessage(envelopes[i]);
  await done;
  return performance.now() - start;
}

async function adapter(sink: "target" | "pubsub", batch: boolean): Promise<number> {
  const ready = reply("ready");
  worker.postMessage(`${sink}:${N}`);
  await ready;
  const eventTarget = createWorkerEventTarget(worker, { batch });
  const pubsub = createPubSub<Events>({ eventTarget });
  const done = reply("done");
  const start = performance.now();
  for (let i = 0; i < N; i++) pubsub.publish("tick", "1", payloads[i]);
  await done;
  const ms = performance.now() - start;
  pubsub.close();
  eventTarget.close();
  return ms;
}

const rows: [string, () => Promise<number>][] = [
  ["raw postMessage of the envelope objects", raw],
  ["adapter, one message per event → target", () => adapter("target", false)],
  ["adapter, one message per event → pubsub", () => adapter("pubsub", false)],
  ["adapter, batch: true → target", () => adapter("target", true)],
  ["adapter, batch: true → pubsub", () => adapter("pubsub", true)],
];

// Warm up every row once, then interleave the measured rounds.
for (const [, run] of rows) await run();
const times: number[][] = rows.map(() => []);
for (let r = 0; r < ROUNDS; r++) {
  for (let i = 0; i < rows.length; i++) times[i].push(await rows[i][1]());
}
worker.terminate();

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const baseMs = median(times[0]);
console.log(`\nMain thread → Deno Worker, ${N.toLocaleString("en-US")} events, median of ${ROUNDS} rounds`);
for (let i = 0; i < rows.length; i++) {
  const ms = median(times[i]);
  const perSec = Math.round(N / (ms / 1000)).toLocaleString("en-US");
  console.log(`  ${rows[i][0].padEnd(44)} ${`${perSec}/s`.padStart(14)}  ${(baseMs / ms).toFixed(2)}× raw`);
}
