/**
 * NATS adapter benchmark (`deno task bench nats`), against the NATS server at
 * NATS_URL (default 127.0.0.1:4222). Every figure is a ratio to the raw
 * `@nats-io/transport-node` client carrying the same JSON envelope, measured
 * in the same run:
 * - 1 publisher → 1 subscriber, 50k events: delivered events/s (target ≥ 0.9×);
 * - fan-out: 50 subscriptions of one topic. Two raw rows: 50 callbacks on
 *   one NATS subscription (the baseline of the ratios), and 50 NATS
 *   subscriptions; ours: 50 listeners on the target, and 50 `subscribe()`
 *   calls, either way over one NATS subscription;
 * - latency p50/p99 at a paced 5k events/s.
 */

import { connect, type NatsConnection } from "@nats-io/transport-node";
import { createNatsEventTarget } from "../../adapters/nats/mod.ts";
import {
  adapterLatency,
  Counter,
  payload,
  pubsubScenario,
  type RawLatency,
  type Scenario,
  type TargetPair,
  targetScenario,
  throughputTable,
} from "./_delivery.ts";

const NATS_URL = Deno.env.get("NATS_URL") ?? "127.0.0.1:4222";
const EVENTS = 50_000;
const FANOUT_EVENTS = 10_000;
const FANOUT = 50;
const RUNS = 5;
const decoder = new TextDecoder();

function prefix(): string {
  return `alk.bench.${crypto.randomUUID().slice(0, 8)}`;
}

async function connections(): Promise<[NatsConnection, NatsConnection]> {
  return await Promise.all([connect({ servers: NATS_URL }), connect({ servers: NATS_URL })]);
}

/** Two targets on their own connections, sharing a fresh prefix. */
async function pair(): Promise<TargetPair> {
  const [ca, cb] = await connections();
  const p = prefix();
  const a = createNatsEventTarget({ connection: ca, prefix: p });
  const b = createNatsEventTarget({ connection: cb, prefix: p });
  return {
    a,
    b,
    async close() {
      await Promise.all([a.close(), b.close()]);
      await Promise.all([ca.close(), cb.close()]);
    },
  };
}

/**
 * The raw client: `subscribers` callbacks on one NATS subscription (decoding once), or with `separate`, one NATS
 * subscription per subscriber (the server sends each its own copy, decoded by each).
 */
async function raw(subscribers = 1, separate = false): Promise<Scenario> {
  const [pub, sub] = await connections();
  const subject = prefix() + ".bench:1";
  const counter = new Counter();
  const callbacks = Array.from({ length: subscribers }, () => (_value: unknown) => counter.hit());
  const handlers = separate ? callbacks.map((cb) => [cb]) : [callbacks];
  for (const group of handlers) {
    sub.subscribe(subject, {
      callback: (_error, message) => {
        const envelope = JSON.parse(decoder.decode(message.data));
        for (const cb of group) cb(envelope.payload);
      },
    });
  }
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

// 1 → 1 throughput.
{
  const scenarios: [string, Scenario][] = [
    ["raw @nats-io/transport-node (JSON envelope)", await raw()],
    ["@alkdev/pubsub/nats target (dispatchEvent → listener)", await targetScenario(await pair())],
    ["@alkdev/pubsub/nats + createPubSub (async iteration)", await pubsubScenario(await pair())],
  ];
  await throughputTable("1 publisher → 1 subscriber", scenarios, EVENTS, RUNS);
}

// Fan-out: 50 subscriptions of one topic.
{
  const scenarios: [string, Scenario][] = [
    [`raw, ${FANOUT} callbacks on one NATS subscription`, await raw(FANOUT)],
    [`raw, ${FANOUT} NATS subscriptions`, await raw(FANOUT, true)],
    [`@alkdev/pubsub/nats target, ${FANOUT} listeners`, await targetScenario(await pair(), FANOUT)],
    [`@alkdev/pubsub/nats + createPubSub, ${FANOUT} subscriptions`, await pubsubScenario(await pair(), FANOUT)],
  ];
  await throughputTable(`Fan-out to ${FANOUT} subscriptions`, scenarios, FANOUT_EVENTS, RUNS);
}

// Latency at a paced 5k events/s.
const LATENCY_EVENTS = 10_000;
const RATE = 5_000;

async function rawLatency(record: (sentAt: number) => void): Promise<RawLatency> {
  const [ca, cb] = await connections();
  const subject = prefix() + ".lat:1";
  cb.subscribe(subject, {
    callback: (_error, message) => record(JSON.parse(decoder.decode(message.data)).payload.sentAt),
  });
  await cb.flush();
  return {
    send: (sentAt) => ca.publish(subject, JSON.stringify({ type: "lat", id: "1", payload: { sentAt } })),
    async close() {
      await Promise.all([ca.close(), cb.close()]);
    },
  };
}

await adapterLatency("nats", "raw @nats-io/transport-node", { raw: rawLatency, pair }, LATENCY_EVENTS, RATE);
