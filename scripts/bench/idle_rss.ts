/**
 * RSS per idle connection of the Bun hub against raw Bun native pub/sub, alone: the RSS part of
 * `BENCH_HUB_ONLY=runtimes deno task bench hub` section B (same server, runtime_server.mjs from the npm package in
 * .tmp/bench-npm, and the same thin clients of hub_clients.ts: hello with credentials, then `sub` to `user:i` and
 * `group:⌊i/10⌋`), without the rate steps. Raw and hub alternate, `IDLE_RSS_REPS` (3) times each.
 *
 * `deno task bench idle-rss` (or `deno run --allow-run --allow-env scripts/bench/idle_rss.ts [--no-build]`): builds the
 * npm package into .tmp/bench-npm first (scripts/npm_scratch.ts, in its own process) unless `--no-build`. `IDLE_RSS_CONNECTIONS` (5000) and `IDLE_RSS_RUNTIME` (bun; node compares the Node hub with
 * hand-routed `ws`) change the load.
 */

import { Child, rssKiB } from "./_control.ts";
import { buildNpmScratch, BUN, NPM_SCRATCH } from "./_util.ts";

const CONNECTIONS = Number(Deno.env.get("IDLE_RSS_CONNECTIONS") ?? 5_000);
const REPS = Number(Deno.env.get("IDLE_RSS_REPS") ?? 3);
const RUNTIME = Deno.env.get("IDLE_RSS_RUNTIME") ?? "bun";
const CLIENT_PROCESSES = 2;
/** `IDLE_RSS_SETTLE_MS`: the wait after the GC before RSS is read (300 ms, as in `deno task bench hub`). */
const SETTLE_MS = Number(Deno.env.get("IDLE_RSS_SETTLE_MS") ?? 300);
/**
 * `IDLE_RSS_BASELINE=<scratch project>`: also the hub of another build (say the commit before a change, set up with
 * `scripts/npm_scratch.ts <dir>` in a checkout of it), as "hub-baseline", in the same run.
 */
const BASELINE = Deno.env.get("IDLE_RSS_BASELINE");
type Mode = "raw" | "hub" | "hub-baseline";
/** `IDLE_RSS_MODES=hub`: the hub only (no ratio), say while trying changes. */
const MODES = (Deno.env.get("IDLE_RSS_MODES") ?? (BASELINE === undefined ? "raw,hub" : "raw,hub-baseline,hub"))
  .split(",") as Mode[];
/**
 * `IDLE_RSS_HEAP=1` (Bun): also print, per connection, the live JS objects by type that grew, and the growth of JSC's
 * heap (size, capacity, extra memory) and of mimalloc's (allocated, committed), from Bun's `heapStats`.
 */
const HEAP = Deno.env.get("IDLE_RSS_HEAP") === "1";

interface HeapReport {
  types: Record<string, number>;
  /** mimalloc's blocks in use by block size. */
  bins: Record<string, number>;
  [size: string]: number | Record<string, number>;
}

/** The entries of `after` that grew since `before` by at least 0.05 per connection, most first. */
function grownPerConnection(before: Record<string, number>, after: Record<string, number>): [string, number][] {
  return Object.entries(after)
    .map(([key, count]): [string, number] => [key, (count - (before[key] ?? 0)) / CONNECTIONS])
    .filter(([, perConnection]) => perConnection >= 0.05)
    .sort((a, b) => b[1] - a[1]);
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

if (!Deno.args.includes("--no-build")) {
  console.log("(building the npm package into .tmp/bench-npm)");
  await buildNpmScratch();
}

interface Sample {
  rss: number;
  heap: number;
}

/** One server (`raw` or `hub`) with CONNECTIONS idle clients: RSS and JS heap growth per connection, bytes. */
async function measure(mode: Mode): Promise<Sample> {
  const scratch = mode === "hub-baseline" ? BASELINE! : NPM_SCRATCH;
  const script = `${scratch}/bench/runtime_server.mjs`;
  const serverMode = mode === "raw" ? "raw" : "hub";
  const server = new Child(`server ${mode}`, "./hub_server.ts", [], [], {
    command: RUNTIME === "node" ? "node" : BUN,
    args: RUNTIME === "node" ? ["--expose-gc", script, serverMode] : [script, serverMode],
    cwd: scratch,
  });
  const clients: Child[] = [];
  try {
    const port = await server.call<number>({ cmd: "port" });
    const settled = async () => {
      await server.call({ cmd: "gc" });
      await sleep(SETTLE_MS);
      return {
        rss: await rssKiB(server.pid) * 1024,
        heap: (await server.call<{ heapUsed: number }>({ cmd: "memory" })).heapUsed,
      };
    };
    await sleep(500);
    const before = await settled();
    const heapBefore = HEAP ? await server.call<HeapReport>({ cmd: "heap" }) : undefined;
    for (let i = 0; i < CLIENT_PROCESSES; i++) {
      clients.push(new Child(`clients ${i}`, "./hub_clients.ts", ["--allow-net=127.0.0.1"], ["thin"]));
    }
    const per = Math.ceil(CONNECTIONS / CLIENT_PROCESSES);
    await Promise.all(clients.map((child, i) =>
      child.call({
        cmd: "connect",
        url: `ws://127.0.0.1:${port}`,
        from: i * per,
        count: Math.min(per, CONNECTIONS - i * per),
        shape: "centrifugo",
      }, 120_000)
    ));
    await sleep(1_000);
    const after = await settled();
    if (heapBefore !== undefined) {
      const heap = await server.call<HeapReport>({ cmd: "heap" });
      const grown = grownPerConnection(heapBefore.types, heap.types);
      console.log(`  ${mode}: objects per connection: ${grown.map(([t, n]) => `${t} ${n.toFixed(2)}`).join(", ")}`);
      const blocks = grownPerConnection(heapBefore.bins, heap.bins);
      console.log(
        `  ${mode}: mimalloc blocks per connection: ${blocks.map(([t, n]) => `${n.toFixed(2)}×${t} B`).join(", ")}`,
      );
      const sizes = Object.keys(heap).filter((key) => key !== "types" && key !== "bins").map((key) =>
        `${key} ${fmt(((heap[key] as number) - (heapBefore[key] as number)) / CONNECTIONS)}`
      );
      console.log(`  ${mode}: bytes per connection: ${sizes.join(", ")}`);
    }
    const stats = await server.call<{ subscriptions: number }>({ cmd: "stats" });
    if (stats.subscriptions !== CONNECTIONS * 2) console.log(`  (${mode}: ${stats.subscriptions} subscriptions)`);
    return { rss: (after.rss - before.rss) / CONNECTIONS, heap: (after.heap - before.heap) / CONNECTIONS };
  } finally {
    await Promise.all(clients.map((child) => child.stop()));
    await server.stop();
  }
}

const samples: Record<Mode, Sample[]> = { raw: [], hub: [], "hub-baseline": [] };
console.log(`RSS per idle connection on ${RUNTIME}, ${fmt(CONNECTIONS)} thin clients (user + group topic each):`);
for (let rep = 0; rep < REPS; rep++) {
  for (const mode of MODES) {
    const sample = await measure(mode);
    samples[mode].push(sample);
    console.log(`  ${rep + 1}. ${mode}: RSS ${fmt(sample.rss)} B, JS heap ${fmt(sample.heap)} B`);
  }
  const raw = samples.raw[rep];
  if (raw === undefined) continue;
  const ratios = (["hub-baseline", "hub"] as const).filter((mode) => samples[mode][rep] !== undefined)
    .map((mode) => `${mode}/raw ${(samples[mode][rep].rss / raw.rss).toFixed(2)}×`);
  if (ratios.length > 0) console.log(`     ${ratios.join(", ")}`);
}
if (samples.raw.length === 0) Deno.exit(0);
const mean = (xs: Sample[], key: keyof Sample) => xs.reduce((sum, x) => sum + x[key], 0) / xs.length;
const raw = mean(samples.raw, "rss");
console.log(`mean: raw ${fmt(raw)} B`);
for (const mode of ["hub-baseline", "hub"] as const) {
  if (samples[mode].length === 0) continue;
  const rss = mean(samples[mode], "rss");
  console.log(
    `      ${mode} ${fmt(rss)} B (JS heap ${fmt(mean(samples[mode], "heap"))} B): ${(rss / raw).toFixed(2)}× raw`,
  );
}
