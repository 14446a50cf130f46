/**
 * Operators benchmark (issue 3). Every row runs in its own process (so one
 * row's JIT feedback cannot slow another), and every figure is a ratio to a
 * hand-written `for await` loop doing the same work over the same source,
 * measured in that same process, interleaved with the row (median of 5 runs
 * after 2 warm-ups each).
 *
 * 1. `pipe(source, filter, map)` over 1M values, on three sources: a minimal
 *    async iterator (the harshest case: the loop itself costs almost
 *    nothing), a `Subscription` holding the values (the real use) and an
 *    async generator. Peers: the same chain unfused, in IxJS (on 100k values:
 *    it is ~50× slower), and as two async generators. IxJS's distinct runs on
 *    1k values: it is O(n²).
 * 2. batch, window and dedupe over 1M values: values read per second as a
 *    ratio to the raw loop.
 * 3. Peak memory growth (RSS and JS heap, sampled 64 times per run, after a
 *    forced GC) for the same operators, each in a fresh process, and the heap
 *    still in use after a forced GC at 25, 50 and 75 % of the values. dedupe
 *    without `max` keeps every key (1M distinct values here); with `max` it
 *    stays flat.
 */

import { from } from "ix/asynciterable";
import * as ix from "ix/asynciterable/operators";
import { batch, dedupe, filter, map, pipe, Subscription, window } from "../../mod.ts";
import { rate } from "./_util.ts";

const N = 1_000_000;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

/** The cheapest possible async source: one resolved promise per value. */
function counter(n: number): AsyncIterable<number> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<number> {
      let i = 0;
      return {
        next: () => Promise.resolve(i < n ? { value: i++, done: false } : { value: undefined, done: true }),
        return: () => Promise.resolve({ value: undefined, done: true }),
      };
    },
  };
}

/** A subscription holding `n` values, then ending. */
function subscription(n: number): AsyncIterable<number> {
  return {
    [Symbol.asyncIterator]: () =>
      new Subscription<number>((push, stop) => {
        for (let i = 0; i < n; i++) push(i);
        stop();
      }, { bufferSize: n }),
  };
}

async function* numbers(n: number): AsyncGenerator<number> {
  for (let i = 0; i < n; i++) yield i;
}

function generator(n: number): AsyncIterable<number> {
  return { [Symbol.asyncIterator]: () => numbers(n) };
}

const sources: Record<string, (n: number) => AsyncIterable<number>> = { counter, subscription, generator };

const pred = (x: number): boolean => x % 3 !== 0;
const fn = (x: number): number => x * 2;

async function consume(stream: AsyncIterable<number>): Promise<void> {
  let sum = 0;
  for await (const x of stream) sum += x;
  if (sum < 0) throw new Error("impossible");
}

async function count(stream: AsyncIterable<unknown[]>): Promise<number> {
  let n = 0;
  for await (const values of stream) n += values.length;
  return n;
}

async function* genFilter(source: AsyncIterable<number>): AsyncGenerator<number> {
  for await (const x of source) if (pred(x)) yield x;
}
async function* genMap(source: AsyncIterable<number>): AsyncGenerator<number> {
  for await (const x of source) yield fn(x);
}

type Run = (make: (n: number) => AsyncIterable<number>, n: number) => Promise<void>;

const rawFilterMap: Run = async (make, n) => {
  let sum = 0;
  for await (const x of make(n)) if (pred(x)) sum += fn(x);
  if (sum < 0) throw new Error("impossible");
};
const rawSum: Run = (make, n) => consume(make(n));

/** Each row: its label, its run, the raw run it is compared with, and how many values. */
const rows: Record<string, { label: string; run: Run; raw: Run; n: number }> = {
  fused: {
    label: "pipe(source, filter, map)",
    run: (m, n) => consume(pipe(m(n), filter(pred), map(fn))),
    raw: rawFilterMap,
    n: N,
  },
  unfused: {
    label: "map(fn)(filter(pred)(source)) (not fused)",
    run: (m, n) => consume(map(fn)(filter(pred)(m(n)))),
    raw: rawFilterMap,
    n: N,
  },
  ix: {
    label: "IxJS from(source).pipe(filter, map) (100k)",
    run: (m, n) => consume(from(m(n)).pipe(ix.filter(pred), ix.map(fn))),
    raw: rawFilterMap,
    n: N / 10,
  },
  generators: {
    label: "two async generators",
    run: (m, n) => consume(genMap(genFilter(m(n)))),
    raw: rawFilterMap,
    n: N,
  },
  batch: {
    label: "batch(100)",
    run: async (m, n) => void (await count(pipe(m(n), batch(100))) === n || fail("batch")),
    raw: rawSum,
    n: N,
  },
  batchWait: {
    label: "batch(100, { maxWait: 1000 })",
    run: async (m, n) => void (await count(pipe(m(n), batch(100, { maxWait: 1000 }))) === n || fail("batch")),
    raw: rawSum,
    n: N,
  },
  window: {
    label: "window(10)",
    run: async (m, n) => void (await count(pipe(m(n), window(10))) === (n - 9) * 10 || fail("window")),
    raw: rawSum,
    n: N,
  },
  dedupeMax: {
    label: "dedupe(v => v % 5000, { max: 1000 })",
    run: (m, n) => consume(pipe(m(n), dedupe((v) => v % 5000, { max: 1000 }))),
    raw: rawSum,
    n: N,
  },
  dedupeOne: {
    label: "dedupe(v => v >> 1, { max: 1 })",
    run: (m, n) => consume(pipe(m(n), dedupe((v) => v >> 1, { max: 1 }))),
    raw: rawSum,
    n: N,
  },
  dedupe: { label: "dedupe() (1M distinct keys)", run: (m, n) => consume(pipe(m(n), dedupe())), raw: rawSum, n: N },
  ixBuffer: {
    label: "IxJS buffer(100), peer of batch (100k)",
    run: async (m, n) => void (await count(from(m(n)).pipe(ix.buffer(100)))),
    raw: rawSum,
    n: N / 10,
  },
  ixDistinct: {
    label: "IxJS distinct(), peer of dedupe() (1k)",
    run: (m, n) => consume(from(m(n)).pipe(ix.distinct())),
    raw: rawSum,
    n: N / 1000, // O(n²): it scans an array of every key seen
  },
};

/** Memory cases: each drains its stream once in a fresh process. */
const memory: Record<string, { label: string; items: number; stream: () => AsyncIterable<unknown> }> = {
  raw: { label: "raw source (baseline)", items: N, stream: () => counter(N) },
  batch: { label: "batch(100)", items: N / 100, stream: () => pipe(counter(N), batch(100)) },
  window: { label: "window(100)", items: N - 99, stream: () => pipe(counter(N), window(100)) },
  dedupeMax: {
    label: "dedupe(undefined, { max: 1000 })",
    items: N,
    stream: () => pipe(counter(N), dedupe(undefined, { max: 1000 })),
  },
  dedupeOne: {
    label: "dedupe(undefined, { max: 1 })",
    items: N,
    stream: () => pipe(counter(N), dedupe(undefined, { max: 1 })),
  },
  dedupe: { label: "dedupe() (unbounded: every key kept)", items: N, stream: () => pipe(counter(N), dedupe()) },
};

function fail(what: string): never {
  throw new Error(`${what}: lost values`);
}

function median(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function time(run: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

/** In a child: raw and row interleaved; prints `{ rawMs, rowMs, n }`. */
async function child(rowName: string, sourceName: string): Promise<void> {
  const row = rows[rowName];
  const make = sources[sourceName];
  for (let i = 0; i < 2; i++) {
    await row.raw(make, row.n);
    await row.run(make, row.n);
  }
  const raw: number[] = [];
  const ours: number[] = [];
  for (let i = 0; i < 5; i++) {
    raw.push(await time(() => row.raw(make, row.n)));
    ours.push(await time(() => row.run(make, row.n)));
  }
  console.log(JSON.stringify({ rawMs: median(raw), rowMs: median(ours), n: row.n }));
}

async function memoryChild(name: string): Promise<void> {
  gc();
  const start = Deno.memoryUsage();
  let peakRss = 0;
  let peakHeap = 0;
  const retained: number[] = [];
  const { items, stream } = memory[name];
  const every = Math.max(1, Math.floor(items / 64));
  const quarter = Math.floor(items / 4);
  let i = 0;
  for await (const _ of stream()) {
    if (++i % every === 0) {
      const m = Deno.memoryUsage();
      peakRss = Math.max(peakRss, m.rss - start.rss);
      peakHeap = Math.max(peakHeap, m.heapUsed - start.heapUsed);
    }
    if (i % quarter === 0 && i < 4 * quarter) {
      gc();
      retained.push(Deno.memoryUsage().heapUsed - start.heapUsed);
    }
  }
  console.log(JSON.stringify({ peakRss, peakHeap, retained }));
}

// deno-lint-ignore no-explicit-any
async function spawn(args: string[]): Promise<Record<string, any>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-env", "--v8-flags=--expose-gc", new URL(import.meta.url).pathname, ...args],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`bench case ${args.join(" ")} failed`);
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  return JSON.parse(lines[lines.length - 1]);
}

async function table(title: string, source: string, names: string[]): Promise<void> {
  console.log(`\n${title}`);
  console.log(`  ${"row".padEnd(46)} ${"row rate".padStart(14)} ${"raw rate".padStart(14)}  ratio to raw`);
  for (const name of names) {
    const { rawMs, rowMs, n } = await spawn([`--row=${name}`, `--source=${source}`]);
    console.log(
      `  ${rows[name].label.padEnd(46)} ${rate(n, rowMs).padStart(14)} ${rate(n, rawMs).padStart(14)}  ${
        (rawMs / rowMs).toFixed(2)
      }×`,
    );
  }
}

const rowArg = Deno.args.find((a) => a.startsWith("--row="))?.slice(6);
const memArg = Deno.args.find((a) => a.startsWith("--memory="))?.slice(9);
if (rowArg !== undefined) {
  await child(rowArg, Deno.args.find((a) => a.startsWith("--source="))?.slice(9) ?? "counter");
} else if (memArg !== undefined) {
  await memoryChild(memArg);
} else {
  const chainRows = ["fused", "unfused", "ix", "generators"];
  await table("pipe(source, filter, map), minimal async iterator source", "counter", chainRows);
  await table("pipe(source, filter, map), Subscription source", "subscription", chainRows);
  await table("pipe(source, filter, map), async generator source", "generator", chainRows);
  await table(
    "batch, window, dedupe over 1M values (minimal source; raw = for await summing)",
    "counter",
    ["batch", "batchWait", "window", "dedupeMax", "dedupeOne", "dedupe", "ixBuffer", "ixDistinct"],
  );
  console.log(
    `\nPeak memory growth over ${
      N.toLocaleString("en-US")
    } values (each in a fresh process, sampled 64 times, after GC)`,
  );
  const mb = (b: number) => `${(Math.max(0, b) / 2 ** 20).toFixed(1)} MB`;
  for (const name of Object.keys(memory)) {
    const { peakRss, peakHeap, retained } = await spawn([`--memory=${name}`]);
    console.log(
      `  ${memory[name].label.padEnd(40)} peak RSS +${mb(peakRss).padStart(8)}  peak heap +${
        mb(peakHeap).padStart(8)
      }  heap kept after GC at 25/50/75%: ${retained.map(mb).join(", ")}`,
    );
  }
}
