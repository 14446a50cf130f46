/**
 * Publishes issued in one tick go to Redis as one pipeline: one write on the
 * wire (counted by a TCP proxy between the publish client and Redis), in
 * order, each with its own receiver count and its own error.
 */

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createPubSub } from "../../mod.ts";
import { createRedisEventTarget } from "../../adapters/redis/mod.ts";
import { freePort, quitAll, REDIS_URL, RedisServer, uniquePrefix } from "./_helpers.ts";

/** A TCP proxy to Redis that counts the chunks the client writes. */
function proxy(): { url: string; chunks: Uint8Array[]; close(): Promise<void> } {
  const upstream = new URL(REDIS_URL);
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const chunks: Uint8Array[] = [];
  const conns: Deno.Conn[] = [];
  const pumps: Promise<void>[] = [];
  const pump = async (from: Deno.Conn, to: Deno.Conn, record: boolean) => {
    const buf = new Uint8Array(1 << 16);
    try {
      for (;;) {
        const n = await from.read(buf);
        if (n === null) break;
        if (record) chunks.push(buf.slice(0, n));
        await to.write(buf.subarray(0, n));
      }
    } catch {
      // closed
    }
    try {
      await to.closeWrite();
    } catch {
      // closed
    }
  };
  const accepting = (async () => {
    for await (const client of listener) {
      const server = await Deno.connect({ hostname: upstream.hostname, port: Number(upstream.port || 6379) });
      conns.push(client, server);
      pumps.push(pump(client, server, true), pump(server, client, false));
    }
  })();
  return {
    url: `redis://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    chunks,
    async close() {
      listener.close();
      await accepting.catch(() => {});
      for (const conn of conns) {
        try {
          conn.close();
        } catch {
          // closed
        }
      }
      await Promise.all(pumps);
    },
  };
}

Deno.test("redis: 200 publishes in one tick are one write on the wire, in order, each with its receiver count", async () => {
  const wire = proxy();
  const pub = new Redis(wire.url, { lazyConnect: true });
  const sub = new Redis(REDIS_URL, { lazyConnect: true });
  const listener = new Redis(REDIS_URL, { lazyConnect: true });
  await Promise.all([pub.connect(), sub.connect(), listener.connect()]);
  const prefix = uniquePrefix("pipeline");
  const target = createRedisEventTarget({ publishClient: pub, subscribeClient: sub, prefix });
  const pubsub = createPubSub<{ t: number }>({ eventTarget: target });
  try {
    const received: number[] = [];
    listener.on("message", (_channel: string, message: string) => received.push(JSON.parse(message).payload));
    // One raw subscriber on even ids' channel: receiver counts tell the publishes apart.
    await listener.subscribe(target.channelFor("t:even"), target.channelFor("t:all"));
    const before = wire.chunks.length;
    const counts = await Promise.all(
      Array.from(
        { length: 200 },
        (_, i) => target.publish({ type: "t", id: i % 2 === 0 ? "all" : i % 4 === 1 ? "even" : "none", payload: i }),
      ),
    );
    const writes = wire.chunks.length - before;
    assert.equal(writes, 1, `200 publishes took ${writes} writes`);
    counts.forEach((n, i) => assert.equal(n, i % 2 === 0 || i % 4 === 1 ? 1 : 0, `receivers of publish ${i}`));
    const expected = Array.from({ length: 200 }, (_, i) => i).filter((i) => i % 2 === 0 || i % 4 === 1);
    for (let waited = 0; received.length < expected.length && waited < 10_000; waited += 10) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.deepEqual(received, expected);
  } finally {
    pubsub.close();
    await target.close();
    await quitAll(pub, sub, listener);
    await wire.close();
  }
});

Deno.test("redis: a publish Redis refuses fails alone; the rest of its pipeline is delivered", async () => {
  // A private server whose ACL lets the publishing user publish to the channel "t:1" only.
  const server = new RedisServer(freePort());
  await server.start();
  const admin = new Redis(server.url);
  await admin.call("ACL", "SETUSER", "publisher", "on", ">secret", "resetchannels", "&t:1", "+@all", "~*");
  const pub = new Redis(server.url, { username: "publisher", password: "secret", lazyConnect: true });
  const sub = new Redis(server.url, { lazyConnect: true });
  await Promise.all([pub.connect(), sub.connect()]);
  const errors: unknown[] = [];
  const target = createRedisEventTarget({
    publishClient: pub,
    subscribeClient: sub,
    prefix: "",
    onError: (error) => errors.push(error),
  });
  const pubsub = createPubSub<{ t: number }>({ eventTarget: target });
  try {
    const s = pubsub.subscribe("t", "1");
    await pubsub.ready("t", "1");
    const results = await Promise.allSettled([
      target.publish({ type: "t", id: "1", payload: 1 }),
      target.publish({ type: "t", id: "2", payload: 2 }),
      target.publish({ type: "t", id: "1", payload: 3 }),
    ]);
    assert.deepEqual(results[0], { status: "fulfilled", value: 1 });
    assert.equal(results[1].status, "rejected");
    assert.match(String((results[1] as PromiseRejectedResult).reason.cause ?? ""), /NOPERM/);
    assert.deepEqual(results[2], { status: "fulfilled", value: 1 });
    assert.deepEqual((await s.next()).value, 1);
    assert.deepEqual((await s.next()).value, 3);
    assert.deepEqual(errors, []);
  } finally {
    pubsub.close();
    await target.close();
    await quitAll(pub, sub, admin);
    await server.kill();
  }
});
