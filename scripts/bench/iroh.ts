/**
 * iroh benchmark (issue 6): real `@number0/iroh` endpoints on 127.0.0.1,
 * relays off. Every figure is a ratio to a raw `@number0/iroh` stream measured
 * in the same run; rounds interleave the rows so machine noise hits them alike,
 * and the median round is reported.
 *
 * Throughput, 20k events one way (publish to the hub's subscriber receiving
 * the last one):
 * - baseline: a raw bi stream carrying the same length-prefixed JSON frames,
 *   all frames of the tick in one `writeAll`, read in 64 KiB chunks and parsed;
 * - the adapter: `createPubSub` over a spoke target → hub target + subscription;
 * - naive: the raw stream with one awaited `writeAll` per frame.
 *
 * Round trip: a ping published on the spoke, answered with a pong by the hub,
 * p50/p99 over sequential pings, against the same ping-pong on a raw stream.
 */

import { createPubSub } from "../../mod.ts";
import { createHubIrohEventTarget, createSpokeIrohEventTarget } from "../../adapters/iroh/mod.ts";
import { type ConnectedPair, connectPair, iroh, skipReason } from "../../tests/iroh/load_iroh.ts";
import { printRates, type Row } from "./_util.ts";
import { concatFrames, frameBytes, frameOf, rawReader, rawStreams } from "./_iroh_raw.ts";

if (iroh === undefined) {
  console.log(`iroh bench skipped: ${skipReason}`);
  Deno.exit(0);
}

const N = 20_000;
const ROUNDS = Number(Deno.env.get("BENCH_ROUNDS") ?? 5);
const PINGS = Number(Deno.env.get("BENCH_PINGS") ?? 1000);
type Events = { tick: { seq: number; name: string }; ping: number; pong: number };

const payloads = Array.from({ length: N }, (_, i) => ({ seq: i, name: "tick" }));

/** One raw round: `N` frames, batched (one writeAll) or naive (one awaited writeAll each). */
async function rawRound(batched: boolean): Promise<number> {
  const s = await rawStreams();
  let got = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => resolveDone = r);
  const reader = rawReader(s.recv, () => {
    if (++got === N) resolveDone();
  });
  const start = performance.now();
  if (batched) {
    // What a batching publisher does: encode the tick's frames into one buffer, write once.
    await s.send.writeAll(concatFrames(payloads.map((payload) => frameBytes({ type: "tick", id: "1", payload }))));
  } else {
    for (let i = 0; i < N; i++) await s.send.writeAll(frameOf({ type: "tick", id: "1", payload: payloads[i] }));
  }
  await done;
  const ms = performance.now() - start;
  await s.send.finish();
  await s.backSend.finish();
  await reader;
  s.pair.clientConn.close(0n, []);
  await s.pair.close();
  return ms;
}

async function targets(): Promise<{
  pair: ConnectedPair;
  spoke: Awaited<ReturnType<typeof createSpokeIrohEventTarget>>;
  hub: Awaited<ReturnType<typeof createHubIrohEventTarget>>;
  close(): Promise<void>;
}> {
  const pair = await connectPair();
  const [spoke, hub] = await Promise.all([
    createSpokeIrohEventTarget(pair.clientConn),
    createHubIrohEventTarget(pair.serverConn),
  ]);
  return {
    pair,
    spoke,
    hub,
    close: async () => {
      await Promise.all([spoke.close(), hub.close()]);
      await pair.close();
    },
  };
}

async function adapterRound(): Promise<number> {
  const t = await targets();
  const pub = createPubSub<Events>({ eventTarget: t.spoke });
  const sub = createPubSub<Events>({ eventTarget: t.hub }).subscribe("tick", "1", { bufferSize: N });
  const start = performance.now();
  for (let i = 0; i < N; i++) pub.publish("tick", "1", payloads[i]);
  let got = 0;
  for await (const _ of sub) if (++got === N) break;
  const ms = performance.now() - start;
  await t.close();
  return ms;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

async function rawPingPong(): Promise<number[]> {
  const s = await rawStreams();
  const times: number[] = [];
  let wake: (() => void) | undefined;
  const hubReader = rawReader(s.recv, (value) => void s.backSend.writeAll(frameOf(value)));
  const spokeReader = rawReader(s.backRecv, () => wake?.());
  for (let i = 0; i < PINGS; i++) {
    const pong = new Promise<void>((r) => wake = r);
    const start = performance.now();
    await s.send.writeAll(frameOf({ type: "ping", id: "1", payload: i }));
    await pong;
    times.push(performance.now() - start);
  }
  await s.send.finish();
  await hubReader;
  await s.backSend.finish();
  await spokeReader;
  s.pair.clientConn.close(0n, []);
  await s.pair.close();
  return times;
}

async function adapterPingPong(): Promise<number[]> {
  const t = await targets();
  const spoke = createPubSub<Events>({ eventTarget: t.spoke });
  const hub = createPubSub<Events>({ eventTarget: t.hub });
  t.hub.addEventListener("ping:1", (e) => hub.publish("pong", "1", e.detail.payload as number));
  const pongs = spoke.subscribe("pong", "1");
  const times: number[] = [];
  for (let i = 0; i < PINGS; i++) {
    const start = performance.now();
    spoke.publish("ping", "1", i);
    await pongs.next();
    times.push(performance.now() - start);
  }
  await pongs.return(undefined);
  await t.close();
  return times;
}

const only = Deno.env.get("BENCH_IROH"); // "pair" or "hub": one part only
if (only !== "hub") await benchPair();
if (only !== "pair") await (await import("./iroh_hub.ts")).benchHub();

async function benchPair(): Promise<void> {
  const rows: Record<string, number[]> = { raw: [], adapter: [], naive: [] };
  await rawRound(true); // warm-up
  await adapterRound();
  for (let round = 0; round < ROUNDS; round++) {
    rows.raw.push(await rawRound(true));
    rows.adapter.push(await adapterRound());
    if (round < 3) rows.naive.push(await rawRound(false)); // slow: three rounds are plenty
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const result: Row[] = [
    { name: "raw stream, batched writeAll (baseline)", events: N, ms: median(rows.raw) },
    { name: "iroh adapter (createPubSub spoke → hub)", events: N, ms: median(rows.adapter) },
    { name: "raw stream, one awaited writeAll per frame", events: N, ms: median(rows.naive) },
  ];
  printRates(`iroh: ${N} events one way, median of ${ROUNDS} rounds (naive: 3)`, result);
  console.log(`  adapter vs naive per-frame loop: ${(median(rows.naive) / median(rows.adapter)).toFixed(2)}×`);

  const raw = (await rawPingPong()).sort((a, b) => a - b);
  const adapter = (await adapterPingPong()).sort((a, b) => a - b);
  console.log(`\niroh: round trip, ${PINGS} sequential pings`);
  for (const [name, times] of [["raw stream (baseline)", raw], ["iroh adapter", adapter]] as const) {
    const p50 = percentile(times, 0.5);
    const p99 = percentile(times, 0.99);
    console.log(
      `  ${name.padEnd(24)} p50 ${p50.toFixed(3)} ms (${(p50 / percentile(raw, 0.5)).toFixed(2)}× baseline)  p99 ${
        p99.toFixed(3)
      } ms (${(p99 / percentile(raw, 0.99)).toFixed(2)}× baseline)`,
    );
  }
}
