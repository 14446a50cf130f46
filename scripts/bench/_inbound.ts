/**
 * The measuring side of the inbound benchmarks (websocket_inbound.ts,
 * iroh_inbound.ts): a transport-neutral pair of ends, one-way throughput and
 * a paced echo, raw and library subjects interleaved, median of three runs
 * (four for throughput, the library subjects' order rotated), every figure a
 * ratio to the raw row. Not part of the package.
 */

/** One connection under test: its sender and what its receiving end has seen. */
export interface Pair {
  /** Events (or echoes) seen at the receiving end. */
  got: number;
  /** One-way or round-trip times in ms, when the sent payload carried `t`. */
  times: number[];
  refused: number;
  /** Close codes of the spoke's disconnects. */
  closes: (number | undefined)[];
  send(t?: number): void;
  close(): Promise<void>;
}

/** A named way to make a pair; the first subject of a section is its raw baseline. */
export type Subject = [name: string, make: () => Promise<Pair>];

export const payload = { user: "ada", n: 0, tags: ["a", "b"], ok: true };
export const RUNS = 3;
/** Throughput runs: even, so each library subject runs right after the raw one equally often (see `throughput`). */
export const THROUGHPUT_RUNS = 10;
const CHUNK = 1_000;

/** An empty pair, for a factory to fill in. */
export function emptyPair(): Pair {
  return { got: 0, times: [], refused: 0, closes: [], send() {}, close: async () => {} };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `events` one way in chunks of 1,000 (a macrotask between chunks); ms until all arrived, or the cap. */
export async function oneWay(pair: Pair, events: number, capMs = 30_000): Promise<{ ms: number; got: number }> {
  const start = performance.now();
  const target = pair.got + events;
  for (let i = 0; i < events; i += CHUNK) {
    for (let j = 0; j < CHUNK; j++) pair.send();
    await sleep(0);
  }
  while (pair.got < target && performance.now() - start < capMs) await sleep(1);
  return { ms: performance.now() - start, got: events - (target - pair.got) };
}

/** Sends `rate` events/s for `ms`, each stamped; returns once the last should have arrived. */
export async function paced(pair: Pair, rate: number, ms: number): Promise<number> {
  const start = performance.now();
  const before = pair.got;
  let sent = 0;
  while (performance.now() - start < ms) {
    const due = Math.floor((performance.now() - start) * rate / 1000);
    while (sent < due) {
      pair.send(performance.now());
      sent++;
    }
    await sleep(1);
  }
  const deadline = performance.now() + 5_000;
  while (pair.got - before < sent && performance.now() < deadline) await sleep(5);
  return sent;
}

/** The `p` quantile of `values` (unsorted). */
export function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;
}

export const fmt = (n: number): string => Math.round(n).toLocaleString("en-US");

/** `events` one way per subject, interleaved, median of four runs each; prints events/s and the ratio to raw. */
export async function throughput(title: string, events: number, subjects: Subject[]): Promise<void> {
  const rows: Record<string, { ms: number[]; got: number[]; closes: number }> = {};
  for (let run = 0; run < THROUGHPUT_RUNS; run++) {
    // The library subjects take turns right after the raw one: measured in a fixed order, the subject right after raw
    // came out 0.1-0.2× raw slower than the same subject later in the run.
    const order = [subjects[0], ...rotate(subjects.slice(1), run)];
    for (const [name, make] of order) {
      const pair = await make();
      const { ms, got } = await oneWay(pair, events);
      await pair.close();
      const row = rows[name] ??= { ms: [], got: [], closes: 0 };
      row.ms.push(ms);
      row.got.push(got);
      row.closes += pair.closes.length;
    }
  }
  console.log(`\n${title}, ${fmt(events)} events one way (median of ${THROUGHPUT_RUNS}, order rotated)`);
  const base = events / pct(rows[subjects[0][0]].ms, 0.5);
  for (const [name] of subjects) {
    const row = rows[name];
    const ms = pct(row.ms, 0.5);
    const got = Math.min(...row.got);
    const r = got / ms;
    console.log(
      `  ${name.padEnd(36)} ${fmt(r * 1000).padStart(9)}/s  ${(r / base).toFixed(2)}× raw` +
        `  delivered ${fmt(got)}/${fmt(events)} (worst run)  disconnects ${row.closes}`,
    );
    // Each round's rate: both the raw baseline and the library swing between a fast and a slow mode from round to
    // round on this machine, so the median depends on how many slow rounds each drew.
    console.log(`    rounds (k/s): ${row.ms.map((ms) => Math.round(events / ms)).join(" ")}`);
  }
}

/** `items` rotated left by `n`. */
function rotate<T>(items: T[], n: number): T[] {
  const k = items.length === 0 ? 0 : n % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

/** Echo round trip at `rate`/s for `ms` per subject (after a warm-up), interleaved; p50/p99 as ratios to raw. */
export async function echo(title: string, rate: number, ms: number, subjects: Subject[]): Promise<void> {
  const runs: Record<string, { p50: number[]; p99: number[]; lost: number }> = {};
  for (let run = 0; run < RUNS; run++) {
    for (const [name, make] of subjects) {
      const pair = await make();
      await paced(pair, rate, 300); // warm-up
      pair.times.length = 0;
      const before = pair.got;
      const sent = await paced(pair, rate, ms);
      const row = runs[name] ??= { p50: [], p99: [], lost: 0 };
      row.p50.push(pct(pair.times, 0.5));
      row.p99.push(pct(pair.times, 0.99));
      row.lost += sent - (pair.got - before);
      await pair.close();
    }
  }
  const raw = runs[subjects[0][0]];
  const base = { p50: pct(raw.p50, 0.5), p99: pct(raw.p99, 0.5) };
  console.log(`\n${title} at ${fmt(rate)}/s for ${ms / 1000} s (median of ${RUNS})`);
  for (const [name, row] of Object.entries(runs)) {
    const p50 = pct(row.p50, 0.5), p99 = pct(row.p99, 0.5);
    console.log(
      `  ${name.padEnd(36)} p50 ${(p50 * 1000).toFixed(0).padStart(6)} µs (${(p50 / base.p50).toFixed(2)}× raw)` +
        `  p99 ${(p99 * 1000).toFixed(0).padStart(6)} µs (${(p99 / base.p99).toFixed(2)}× raw)  lost ${row.lost}`,
    );
  }
}
