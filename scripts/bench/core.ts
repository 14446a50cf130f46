/**
 * Core benchmark (issue 2): in-process delivery, 1 publisher to 1 and to 100
 * subscribers, 100k small events, delivered events/sec; ratios to a raw
 * `EventTarget.dispatchEvent` to a plain callback and to
 * `@graphql-yoga/subscription`. Then peak RSS growth for 1M events published
 * to a subscriber that never reads, each case in its own process.
 */

import { createPubSub as createYogaPubSub } from "@graphql-yoga/subscription";
import { Repeater, SlidingBuffer } from "@repeaterjs/repeater";
import { createPubSub, InProcessEventTarget, type OverflowPolicy } from "../../mod.ts";
import { medianMs, printRates, type Row } from "./_util.ts";

const rssCase = Deno.args.find((a) => a.startsWith("--rss="))?.slice(6);
if (rssCase !== undefined) {
  await runRssCase(rssCase);
  Deno.exit(0);
}

const N = 100_000;
const CHUNK = 500; // yoga's Repeater throws past 1024 pending pushes, so every row publishes in chunks and drains

type Events = { tick: { n: number } };

function raw(subscribers: number): void {
  const target = new EventTarget();
  let delivered = 0;
  for (let s = 0; s < subscribers; s++) {
    target.addEventListener("tick:1", (e) => {
      if ((e as CustomEvent).detail.payload.n >= 0) delivered++;
    });
  }
  for (let i = 0; i < N; i++) {
    target.dispatchEvent(new CustomEvent("tick:1", { detail: { type: "tick", id: "1", payload: { n: i } } }));
  }
  if (delivered !== N * subscribers) throw new Error("raw: lost events");
}

async function drain(subs: AsyncIterator<{ n: number }>[], count: number): Promise<number> {
  let delivered = 0;
  for (const sub of subs) {
    for (let i = 0; i < count; i++) {
      const r = await sub.next();
      if (!r.done && r.value.n >= 0) delivered++;
    }
  }
  return delivered;
}

async function ours(subscribers: number, target?: EventTarget): Promise<void> {
  const pubsub = createPubSub<Events>({ eventTarget: (target ?? new InProcessEventTarget()) as InProcessEventTarget });
  const subs = Array.from({ length: subscribers }, () => pubsub.subscribe("tick", "1"));
  let delivered = 0;
  for (let i = 0; i < N; i += CHUNK) {
    for (let j = 0; j < CHUNK; j++) pubsub.publish("tick", "1", { n: i + j });
    delivered += await drain(subs, CHUNK);
  }
  pubsub.close();
  if (delivered !== N * subscribers) throw new Error("ours: lost events");
}

async function yoga(subscribers: number, N: number): Promise<void> {
  const pubsub = createYogaPubSub<{ tick: [string, { n: number }] }>();
  const subs = Array.from({ length: subscribers }, () => pubsub.subscribe("tick", "1")[Symbol.asyncIterator]());
  // Yoga subscribes lazily, on the first next(): start each one, then publish a primer they all receive.
  const first = subs.map((s) => s.next());
  await new Promise((r) => setTimeout(r, 0));
  pubsub.publish("tick", "1", { n: 0 });
  await Promise.all(first);
  let delivered = 0;
  for (let i = 0; i < N; i += CHUNK) {
    for (let j = 0; j < CHUNK; j++) pubsub.publish("tick", "1", { n: i + j });
    delivered += await drain(subs, CHUNK);
  }
  await Promise.all(subs.map((s) => s.return?.()));
  if (delivered !== N * subscribers) throw new Error("yoga: lost events");
}

for (const subscribers of [1, 100]) {
  const runs = subscribers === 1 ? 7 : 3;
  // Yoga delivers ~100k events/s: with 100 subscribers it runs a tenth of the events, and its rate is compared.
  const yogaN = subscribers === 1 ? N : N / 10;
  const rows: Row[] = [
    {
      name: "raw EventTarget.dispatchEvent → callback",
      events: N * subscribers,
      ms: await medianMs(() => raw(subscribers), runs),
    },
    {
      name: "@alkdev/pubsub (in-process target)",
      events: N * subscribers,
      ms: await medianMs(() => ours(subscribers), runs),
    },
    {
      name: "@alkdev/pubsub over a native EventTarget",
      events: N * subscribers,
      ms: await medianMs(() => ours(subscribers, new EventTarget()), runs),
    },
    {
      name: "@graphql-yoga/subscription createPubSub",
      events: yogaN * subscribers,
      ms: await medianMs(() => yoga(subscribers, yogaN), subscribers === 1 ? 3 : 1, 1),
    },
  ];
  printRates(
    `1 publisher → ${subscribers} subscriber(s), ${N.toLocaleString("en-US")} events each (delivered events/s)`,
    rows,
  );
  const ourRate = rows[1].events / rows[1].ms, yogaRate = rows[3].events / rows[3].ms;
  console.log(`  @alkdev/pubsub (in-process) vs yoga: ${(ourRate / yogaRate).toFixed(2)}×`);
}

// Peak RSS growth, one process per case.
console.log("\n1,000,000 events published to a subscriber that never reads: peak RSS growth");
const cases = ["baseline", "error", "drop-oldest", "drop-newest", "repeater-sliding"];
const results: Record<string, number> = {};
for (const c of cases) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-env",
      "--v8-flags=--expose-gc",
      new URL(import.meta.url).pathname,
      `--rss=${c}`,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  results[c] = Number(new TextDecoder().decode(out.stdout).trim());
}
const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MB`;
for (const c of cases) {
  const label = c === "baseline"
    ? "raw: publish to no subscriber (baseline)"
    : c === "repeater-sliding"
    ? "Repeater + SlidingBuffer(1024) (reference)"
    : `@alkdev/pubsub overflow "${c}"${c === "error" ? " (default)" : ""}`;
  console.log(
    `  ${label.padEnd(44)} ${mb(results[c]).padStart(10)}  ${
      (results[c] / Math.max(results.baseline, 1)).toFixed(2)
    }× baseline`,
  );
}

async function runRssCase(c: string): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const start = Deno.memoryUsage().rss;
  let peak = start;
  const sample = () => {
    const rss = Deno.memoryUsage().rss;
    if (rss > peak) peak = rss;
  };
  const total = 1_000_000;
  if (c === "repeater-sliding") {
    let push!: (v: { n: number }) => unknown;
    const r = new Repeater<{ n: number }>((p) => {
      push = p;
    }, new SlidingBuffer(1024));
    const first = r.next(); // starts the executor
    await new Promise((res) => setTimeout(res, 0));
    for (let i = 0; i < total; i++) {
      push({ n: i });
      if (i % 10_000 === 0) sample();
    }
    await first;
    await r.return();
  } else {
    const pubsub = createPubSub<Events>();
    const sub = c === "baseline" ? undefined : pubsub.subscribe("tick", "1", { overflow: c as OverflowPolicy });
    for (let i = 0; i < total; i++) {
      pubsub.publish("tick", "1", { n: i });
      if (i % 10_000 === 0) sample();
    }
    sample();
    await sub?.return();
    pubsub.close();
  }
  sample();
  console.log(Math.max(0, peak - start));
}
