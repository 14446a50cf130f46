/**
 * Delivery benchmarks shared by the network adapters' benches (Redis, NATS, PostgreSQL):
 * a delivery counter, windowed scenario runs measured interleaved, the
 * target and createPubSub scenarios over any pair of targets, paced latency
 * sampling, and printing as ratios to the first (raw) row.
 */

import { createPubSub, type EnvelopeEvent, type SubscriptionReadiness, type TypedEventTarget } from "../../mod.ts";

/** Counts deliveries and wakes the runner when a target count is reached. */
export class Counter {
  got = 0;
  #target = Infinity;
  #resolve: (() => void) | undefined;
  hit = (): void => {
    if (++this.got === this.#target) this.#resolve!();
  };
  until(target: number): Promise<void> {
    if (this.got >= target) return Promise.resolve();
    this.#target = target;
    return new Promise((r) => (this.#resolve = r));
  }
}

/** A scenario publishes one event per `publish()` call; `counter` counts deliveries (to every subscriber). */
export interface Scenario {
  subscribers: number;
  counter: Counter;
  publish(): void;
  close(): Promise<void>;
}

/**
 * Publishes `count` events in windows of WINDOW, waiting for each window's
 * delivery before the next: @graphql-yoga's subscription throws
 * RepeaterOverflowError (an uncaught exception) beyond 1024 undelivered events.
 */
const WINDOW = 1000;

/** Publishes `count` events through `s` and waits until every subscriber has them. */
export async function runScenario(s: Scenario, count: number): Promise<void> {
  for (let sent = 0; sent < count;) {
    const n = Math.min(WINDOW, count - sent);
    const target = s.counter.got + n * s.subscribers;
    for (let i = 0; i < n; i++) s.publish();
    sent += n;
    await s.counter.until(target);
  }
}

/**
 * Runs the scenarios interleaved, `runs` times after a warm-up, and returns
 * each one's median ms. The order rotates every round, so no scenario always
 * runs first (right after the others' garbage) or last.
 */
export async function measure(
  scenarios: [string, Scenario][],
  count: number,
  runs: number,
): Promise<[string, number][]> {
  const times = new Map<string, number[]>(scenarios.map(([name]) => [name, []]));
  for (const [, s] of scenarios) await runScenario(s, Math.min(count, 5_000));
  for (let r = 0; r < runs; r++) {
    const order = [...scenarios.slice(r % scenarios.length), ...scenarios.slice(0, r % scenarios.length)];
    for (const [name, s] of order) {
      const start = performance.now();
      await runScenario(s, count);
      times.get(name)!.push(performance.now() - start);
    }
  }
  return scenarios.map(([name]) => [name, median(times.get(name)!)]);
}

/** Prints delivered events/s per row and its ratio to the first row. */
export function printRatios(title: string, delivered: number, rows: [string, number][], runs: number): void {
  const base = rows[0][1];
  console.log(`\n${title} (${delivered.toLocaleString("en-US")} delivered events, median of ${runs} runs)`);
  for (const [name, ms] of rows) {
    const rate = Math.round(delivered / (ms / 1000)).toLocaleString("en-US");
    console.log(`  ${name.padEnd(56)} ${`${rate}/s`.padStart(14)}  ${(base / ms).toFixed(2)}× raw`);
  }
}

/**
 * One throughput table: measures the scenarios interleaved (`runs` rounds of `count` published events), prints the
 * delivered events/s as ratios to the first (raw) row, and closes the scenarios. The delivered count is `count` times
 * the first scenario's subscribers: every scenario of a table has as many.
 */
export async function throughputTable(
  title: string,
  scenarios: [string, Scenario][],
  count: number,
  runs: number,
): Promise<void> {
  printRatios(title, count * scenarios[0][1].subscribers, await measure(scenarios, count, runs), runs);
  for (const [, s] of scenarios) await s.close();
}

/** A promise with its resolve function. */
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Calls `send(sentAt)` `count` times, paced at `perSecond` (checked every ms). */
export async function paced(send: (sentAt: number) => unknown, count: number, perSecond: number): Promise<void> {
  const start = performance.now();
  let sent = 0;
  while (sent < count) {
    const due = Math.min(count, Math.floor(((performance.now() - start) / 1000) * perSecond));
    while (sent < due) {
      send(performance.now());
      sent++;
    }
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** The median of `xs` (sorts it). */
export function median(xs: number[]): number {
  xs.sort((x, y) => x - y);
  return xs[Math.floor(xs.length / 2)];
}

/** The `q` quantile of sorted samples. */
export function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/**
 * Samples latency for each kind `rounds` times (interleaved) and prints the
 * median p50 and p99 of each, as ratios to the first kind's.
 */
export async function printLatency<K extends string>(
  title: string,
  kinds: readonly K[],
  names: Record<K, string>,
  sample: (kind: K) => Promise<number[]>,
  rounds: number,
): Promise<void> {
  const results = new Map<K, { p50: number[]; p99: number[] }>(kinds.map((k) => [k, { p50: [], p99: [] }]));
  for (let r = 0; r < rounds; r++) {
    for (const kind of kinds) {
      const samples = (await sample(kind)).sort((x, y) => x - y);
      results.get(kind)!.p50.push(percentile(samples, 0.5));
      results.get(kind)!.p99.push(percentile(samples, 0.99));
    }
  }
  const base = results.get(kinds[0])!;
  const raw50 = median(base.p50), raw99 = median(base.p99);
  console.log(`\n${title} (median of ${rounds} runs)`);
  for (const kind of kinds) {
    const p50 = median(results.get(kind)!.p50), p99 = median(results.get(kind)!.p99);
    console.log(
      `  ${names[kind].padEnd(56)} p50 ${p50.toFixed(3)} ms (${(p50 / raw50).toFixed(2)}× raw)  p99 ${
        p99.toFixed(3)
      } ms (${(p99 / raw99).toFixed(2)}× raw)`,
    );
  }
}

/** The JSON payload every delivery bench carries. */
export const payload = { user: "ada", n: 0, tags: ["a", "b"], ok: true };

/** Two connected targets of one adapter (what `a` publishes reaches `b`), and how to release them. */
export interface TargetPair {
  a: TypedEventTarget<EnvelopeEvent>;
  b: TypedEventTarget<EnvelopeEvent> & SubscriptionReadiness;
  /** Closes both targets and their connections. */
  close(): Promise<void>;
}

/** The adapter alone: `subscribers` listeners on `b`, events dispatched on `a`; no createPubSub in between. */
export async function targetScenario(pair: TargetPair, subscribers = 1): Promise<Scenario> {
  const counter = new Counter();
  const listeners = Array.from({ length: subscribers }, () => (): void => counter.hit());
  for (const listener of listeners) pair.b.addEventListener("bench:1", listener);
  await pair.b.ready("bench:1");
  return {
    subscribers,
    counter,
    publish: () => pair.a.dispatchEvent(new CustomEvent("bench:1", { detail: { type: "bench", id: "1", payload } })),
    async close() {
      for (const listener of listeners) pair.b.removeEventListener("bench:1", listener);
      await pair.close();
    },
  };
}

/** `createPubSub` over each side: `subscribers` subscriptions read by `for await`. */
export async function pubsubScenario(pair: TargetPair, subscribers = 1): Promise<Scenario> {
  const publisher = createPubSub<{ bench: typeof payload }>({ eventTarget: pair.a });
  const receiver = createPubSub<{ bench: typeof payload }>({ eventTarget: pair.b });
  const counter = new Counter();
  const subs = Array.from({ length: subscribers }, () => receiver.subscribe("bench", "1", { bufferSize: 4096 }));
  const readers = subs.map(async (s) => {
    for await (const _ of s) counter.hit();
  });
  await receiver.ready("bench", "1");
  return {
    subscribers,
    counter,
    publish: () => publisher.publish("bench", "1", payload),
    async close() {
      publisher.close();
      receiver.close();
      await Promise.all(readers);
      await pair.close();
    },
  };
}

/** What a raw-client latency run sets up: how to send a stamped event, and how to release it. */
export interface RawLatency {
  send(sentAt: number): unknown;
  close(): Promise<void>;
}

/**
 * Sends `count` stamped events at `perSecond` and returns each one's latency
 * in ms: through a raw client (`raw` wires `record` to its receive callback),
 * or through a pair as a listener on the target or as a `createPubSub`
 * subscription.
 */
export async function latencySamples(
  kind: "raw" | "target" | "pubsub",
  setup: { raw: (record: (sentAt: number) => void) => Promise<RawLatency>; pair: () => Promise<TargetPair> },
  count: number,
  perSecond: number,
): Promise<number[]> {
  const samples: number[] = [];
  const done = deferred();
  const record = (sentAt: number): void => {
    samples.push(performance.now() - sentAt);
    if (samples.length === count) done.resolve();
  };
  let run: RawLatency;
  if (kind === "raw") run = await setup.raw(record);
  else if (kind === "target") {
    const pair = await setup.pair();
    const listener = (event: { detail: { payload: unknown } }): void =>
      record((event.detail.payload as { sentAt: number }).sentAt);
    pair.b.addEventListener("lat:1", listener);
    await pair.b.ready("lat:1");
    run = {
      send: (sentAt) =>
        pair.a.dispatchEvent(new CustomEvent("lat:1", { detail: { type: "lat", id: "1", payload: { sentAt } } })),
      async close() {
        pair.b.removeEventListener("lat:1", listener);
        await pair.close();
      },
    };
  } else {
    const pair = await setup.pair();
    const pa = createPubSub<{ lat: { sentAt: number } }>({ eventTarget: pair.a });
    const pb = createPubSub<{ lat: { sentAt: number } }>({ eventTarget: pair.b });
    const s = pb.subscribe("lat", "1", { bufferSize: 1 << 16 });
    const reader = (async () => {
      for await (const value of s) record(value.sentAt);
    })();
    await pb.ready("lat", "1");
    run = {
      send: (sentAt) => pa.publish("lat", "1", { sentAt }),
      async close() {
        pa.close();
        pb.close();
        await reader;
        await pair.close();
      },
    };
  }
  await paced(run.send, count, perSecond);
  await done.promise;
  await run.close();
  return samples;
}

/**
 * The latency table of one adapter (`@alkdev/pubsub/${adapter}`): its raw client (named `rawName`), the target with a
 * listener, and `createPubSub`, each sending `count` events paced at `perSecond`, median of 5 rounds.
 */
export async function adapterLatency(
  adapter: string,
  rawName: string,
  setup: { raw: (record: (sentAt: number) => void) => Promise<RawLatency>; pair: () => Promise<TargetPair> },
  count: number,
  perSecond: number,
): Promise<void> {
  await printLatency(
    `Latency at a paced ${perSecond.toLocaleString("en-US")} events/s (${count.toLocaleString("en-US")} events)`,
    ["raw", "target", "pubsub"] as const,
    {
      raw: rawName,
      target: `@alkdev/pubsub/${adapter} target (listener)`,
      pubsub: `@alkdev/pubsub/${adapter} + createPubSub (async iteration)`,
    },
    (kind) => latencySamples(kind, setup, count, perSecond),
    5,
  );
}
