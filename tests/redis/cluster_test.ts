/**
 * Sharded pub/sub on a real 3-node Redis Cluster that the test starts on free
 * loopback ports (config files under .tmp/) and tears down completely.
 */

import assert from "node:assert/strict";
import { Cluster } from "ioredis";
import { createPubSub, EnvelopeError, topicFor } from "../../mod.ts";
import { createRedisEventTarget, type RedisEventTarget } from "../../adapters/redis/mod.ts";
import { nextWithin } from "../../testing/mod.ts";
import { freePort, RedisServer, uniquePrefix, waitFor } from "./_helpers.ts";

type Events = { shard: string };

async function redisCli(args: string[]): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command("redis-cli", { args, stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  if (code !== 0) throw new Error(`redis-cli ${args.join(" ")} failed (${code}): ${text}`);
  return text;
}

function clusterClient(ports: number[]): Cluster {
  const cluster = new Cluster(ports.map((port) => ({ host: "127.0.0.1", port })), {
    shardedSubscribers: true,
    lazyConnect: true,
  });
  cluster.on("error", () => {});
  return cluster;
}

Deno.test("redis: sharded pub/sub on a 3-node cluster", async () => {
  const dir = new URL(`../../.tmp/redis-cluster-${crypto.randomUUID().slice(0, 8)}/`, import.meta.url);
  await Deno.mkdir(dir, { recursive: true });
  const ports = [freePort(), freePort(), freePort()];
  const servers = ports.map((port) =>
    new RedisServer(port, [
      "--cluster-enabled",
      "yes",
      "--cluster-config-file",
      `nodes-${port}.conf`,
      "--cluster-node-timeout",
      "5000",
    ], dir.pathname)
  );
  const clients: Cluster[] = [];
  const targets: RedisEventTarget[] = [];
  try {
    await Promise.all(servers.map((s) => s.start()));
    await redisCli(["--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`), "--cluster-yes"]);
    for (const port of ports) {
      await waitFor(
        async () => (await redisCli(["-p", String(port), "cluster", "info"])).includes("cluster_state:ok"),
        20_000,
        `cluster_state:ok on ${port}`,
      );
    }
    // A Cluster subscribe client without shardedSubscribers cannot route SSUBSCRIBE: refused up front.
    const plain = new Cluster([{ host: "127.0.0.1", port: ports[0] }], { lazyConnect: true });
    assert.throws(
      () => createRedisEventTarget({ publishClient: plain, subscribeClient: plain.duplicate(), sharded: true }),
      TypeError,
    );
    plain.disconnect();

    for (let i = 0; i < 4; i++) clients.push(clusterClient(ports));
    await Promise.all(clients.map((c) => c.connect()));
    const prefix = uniquePrefix("cluster");
    const errors: unknown[] = [];
    const onError = (error: unknown) => errors.push(error);
    const a = createRedisEventTarget({
      publishClient: clients[0],
      subscribeClient: clients[1],
      prefix,
      sharded: true,
      onError,
    });
    const b = createRedisEventTarget({
      publishClient: clients[2],
      subscribeClient: clients[3],
      prefix,
      sharded: true,
      onError,
    });
    targets.push(a, b);
    const pa = createPubSub<Events>({ eventTarget: a });
    const pb = createPubSub<Events>({ eventTarget: b });

    // Enough ids that the channels land on every shard.
    const ids = Array.from({ length: 24 }, (_, i) => `id-${i}`);
    const slots = new Set<string>();
    for (const id of ids) {
      slots.add(String(await clients[0].cluster("KEYSLOT", prefix + topicFor("shard", id))));
    }
    assert.ok(slots.size > 3, "channels spread over several slots");
    const subs = ids.map((id) => pb.subscribe("shard", id));
    const own = pa.subscribe("shard", ids[0]);
    await Promise.all([...ids.map((id) => pb.ready("shard", id)), pa.ready("shard", ids[0])]);

    for (const id of ids) pa.publish("shard", id, `to ${id}`);
    for (let i = 0; i < ids.length; i++) {
      assert.deepEqual(await nextWithin(subs[i], 10_000), { value: `to ${ids[i]}`, done: false });
    }
    assert.deepEqual(await nextWithin(own, 10_000), { value: `to ${ids[0]}`, done: false });

    // Receivers are counted on the channel's shard: b's connection and a's own subscriber.
    assert.equal(await a.publish({ type: "shard", id: ids[0], payload: "counted" }), 2);
    assert.deepEqual(await nextWithin(subs[0], 10_000), { value: "counted", done: false });
    assert.deepEqual(await nextWithin(own, 10_000), { value: "counted", done: false });

    // Garbage on a live sharded channel: reported, and the next event still arrives.
    await clients[0].spublish(prefix + topicFor("shard", ids[1]), "notjson");
    pa.publish("shard", ids[1], "after garbage");
    assert.deepEqual(await nextWithin(subs[1], 10_000), { value: "after garbage", done: false });
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof EnvelopeError);

    await Promise.all([...subs.map((s) => s.return(undefined)), own.return(undefined)]);
    const channels = ids.map((id) => prefix + topicFor("shard", id));
    await waitFor(
      async () => {
        let total = 0;
        for (const port of ports) {
          const reply = await redisCli(["-p", String(port), "pubsub", "shardnumsub", ...channels]);
          const lines = reply.trim().split("\n");
          for (let i = 1; i < lines.length; i += 2) total += Number(lines[i]);
        }
        return total === 0;
      },
      10_000,
      "every shard channel to be unsubscribed",
    );
    pa.close();
    pb.close();
  } finally {
    await Promise.all(targets.map((t) => t.close()));
    await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
    await new Promise((r) => setTimeout(r, 0));
    await Promise.all(servers.map((s) => s.kill()));
    await Deno.remove(dir, { recursive: true });
  }
});
