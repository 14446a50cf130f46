/**
 * Redis adapter benchmark (`deno task bench redis`), against the Redis at
 * REDIS_URL (default redis://127.0.0.1:6379). Every figure is a ratio to raw
 * ioredis PUBLISH/SUBSCRIBE carrying the same JSON envelope, measured in the
 * same run; the throughput baseline (first row) is raw ioredis with
 * `enableAutoPipelining`, with plain raw ioredis as the second row:
 * - 1 publisher → 1 subscriber, 50k events: delivered events/s (target ≥ 0.9×
 *   raw autopipelined);
 * - fan-out: 50 subscribers of one topic on one subscribe connection (target
 *   ≥ 0.8× raw autopipelined);
 * - latency p50/p99 at a paced 5k events/s (target p99 ≤ 1.2× raw);
 * - peers: @graphql-yoga/redis-event-target with @graphql-yoga/subscription's
 *   createPubSub, and graphql-redis-subscriptions.
 */

import { Redis } from "ioredis";
import { createPubSub as createYogaPubSub } from "@graphql-yoga/subscription";
import { createRedisEventTarget as createYogaRedisEventTarget } from "@graphql-yoga/redis-event-target";
import { RedisPubSub } from "graphql-redis-subscriptions";
import { createRedisEventTarget } from "../../adapters/redis/mod.ts";
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

const REDIS_URL = Deno.env.get("REDIS_URL") ?? "redis://127.0.0.1:6379";
const EVENTS = 50_000;
const FANOUT_EVENTS = 10_000;
const FANOUT = 50;
const RUNS = 5;

async function connect(enableAutoPipelining = false): Promise<Redis> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, enableAutoPipelining });
  await redis.connect();
  return redis;
}

function prefix(): string {
  return `alk:bench:${crypto.randomUUID().slice(0, 8)}:`;
}

async function raw(subscribers = 1, autoPipelining = false): Promise<Scenario> {
  const [pub, sub] = await Promise.all([connect(autoPipelining), connect()]);
  const channel = prefix() + "bench:1";
  const counter = new Counter();
  const callbacks = Array.from({ length: subscribers }, () => (_value: unknown) => counter.hit());
  sub.on("message", (ch: string, message: string) => {
    if (ch !== channel) return;
    const envelope = JSON.parse(message);
    for (const cb of callbacks) cb(envelope.payload);
  });
  await sub.subscribe(channel);
  return {
    subscribers,
    counter,
    publish: () => void pub.publish(channel, JSON.stringify({ type: "bench", id: "1", payload })),
    async close() {
      await Promise.all([pub.quit(), sub.quit()]);
    },
  };
}

/** Two targets on their own four connections, sharing a fresh prefix. */
async function pair(): Promise<TargetPair> {
  const [pubA, subA, pubB, subB] = await Promise.all([connect(), connect(), connect(), connect()]);
  const p = prefix();
  const a = createRedisEventTarget({ publishClient: pubA, subscribeClient: subA, prefix: p });
  const b = createRedisEventTarget({ publishClient: pubB, subscribeClient: subB, prefix: p });
  return {
    a,
    b,
    async close() {
      await Promise.all([a.close(), b.close()]);
      await Promise.all([pubA, subA, pubB, subB].map((c) => c.quit()));
    },
  };
}

async function yoga(): Promise<Scenario> {
  const [pubA, subA, pubB, subB] = await Promise.all([connect(), connect(), connect(), connect()]);
  // Yoga has no prefix option: the topic carries it.
  const a = createYogaPubSub({
    eventTarget: createYogaRedisEventTarget({ publishClient: pubA, subscribeClient: subA }),
  });
  const b = createYogaPubSub({
    eventTarget: createYogaRedisEventTarget({ publishClient: pubB, subscribeClient: subB }),
  });
  const topic = prefix() + "bench";
  const counter = new Counter();
  const sub = b.subscribe(topic);
  const reader = (async () => {
    for await (const _ of sub) counter.hit();
  })();
  // Yoga does not await its SUBSCRIBE; wait until Redis has it.
  while (Number(((await pubA.pubsub("NUMSUB", topic)) as unknown[])[1]) < 1) await sleep(5);
  return {
    subscribers: 1,
    counter,
    publish: () => a.publish(topic, payload),
    async close() {
      await sub.return(undefined);
      await reader;
      await Promise.all([pubA, subA, pubB, subB].map((c) => c.quit()));
    },
  };
}

async function graphqlRedisSubscriptions(): Promise<Scenario> {
  const [pubA, subA, pubB, subB] = await Promise.all([connect(), connect(), connect(), connect()]);
  const a = new RedisPubSub({ publisher: pubA, subscriber: subA });
  const b = new RedisPubSub({ publisher: pubB, subscriber: subB });
  const trigger = prefix() + "bench";
  const counter = new Counter();
  const id = await b.subscribe(trigger, counter.hit);
  return {
    subscribers: 1,
    counter,
    publish: () => void a.publish(trigger, payload),
    async close() {
      b.unsubscribe(id);
      await Promise.all([a.close(), b.close()]);
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// 1 → 1 throughput.
{
  const scenarios: [string, Scenario][] = [
    ["raw ioredis, enableAutoPipelining (JSON envelope)", await raw(1, true)],
    ["raw ioredis PUBLISH/SUBSCRIBE (JSON envelope)", await raw()],
    ["@alkdev/pubsub/redis target (dispatchEvent → listener)", await targetScenario(await pair())],
    ["@alkdev/pubsub/redis + createPubSub (async iteration)", await pubsubScenario(await pair())],
    ["@graphql-yoga/redis-event-target + createPubSub", await yoga()],
    ["graphql-redis-subscriptions RedisPubSub", await graphqlRedisSubscriptions()],
  ];
  await throughputTable("1 publisher → 1 subscriber", scenarios, EVENTS, RUNS);
}

// Fan-out: 50 subscribers of one topic on one subscribe connection.
{
  const scenarios: [string, Scenario][] = [
    [`raw ioredis autopipelined, ${FANOUT} callbacks on one connection`, await raw(FANOUT, true)],
    [`raw ioredis, ${FANOUT} callbacks on one connection`, await raw(FANOUT)],
    [`@alkdev/pubsub/redis, ${FANOUT} subscriptions on one connection`, await pubsubScenario(await pair(), FANOUT)],
  ];
  await throughputTable(`Fan-out to ${FANOUT} subscribers`, scenarios, FANOUT_EVENTS, RUNS);
}

// Latency at a paced 5k events/s.
async function rawLatency(record: (sentAt: number) => void): Promise<RawLatency> {
  const [pub, sub] = await Promise.all([connect(), connect()]);
  const channel = prefix() + "lat:1";
  sub.on("message", (_ch: string, message: string) => record(JSON.parse(message).payload.sentAt));
  await sub.subscribe(channel);
  return {
    send: (sentAt) => pub.publish(channel, JSON.stringify({ type: "lat", id: "1", payload: { sentAt } })),
    async close() {
      await Promise.all([pub.quit(), sub.quit()]);
    },
  };
}

await adapterLatency("redis", "raw ioredis", { raw: rawLatency, pair }, 10_000, 5_000);
