/**
 * Scale-out (issue 11): two hub processes over one Redis act as one hub.
 * Each hub is a child process (fixtures/redis_hub.ts) with a Redis target as
 * its upstream, on a channel prefix of its own for this run. Deliveries are
 * counted at each spoke's socket.
 */

import assert from "node:assert/strict";
import {
  createPubSub,
  type PubSub,
  type Subscription,
  SUBSCRIPTION_GAP_EVENT,
  type SubscriptionGapDetail,
} from "../../mod.ts";
import { Redis } from "ioredis";
import { createRedisEventTarget } from "../../adapters/redis/mod.ts";
import { connectWebSocketEventTarget, type WebSocketSpoke } from "../../adapters/websocket/mod.ts";
import { nextWithin } from "../../testing/mod.ts";
import { type CountingWebSocket, countingWebSocket, nextEvent, startHub, until } from "./helpers.ts";

type Events = { x: number | string };

interface HubProcess {
  url: string;
  child: Deno.ChildProcess;
  stderr: Promise<string>;
  /** Kills the process with `signal` and waits for it to exit. */
  kill(signal: Deno.Signal): Promise<void>;
}

async function startHubProcess(prefix: string, mode: "pubsub" | "streams" = "pubsub"): Promise<HubProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      "--allow-env",
      new URL("./fixtures/redis_hub.ts", import.meta.url).pathname,
      prefix,
      mode,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const deadline = setTimeout(() => child.kill("SIGKILL"), 30_000);
  try {
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`The hub process exited before listening: ${await stderr}`);
      text += value;
    }
  } finally {
    clearTimeout(deadline);
    await reader.cancel();
  }
  const { port } = JSON.parse(text.split("\n")[0]);
  let exited: Promise<Deno.CommandStatus> | undefined;
  return {
    url: `ws://127.0.0.1:${port}`,
    child,
    stderr,
    async kill(signal) {
      if (exited === undefined) {
        try {
          child.kill(signal);
        } catch {
          // Already exited.
        }
        exited = child.status;
      }
      await exited;
      await stderr;
    },
  };
}

interface Client {
  name: string;
  wire: CountingWebSocket;
  target: WebSocketSpoke;
  pubsub: PubSub<Events>;
  x: Subscription<number | string>;
}

function client(name: string, urls: string[]): Client {
  const wire = countingWebSocket();
  const target = connectWebSocketEventTarget(urls, {
    WebSocket: wire.WebSocket,
    backoff: { initialDelay: 0, maxDelay: 50 },
    onError: () => {},
  });
  const pubsub = createPubSub<Events>({ eventTarget: target });
  return { name, wire, target, pubsub, x: pubsub.subscribe("x", "1") };
}

async function expect(sub: Subscription<number | string>, values: (number | string)[], who: string) {
  for (const value of values) {
    assert.deepEqual(await nextWithin(sub, 10_000), { value, done: false }, `${who} expected ${value}`);
  }
}

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

Deno.test("websocket upstream: two hub processes over one Redis deliver exactly once; a SIGKILLed hub's spokes move over", async () => {
  const prefix = `alk:test:ws-upstream:${crypto.randomUUID().slice(0, 8)}:`;
  const [one, two] = await Promise.all([startHubProcess(prefix), startHubProcess(prefix)]);
  // A1 and B1 start on hub one and know hub two; A2 starts on hub two.
  const A1 = client("A1", [one.url, two.url]);
  const B1 = client("B1", [one.url, two.url]);
  const A2 = client("A2", [two.url, one.url]);
  const all = [A1, B1, A2];
  try {
    await Promise.all(all.map((c) => c.pubsub.ready("x", "1")));

    // A1 publishes 100: B1 on the same hub and A2 across Redis each get every one once, in order; A1 none back.
    for (const i of range(0, 100)) A1.pubsub.publish("x", "1", i);
    await expect(A1.x, range(0, 100), "A1's own subscriber");
    await expect(B1.x, range(0, 100), "B1 (same hub)");
    await expect(A2.x, range(0, 100), "A2 (other hub)");
    // A2 publishes 50 more, the last a marker. Redis orders one channel's messages, so once the marker is in at
    // hub one, any Redis echo of A1's 100 (a duplicate, if the hub failed to match it) would have arrived before.
    for (const i of range(100, 49)) A2.pubsub.publish("x", "1", i);
    A2.pubsub.publish("x", "1", "marker");
    const fromA2 = [...range(100, 49), "marker"];
    await expect(A2.x, fromA2, "A2's own subscriber");
    await expect(A1.x, fromA2, "A1 (other hub)");
    await expect(B1.x, fromA2, "B1 (other hub)");
    assert.deepEqual(B1.wire.payloads("x:1"), [...range(0, 100), ...fromA2], "B1: each event exactly once");
    assert.deepEqual(A2.wire.payloads("x:1"), range(0, 100), "A2: each of A1's once, none of its own");
    assert.deepEqual(A1.wire.payloads("x:1"), fromA2, "A1: none of its own back");

    // SIGKILL hub one: A1 and B1 move to hub two and keep receiving; nothing is doubled.
    const moved = [nextEvent(A1.target, "open", 20_000), nextEvent(B1.target, "open", 20_000)];
    await one.kill("SIGKILL");
    await Promise.all(moved);
    await Promise.all(all.map((c) => c.pubsub.ready("x", "1")));
    assert.equal(A1.target.stats().reconnects, 1);
    assert.equal(B1.target.stats().reconnects, 1);
    assert.equal(A2.target.stats().reconnects, 0);
    for (const i of range(200, 20)) A2.pubsub.publish("x", "1", i);
    await expect(A2.x, range(200, 20), "A2's own subscriber");
    await expect(A1.x, range(200, 20), "A1 after the failover");
    await expect(B1.x, range(200, 20), "B1 after the failover");
    B1.pubsub.publish("x", "1", "from B1");
    await expect(B1.x, ["from B1"], "B1's own subscriber");
    await expect(A1.x, ["from B1"], "A1");
    await expect(A2.x, ["from B1"], "A2");
    A2.pubsub.publish("x", "1", "last");
    for (const c of all) await expect(c.x, ["last"], c.name);
    assert.deepEqual(A1.wire.payloads("x:1"), [...fromA2, ...range(200, 20), "from B1", "last"]);
    assert.deepEqual(B1.wire.payloads("x:1"), [...range(0, 100), ...fromA2, ...range(200, 20), "last"]);
    assert.deepEqual(A2.wire.payloads("x:1"), [...range(0, 100), "from B1"]);
  } finally {
    for (const c of all) {
      c.pubsub.close();
      c.target.close();
    }
    await Promise.all(all.map((c) => c.target.closed));
    await Promise.all([one.kill("SIGKILL"), two.kill("SIGTERM")]);
  }
});

Deno.test("websocket upstream: an event Redis loses (subscriber connection killed) does not make later ones echo back to their sender", async () => {
  const url = "redis://127.0.0.1:6379";
  const publishClient = new Redis(url);
  // The subscribe client reconnects after 300 ms, so an event published meanwhile reaches no subscriber.
  const subscribeClient = new Redis(url, { retryStrategy: () => 300 });
  const admin = new Redis(url);
  for (const c of [publishClient, subscribeClient, admin]) c.on("error", () => {});
  const subscriberId = await subscribeClient.client("ID");
  const published: [number, unknown][] = [];
  const upstream = createRedisEventTarget({
    publishClient,
    subscribeClient,
    prefix: `alk:test:ws-upstream-loss:${crypto.randomUUID().slice(0, 8)}:`,
    onPublished: (receivers, envelope) => published.push([receivers, envelope.payload]),
    onError: () => {},
  });
  const server = startHub({ upstream });
  const S = client("S", [server.url]);
  const T = client("T", [server.url]);
  try {
    await Promise.all([S.pubsub.ready("x", "1"), T.pubsub.ready("x", "1")]);
    S.pubsub.publish("x", "1", "a");
    await expect(T.x, ["a"], "T");
    await expect(S.x, ["a"], "S's own subscriber");

    const resubscribed = nextEvent(upstream, "resubscribed", 20_000);
    await admin.client("KILL", "ID", String(subscriberId));
    S.pubsub.publish("x", "1", "lost");
    await expect(S.x, ["lost"], "S's own subscriber");
    await until(() => published.some(([, payload]) => payload === "lost"), 10_000, "the lost event's PUBLISH");
    assert.deepEqual(published.find(([, payload]) => payload === "lost"), [0, "lost"], "no subscriber got it");
    await resubscribed;
    await Promise.all([S.pubsub.ready("x", "1"), T.pubsub.ready("x", "1")]);

    for (const value of ["b", "c"]) S.pubsub.publish("x", "1", value);
    await expect(T.x, ["b", "c"], "T after the gap");
    await expect(S.x, ["b", "c"], "S's own subscriber");
    T.pubsub.publish("x", "1", "from T");
    await expect(S.x, ["from T"], "S");
    assert.deepEqual(S.wire.payloads("x:1"), ["from T"], "S got none of its own events back");
    assert.deepEqual(T.wire.payloads("x:1"), ["a", "b", "c"]);
  } finally {
    for (const c of [S, T]) {
      c.pubsub.close();
      c.target.close();
    }
    await Promise.all([S.target.closed, T.target.closed]);
    await server.close();
    await upstream.close();
    await Promise.all([publishClient.quit(), subscribeClient.quit(), admin.quit()]);
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
});

Deno.test("websocket upstream, Redis streams: SIGKILL the spoke's hub mid-sequence; it fails over and gets the whole sequence, 0 lost, 0 duplicated, in order", async () => {
  const prefix = `alk:test:ws-streams:${crypto.randomUUID().slice(0, 8)}:`;
  const [one, two] = await Promise.all([startHubProcess(prefix, "streams"), startHubProcess(prefix, "streams")]);
  const reader = client("reader", [one.url, two.url]);
  const writer = client("writer", [two.url]);
  const gaps: SubscriptionGapDetail[] = [];
  reader.target.addEventListener(SUBSCRIPTION_GAP_EVENT, (e) => {
    gaps.push((e as unknown as CustomEvent<SubscriptionGapDetail>).detail);
  });
  let publisher: ReturnType<typeof setInterval> | undefined;
  const admin = new Redis("redis://127.0.0.1:6379");
  try {
    await Promise.all([reader.pubsub.ready("x", "1"), writer.pubsub.ready("x", "1")]);
    const received: (number | string)[] = [];
    const reading = (async () => {
      for await (const value of reader.x) {
        received.push(value);
        if (value === 299) return;
      }
    })();
    let sent = 0;
    publisher = setInterval(() => {
      if (sent < 300) writer.pubsub.publish("x", "1", sent++);
    }, 10);
    await until(() => received.length >= 100, 20_000, "100 events before the kill");
    const moved = nextEvent(reader.target, "open", 20_000);
    await one.kill("SIGKILL");
    await moved;
    await reading;
    assert.deepEqual(received, range(0, 300), "every event once, in order");
    assert.deepEqual(gaps, []);
    assert.equal(reader.target.stats().reconnects, 1);
    // At the wire: the reader's socket saw each payload exactly once across both hubs.
    assert.deepEqual(reader.wire.payloads("x:1"), range(0, 300));
  } finally {
    clearInterval(publisher);
    for (const c of [reader, writer]) {
      c.pubsub.close();
      c.target.close();
    }
    await Promise.all([reader.target.closed, writer.target.closed]);
    await Promise.all([one.kill("SIGKILL"), two.kill("SIGTERM")]);
    await admin.del(`${prefix}{x:1}:stream`, `${prefix}{x:1}:meta`);
    await admin.quit();
  }
});
