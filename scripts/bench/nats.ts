/**
 * NATS adapter benchmark (`deno task bench nats`), against the NATS server at
 * NATS_URL (default 127.0.0.1:4222). Every figure is a ratio to the raw
 * `@nats-io/transport-node` client carrying the same JSON envelope, measured
 * in the same run:
 * - 1 publisher → 1 subscriber, 50k events: delivered events/s (target ≥ 0.9×);
 * - fan-out: 50 subscriptions of one topic (raw: 50 callbacks on one NATS
 *   subscription; ours: 50 listeners on the target, and 50 `subscribe()`
 *   calls; either way one NATS subscription);
 * - latency p50/p99 at a paced 5k events/s.
 */

import { connect, type NatsConnection } from "@nats-io/transport-node";
import { createPubSub } from "../../mod.ts";
import { createNatsEventTarget } from "../../adapters/nats/mod.ts";
import { Counter, deferred, measure, paced, printLatency, printRatios, type Scenario } from "./_delivery.ts";

const NATS_URL = Deno.env.get("NATS_URL") ?? "127.0.0.1:4222";
const EVENTS = 50_000;
const FANOUT_EVENTS = 10_000;
const FANOUT = 50;
const RUNS = 5;
const payload = { user: "ada", n: 0, tags: ["a", "b"], ok: true };
const decoder = new TextDecoder();

function prefix(): string {
  return `alk.bench.${crypto.randomUUID().slice(0, 8)}`;
}

async function connections(): Promise<[NatsConnection, NatsConnection]> {
  return await Promise.all([connect({ servers: NATS_URL }), connect({ servers: NATS_URL })]);
}

async function raw(subscribers = 1): Promise<Scenario> {
  const [pub, sub] = await connections();
  const subject = prefix() + ".bench:1";
  const counter = new Counter();
  const callbacks = Array.from({ length: subscribers }, () => (_value: unknown) => counter.hit());
  sub.subscribe(subject, {
    callback: (_error, message) => {
      const envelope = JSON.parse(decoder.decode(message.data));
      for (const cb of callbacks) cb(envelope.payload);
    },
  });
  await sub.flush();
  return {
    subscribers,
    counter,
    publish: () => pub.publish(subject, JSON.stringify({ type: "bench", id: "1", payload })),
    async close() {
      await Promise.all([pub.close(), sub.close()]);
    },
  };
}

async function alk(subscribers = 1): Promise<Scenario> {
  const [ca, cb] = await connections();
  const p = prefix();
  const a = createNatsEventTarget({ connection: ca, prefix: p });
  const b = createNatsEventTarget({ connection: cb, prefix: p });
  const publisher = createPubSub<{ bench: typeof payload }>({ eventTarget: a });
  const receiver = createPubSub<{ bench: typeof payload }>({ eventTarget: b });
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
      await Promise.all([a.close(), b.close()]);
      await Promise.all([ca.close(), cb.close()]);
    },
  };
}

/** The adapter alone: a listener on the target, no createPubSub or Subscription in between. */
async function alkTarget(subscribers = 1): Promise<Scenario> {
  const [ca, cb] = await connections();
  const p = prefix();
  const a = createNatsEventTarget({ connection: ca, prefix: p });
  const b = createNatsEventTarget({ connection: cb, prefix: p });
  const counter = new Counter();
  const listeners = Array.from({ length: subscribers }, () => (): void => counter.hit());
  for (const listener of listeners) b.addEventListener("bench:1", listener);
  await b.ready("bench:1");
  return {
    subscribers,
    counter,
    publish: () => a.dispatchEvent(new CustomEvent("bench:1", { detail: { type: "bench", id: "1", payload } })),
    async close() {
      for (const listener of listeners) b.removeEventListener("bench:1", listener);
      await Promise.all([a.close(), b.close()]);
      await Promise.all([ca.close(), cb.close()]);
    },
  };
}

// 1 → 1 throughput.
{
  const scenarios: [string, Scenario][] = [
    ["raw @nats-io/transport-node (JSON envelope)", await raw()],
    ["@alkdev/pubsub/nats target (dispatchEvent → listener)", await alkTarget()],
    ["@alkdev/pubsub/nats + createPubSub (async iteration)", await alk()],
  ];
  printRatios("1 publisher → 1 subscriber", EVENTS, await measure(scenarios, EVENTS, RUNS), RUNS);
  for (const [, s] of scenarios) await s.close();
}

// Fan-out: 50 subscriptions of one topic.
{
  const scenarios: [string, Scenario][] = [
    [`raw, ${FANOUT} callbacks on one NATS subscription`, await raw(FANOUT)],
    [`@alkdev/pubsub/nats target, ${FANOUT} listeners`, await alkTarget(FANOUT)],
    [`@alkdev/pubsub/nats + createPubSub, ${FANOUT} subscriptions`, await alk(FANOUT)],
  ];
  printRatios(
    `Fan-out to ${FANOUT} subscriptions`,
    FANOUT_EVENTS * FANOUT,
    await measure(scenarios, FANOUT_EVENTS, RUNS),
    RUNS,
  );
  for (const [, s] of scenarios) await s.close();
}

// Latency at a paced 5k events/s.
const LATENCY_EVENTS = 10_000;
const RATE = 5_000;

async function latency(kind: "raw" | "target" | "alk"): Promise<number[]> {
  const [ca, cb] = await connections();
  const p = prefix();
  const samples: number[] = [];
  const done = deferred();
  const record = (sentAt: number): void => {
    samples.push(performance.now() - sentAt);
    if (samples.length === LATENCY_EVENTS) done.resolve();
  };
  let send: (sentAt: number) => unknown;
  let cleanup: () => Promise<void>;
  if (kind === "raw") {
    const subject = p + ".lat:1";
    cb.subscribe(subject, {
      callback: (_error, message) => record(JSON.parse(decoder.decode(message.data)).payload.sentAt),
    });
    await cb.flush();
    send = (sentAt) => ca.publish(subject, JSON.stringify({ type: "lat", id: "1", payload: { sentAt } }));
    cleanup = async () => {};
  } else if (kind === "target") {
    const a = createNatsEventTarget({ connection: ca, prefix: p });
    const b = createNatsEventTarget({ connection: cb, prefix: p });
    const listener = (event: { detail: { payload: unknown } }): void =>
      record((event.detail.payload as { sentAt: number }).sentAt);
    b.addEventListener("lat:1", listener);
    await b.ready("lat:1");
    send = (sentAt) =>
      a.dispatchEvent(new CustomEvent("lat:1", { detail: { type: "lat", id: "1", payload: { sentAt } } }));
    cleanup = async () => {
      b.removeEventListener("lat:1", listener);
      await Promise.all([a.close(), b.close()]);
    };
  } else {
    const a = createNatsEventTarget({ connection: ca, prefix: p });
    const b = createNatsEventTarget({ connection: cb, prefix: p });
    const pa = createPubSub<{ lat: { sentAt: number } }>({ eventTarget: a });
    const pb = createPubSub<{ lat: { sentAt: number } }>({ eventTarget: b });
    const s = pb.subscribe("lat", "1", { bufferSize: 1 << 16 });
    const reader = (async () => {
      for await (const value of s) record(value.sentAt);
    })();
    await pb.ready("lat", "1");
    send = (sentAt) => pa.publish("lat", "1", { sentAt });
    cleanup = async () => {
      pa.close();
      pb.close();
      await reader;
      await Promise.all([a.close(), b.close()]);
    };
  }
  await paced(send, LATENCY_EVENTS, RATE);
  await done.promise;
  await cleanup();
  await Promise.all([ca.close(), cb.close()]);
  return samples;
}

await printLatency(
  `Latency at a paced ${RATE.toLocaleString("en-US")} events/s (${LATENCY_EVENTS.toLocaleString("en-US")} events)`,
  ["raw", "target", "alk"] as const,
  {
    raw: "raw @nats-io/transport-node",
    target: "@alkdev/pubsub/nats target (listener)",
    alk: "@alkdev/pubsub/nats + createPubSub (async iteration)",
  },
  latency,
  5,
);
