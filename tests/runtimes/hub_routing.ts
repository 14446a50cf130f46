/** Shared hub test bodies (see hub.ts): routing by interest at the wire, limits, and a socket that never reads. */

import assert from "node:assert/strict";
import { type Subscription, SubscriptionRefusedError } from "../../mod.ts";
import { nextWithin } from "../../testing/mod.ts";
import { closedEvent, handshake, handshaken, maskedFrames, opened, rawUpgrade, until } from "../websocket/helpers.ts";
import {
  barrier,
  closeAll,
  type Ending,
  errorsAtHub,
  expect,
  heardAtHub,
  N,
  range,
  spokeOn,
  statsWhen,
} from "./hub_kit.ts";
import { type Runtime, startRuntimeHub } from "./runtime_hub.ts";

/** Registers the routing and limits test bodies against the `runtime` hub; `ignore` skips them. */
export function hubRoutingTests(runtime: Runtime, ignore = false): void {
  Deno.test({
    name:
      `${runtime} hub: each spoke's socket receives only its topics, once and in order; a relay skips its sender; unsubscribe stops frames`,
    ignore,
    async fn() {
      const hub = await startRuntimeHub(runtime);
      const [A, B, C] = ["A", "B", "C"].map((name) => spokeOn(hub.url, name));
      const all = [A, B, C];
      try {
        const marks = new Map(all.map((s) => [s, s.pubsub.subscribe("sync", s.name)] as const));
        // A subscribes a:1, B b:1, C nothing. A and B also listen on c:2, where A and the hub publish.
        const aAtA = A.pubsub.subscribe("a", "1");
        const c2AtA = A.pubsub.subscribe("c", "2");
        const c2AtB = B.pubsub.subscribe("c", "2");
        B.pubsub.subscribe("b", "1");
        await hub.command("listen", { type: "c", id: "2" });
        await Promise.all([
          ...all.map((s) => s.pubsub.ready("sync", s.name)),
          A.pubsub.ready("a", "1"),
          B.pubsub.ready("b", "1"),
          A.pubsub.ready("c", "2"),
          B.pubsub.ready("c", "2"),
        ]);
        // 50 listeners on one topic send one subscribe frame, and one unsubscribe when the last ends.
        const many = Array.from({ length: 50 }, () => C.pubsub.subscribe("a", "9"));
        await C.pubsub.ready("a", "9");
        assert.equal(C.wire.sent.filter((f) => f.startsWith('["sub","a:9"')).length, 1);
        for (const sub of many) await sub.return();
        await statsWhen(hub, (s) => s.subscriptions === 7, "C's a:9 to be withdrawn");
        assert.equal(C.wire.sent.filter((f) => f === '["unsub","a:9"]').length, 1);

        for (const type of ["a", "b", "c"]) await hub.command("publish", { type, id: "1", payloads: range(0, 500) });
        await hub.command("publish", { type: "c", id: "2", payloads: range(-N, N) });
        for (const i of range(0, 200)) A.pubsub.publish("c", "2", i);
        // B got A's relay through the hub, once each and in order; the hub's own listener too.
        await until(() => B.wire.count("c:2") === 200 + N, 10_000, "B's c:2 frames");
        await until(() => heardAtHub(hub, "c:2").length === 200 + N, 10_000, "the hub's listener");
        // A's own subscriber got its events locally, once each (and the hub's); B's subscriber got both.
        const take = async (sub: AsyncIterator<number>) => {
          const got: unknown[] = [];
          for (let i = 0; i < 200 + N; i++) got.push((await nextWithin(sub, 10_000)).value);
          return got;
        };
        const [atA, atB] = [await take(c2AtA), await take(c2AtB)];
        await barrier(hub, all, marks, "after the burst");

        // Two publishers on c:2: the order holds per publisher.
        const ownAndHub = (payloads: unknown[]) => [
          payloads.filter((p) => (p as number) >= 0),
          payloads.filter((p) => (p as number) < 0),
        ];
        assert.deepEqual(ownAndHub(atA), [range(0, 200), range(-N, N)]);
        assert.deepEqual(ownAndHub(atB), [range(0, 200), range(-N, N)]);
        assert.deepEqual(ownAndHub(heardAtHub(hub, "c:2")), [range(0, 200), range(-N, N)]);
        assert.deepEqual(A.wire.payloads("a:1"), range(0, 500));
        assert.deepEqual(B.wire.payloads("b:1"), range(0, 500));
        assert.deepEqual(ownAndHub(B.wire.payloads("c:2")), [range(0, 200), range(-N, N)], "relayed once, in order");
        assert.deepEqual(A.wire.payloads("c:2"), range(-N, N), "never back to the sender");
        for (const spoke of all) {
          const foreign = spoke.wire.received.filter((f) =>
            !f.topic.startsWith("sync:") && !(spoke === A && (f.topic === "a:1" || f.topic === "c:2")) &&
            !(spoke === B && (f.topic === "b:1" || f.topic === "c:2"))
          );
          assert.deepEqual(foreign, [], `${spoke.name} received frames for topics it never subscribed to`);
        }
        assert.equal(C.wire.received.filter((f) => f.topic !== "sync:C").length, 0, "C subscribed to nothing");

        // A's subscription ends: the hub stops sending a:1 to A.
        await aAtA.return();
        await until(() => A.wire.sent.includes('["unsub","a:1"]'), 10_000, "A's unsub");
        await statsWhen(hub, (s) => s.subscriptions === 6, "the hub to drop A's a:1");
        await hub.command("publish", { type: "a", id: "1", payloads: range(1000, 500) });
        await barrier(hub, all, marks, "after the unsubscribe");
        assert.equal(A.wire.count("a:1"), 500, "nothing for a:1 after the unsubscribe");
        assert.equal(B.wire.count("a:1") + C.wire.count("a:1"), 0);
        const { stats } = await hub.stats();
        assert.equal(stats.deliveries, 500 + 500 + 200 + 2 * N + 2 * 3);
        assert.equal(stats.connections, 3);
        assert.equal(stats.refusedSubscribes, 0);
        await Promise.all([c2AtA.return(), c2AtB.return()]);
      } finally {
        await closeAll(all, hub);
      }
    },
  });

  Deno.test({
    name: `${runtime} hub: a hub publish reaches only subscribed spokes, and the hub's own listeners need no frame`,
    ignore,
    async fn() {
      const hub = await startRuntimeHub(runtime);
      const X = spokeOn(hub.url, "X");
      const Y = spokeOn(hub.url, "Y");
      try {
        await hub.command("listen", { type: "b", id: "7" });
        const atX = X.pubsub.subscribe("b", "7");
        await X.pubsub.ready("b", "7");
        await Y.target.ready("");
        // Hub-local listeners are not announced anywhere: the hub holds one topic, for X.
        const { stats } = await hub.stats();
        assert.equal(stats.topics, 1);
        assert.equal(stats.subscriptions, 1);
        Y.pubsub.publish("b", "7", 1);
        await expect(atX, [1], "X");
        await hub.command("publish", { type: "b", id: "7", payload: 2 });
        await expect(atX, [2], "X");
        await until(() => heardAtHub(hub, "b:7").length === 2, 10_000, "the hub's listener");
        assert.deepEqual(heardAtHub(hub, "b:7"), [1, 2]);
        assert.deepEqual(X.wire.payloads("b:7"), [1, 2]);
        assert.equal(Y.wire.received.length, 0, "Y subscribed to nothing");
        assert.ok(!Y.wire.sent.some((f) => f.startsWith('["sub"')), "Y announced nothing");
        await atX.return();
      } finally {
        await closeAll([X, Y], hub);
      }
    },
  });

  Deno.test({
    name: `${runtime} hub: limits: subscriptions per connection, topic length, frame size, inbound rate`,
    ignore,
    async fn() {
      const hub = await startRuntimeHub(runtime, {
        maxSubscriptionsPerConnection: 2,
        maxTopicLength: 16,
        maxMessageBytes: 1024,
        inboundLimits: { framesPerSecond: 50, frameBurst: 50 },
      });
      const spoke = spokeOn(hub.url, "s");
      try {
        const one = spoke.pubsub.subscribe("a", "1");
        const two = spoke.pubsub.subscribe("a", "2");
        await spoke.pubsub.ready("a", "1");
        await spoke.pubsub.ready("a", "2");
        const three = spoke.pubsub.subscribe("a", "3");
        const threeReady = spoke.pubsub.ready("a", "3");
        await assert.rejects(threeReady, (e: SubscriptionRefusedError) => e.reason === "too-many-subscriptions");
        await one.return();
        await until(() => spoke.wire.sent.includes('["unsub","a:1"]'), 5_000, "unsub");
        const long = spoke.pubsub.subscribe("b", "x".repeat(40));
        const longReady = spoke.pubsub.ready("b", "x".repeat(40));
        await assert.rejects(longReady, (e: SubscriptionRefusedError) => e.reason === "topic-too-long");
        // At the wire: one refusal each, and no suback for either.
        const refusals = spoke.wire.controlIn.filter((f) => f.startsWith('["subrefused"'));
        assert.deepEqual(refusals.map((f) => JSON.parse(f).slice(0, 3)), [
          ["subrefused", "a:3", "too-many-subscriptions"],
          ["subrefused", `b:${"x".repeat(40)}`, "topic-too-long"],
        ]);
        await Promise.all([two.return(), three.return(), long.return()]);
        await statsWhen(hub, (s) => s.subscriptions === 0, "the spoke's subscriptions to end");

        // From a raw socket: a string that is no topic, and a repeated sub (acknowledged again, one slot).
        const raw = new WebSocket(hub.url);
        const received: string[] = [];
        raw.addEventListener("message", (e) => received.push(String(e.data)));
        await opened(raw);
        await handshake(raw);
        raw.send('["sub","news:0123456789abcdef"]'); // 21 characters
        raw.send('["sub","no topic"]');
        raw.send('["sub","news:1"]');
        raw.send('["sub","news:1"]');
        raw.send('["sub","news:2"]');
        raw.send('["sub","news:3"]');
        await until(() => received.length === 7, 5000, "seven answers");
        assert.equal(received[0], '["welcome",2]');
        const answers = received.slice(1).map((f) => JSON.parse(f));
        assert.deepEqual(answers.map((a) => a.slice(0, 3)), [
          ["subrefused", "news:0123456789abcdef", "topic-too-long"],
          ["subrefused", "no topic", "invalid-topic"],
          ["suback", "news:1"],
          ["suback", "news:1"],
          ["suback", "news:2"],
          ["subrefused", "news:3", "too-many-subscriptions"],
        ]);
        assert.ok(answers.filter((a) => a[0] === "subrefused").every((a) => typeof a[3] === "string" && a[3] !== ""));
        assert.equal(raw.readyState, WebSocket.OPEN);
        assert.equal((await hub.stats()).stats.subscriptions, 2);
        const rawClosed = closedEvent(raw);
        raw.close();
        await rawClosed;

        // A frame over maxMessageBytes: 4009.
        const big = await handshaken(hub.url);
        const bigClosed = closedEvent(big);
        big.send(JSON.stringify({ type: "a", id: "1", payload: "y".repeat(2000) }));
        assert.equal((await bigClosed).code, 4009);

        // A flood past the inbound rate: 4008.
        const flood = await handshaken(hub.url);
        const floodClosed = closedEvent(flood);
        for (let i = 0; i < 500 && flood.readyState === WebSocket.OPEN; i++) {
          flood.send(JSON.stringify({ type: "a", id: "1", payload: i }));
        }
        await floodClosed;
        // Asked of the hub: a Deno hub that closes a socket mid-flood may not get its close frame through.
        await until(() => hub.events.filter((e) => e.event === "disconnect").length >= 3, 10_000, "disconnects");
        assert.deepEqual(hub.events.filter((e) => e.event === "disconnect").map((e) => e.code).slice(-2), [4009, 4008]);
        const codes = errorsAtHub(hub).map((e) => e.code);
        assert.ok(codes.includes("ERR_FRAME_TOO_LARGE"), `errors: ${codes.join(", ")}`);
        assert.ok(codes.includes("ERR_WEBSOCKET_RATE_LIMIT"), `errors: ${codes.join(", ")}`);
      } finally {
        await closeAll([spoke], hub);
      }
    },
  });

  Deno.test({
    name:
      `${runtime} hub: default limits: past 4,096 subscriptions per connection typed refusals, the hub serves others; a topic over 1,024 characters is refused`,
    ignore,
    async fn() {
      const hub = await startRuntimeHub(runtime);
      const greedy = spokeOn(hub.url, "greedy");
      const other = spokeOn(hub.url, "other");
      const total = 12_000;
      const subs: Subscription<number>[] = [];
      const otherNews = other.pubsub.subscribe("x", "other");
      const open: Ending[] = [otherNews];
      try {
        await other.pubsub.ready("x", "other");
        for (let i = 0; i < total; i++) subs.push(greedy.pubsub.subscribe("many", String(i)));
        const readiness = await Promise.allSettled(subs.map((_, i) => greedy.pubsub.ready("many", String(i))));
        const refused = readiness.filter((r) => r.status === "rejected");
        assert.equal(refused.length, total - 4096);
        for (const r of refused) {
          const reason = (r as PromiseRejectedResult).reason;
          assert.ok(reason instanceof SubscriptionRefusedError);
          assert.equal(reason.code, "ERR_SUBSCRIPTION_REFUSED");
          assert.equal(reason.reason, "too-many-subscriptions");
        }
        // The first 4096 are live; the rest ended with the refusal.
        assert.ok(readiness.slice(0, 4096).every((r) => r.status === "fulfilled"));
        await assert.rejects(subs[total - 1].next(), { reason: "too-many-subscriptions" });
        assert.equal(greedy.errors.filter((e) => e instanceof SubscriptionRefusedError).length, total - 4096);
        let { stats } = await hub.stats();
        assert.equal(stats.subscriptions, 4096 + 1);
        assert.equal(stats.refusedSubscribes, total - 4096);

        // The greedy connection stays open and its live topics still get events; the other spoke is served.
        await hub.command("publish", { type: "many", id: "0", payload: 1 });
        await expect(subs[0], [1], "greedy on many:0");
        greedy.pubsub.publish("x", "other", 2);
        await hub.command("publish", { type: "x", id: "other", payload: 3 });
        // Two publishers: no order between them.
        const got = [(await nextWithin(otherNews, 10_000)).value, (await nextWithin(otherNews, 10_000)).value];
        assert.deepEqual(got.sort(), [2, 3]);
        assert.equal(greedy.target.state, "open");

        // Releasing some makes room again.
        for (const sub of subs.slice(0, 100)) await sub.return();
        const again = greedy.pubsub.subscribe("many", "again");
        await greedy.pubsub.ready("many", "again");
        ({ stats } = await hub.stats());
        assert.equal(stats.subscriptions, 4096 - 100 + 1 + 1);
        await again.return();

        // Topic length: over the default 1,024 characters refused, under it served; the connection stays.
        const long = "y".repeat(1100);
        const tooLong = other.pubsub.subscribe("x", long);
        const fits = other.pubsub.subscribe("x", "y".repeat(1000));
        open.push(fits);
        await assert.rejects(other.pubsub.ready("x", long), {
          code: "ERR_SUBSCRIPTION_REFUSED",
          reason: "topic-too-long",
        });
        await assert.rejects(tooLong.next(), SubscriptionRefusedError);
        await other.pubsub.ready("x", "y".repeat(1000));
        await hub.command("publish", { type: "x", id: long, payload: 4 });
        await hub.command("publish", { type: "x", id: "y".repeat(1000), payload: 5 });
        await expect(fits, [5], "other on the long topic that fits");
        assert.equal(other.wire.count(`x:${long}`), 0);
        assert.deepEqual(other.wire.payloads(`x:${"y".repeat(1000)}`), [5]);
        assert.equal(other.target.state, "open");
      } finally {
        for (const sub of open) await sub.return();
        await closeAll([greedy, other], hub);
      }
    },
  });

  Deno.test({
    name:
      `${runtime} hub: 10,000 subscribe/unsubscribe cycles (an asynchronous authorize) leave it with 0 topics and 0 subscriptions`,
    ignore,
    async fn() {
      // Many authorize answers arrive after the spoke has already withdrawn the topic.
      const hub = await startRuntimeHub(runtime, { authorize: "all", authorizeDelay: 0 });
      const spoke = spokeOn(hub.url, "s");
      try {
        await spoke.target.ready("");
        // The hub's own listeners churn meanwhile.
        const hubChurn = hub.command("churn", { type: "churn", ids: 7, count: 1000 });
        for (let i = 0; i < 10_000; i++) {
          const id = String(i % 499);
          const sub = spoke.pubsub.subscribe("churn", id);
          // Some are live before they end.
          if (i % 500 === 0) await spoke.pubsub.ready("churn", id);
          await sub.return();
        }
        await hubChurn;
        // The hub answers in order: once sync:s is acknowledged it has handled every frame before it.
        const sync = spoke.pubsub.subscribe("sync", "s");
        await spoke.pubsub.ready("sync", "s");
        await new Promise((resolve) => setTimeout(resolve, 20)); // late authorize answers for withdrawn topics
        let { stats } = await hub.stats();
        assert.equal(stats.topics, 1, "only sync:s is left");
        assert.equal(stats.subscriptions, 1);
        assert.equal(spoke.wire.sent.filter((f) => f.startsWith('["sub","churn:')).length, 10_000);
        assert.equal(spoke.wire.sent.filter((f) => f.startsWith('["unsub","churn:')).length, 10_000);
        assert.equal(spoke.wire.received.length, 0, "no data frame for any churned topic");
        await sync.return();
        stats = await statsWhen(hub, (s) => s.subscriptions === 0, "sync:s to be withdrawn");
        assert.equal(stats.topics, 0);
        assert.equal(spoke.target.stats().topics, 0);
        assert.equal(spoke.target.listenerCount(), 0);
      } finally {
        await closeAll([spoke], hub);
      }
    },
  });

  Deno.test({
    name: `${runtime} hub: backpressure "drop": a socket that never reads stays open, the hub's memory stays bounded`,
    ignore,
    async fn() {
      const MiB = 1024 * 1024;
      const hub = await startRuntimeHub(runtime, { backpressure: "drop", highWaterMark: MiB });
      const reader = spokeOn(hub.url, "reader");
      let stalled: Deno.TcpConn | undefined;
      try {
        const bulk = reader.pubsub.subscribe("x", "bulk");
        await reader.pubsub.ready("x", "bulk");
        // A socket that subscribes, then never reads again (its kernel buffers fill, then the hub's).
        stalled = await rawUpgrade(hub.url);
        await stalled.write(maskedFrames('["hello",2]'));
        await stalled.write(maskedFrames('["sub","x:bulk"]'));
        await hub.nextEvent((e) => e.event === "connect", 0, 10_000);
        await until(() => hub.events.filter((e) => e.event === "connect").length === 2, 10_000, "two connections");
        await new Promise((r) => setTimeout(r, 300)); // its sub is handled
        const { rss: before } = await hub.stats();
        // 64 MiB of events, 64 times the budget: the stalled socket's share is dropped, not buffered.
        await hub.command("flood", { type: "x", id: "bulk", count: 16_384, size: 4096 });
        await new Promise((r) => setTimeout(r, 500));
        const { stats, rss: after } = await hub.stats();
        assert.equal(stats.connections, 2, "the stalled socket is still open");
        assert.ok(after - before < 48 * MiB, `the hub's RSS rose by ${((after - before) / MiB).toFixed(1)} MiB`);
        assert.deepEqual(hub.events.filter((e) => e.event === "disconnect"), []);
        // The reading spoke got events and was never dropped.
        const first = await nextWithin(bulk, 10_000);
        assert.equal(first.done, false);
        assert.equal(reader.target.state, "open");
        await bulk.return();
      } finally {
        stalled?.close();
        await closeAll([reader], hub);
      }
    },
  });
}
