// The Redis adapter from the npm package under Node: a round trip through the
// real Redis at REDIS_URL (default redis://127.0.0.1:6379) with ioredis, via
// the public subpath `@alkdev/pubsub/redis`. Run by scripts/test_node.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { createPubSub, EnvelopeError, topicFor } from "@alkdev/pubsub";
import { createRedisEventTarget, RedisPublishError } from "@alkdev/pubsub/redis";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

async function connect() {
  const redis = new Redis(REDIS_URL, { lazyConnect: true });
  redis.on("error", () => {});
  await redis.connect();
  return redis;
}

async function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`No ${what} within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

test("redis: round trip between two targets, garbage reported, receivers counted", async () => {
  const prefix = `alk:node-test:${randomUUID().slice(0, 8)}:`;
  const clients = await Promise.all([connect(), connect(), connect(), connect(), connect()]);
  const [pubA, subA, pubB, subB, raw] = clients;
  const errors = [];
  const a = createRedisEventTarget({
    publishClient: pubA,
    subscribeClient: subA,
    prefix,
    onError: (e) => errors.push(e),
  });
  const b = createRedisEventTarget({
    publishClient: pubB,
    subscribeClient: subB,
    prefix,
    onError: (e) => errors.push(e),
  });
  const pa = createPubSub({ eventTarget: a });
  const pb = createPubSub({ eventTarget: b });
  try {
    const sub = pb.subscribe("user.updated", "42");
    await pb.ready("user.updated", "42");
    await raw.publish(prefix + topicFor("user.updated", "42"), "notjson");
    pa.publish("user.updated", "42", { name: "Ada", n: 0 });
    assert.deepEqual(await within(sub.next(), 5000, "event"), { value: { name: "Ada", n: 0 }, done: false });
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof EnvelopeError);
    assert.equal(await a.publish({ type: "user.updated", id: "42", payload: null }), 1);
    assert.deepEqual(await within(sub.next(), 5000, "event"), { value: null, done: false });
    assert.equal(typeof RedisPublishError, "function");
    await sub.return(undefined);
  } finally {
    pa.close();
    pb.close();
    await Promise.all([a.close(), b.close()]);
    await Promise.all(clients.map((c) => c.quit()));
  }
});
