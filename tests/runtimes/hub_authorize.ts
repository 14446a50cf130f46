/** Shared hub test bodies (see hub.ts): authenticate, the authorization matrix, and the authorize pipeline. */

import assert from "node:assert/strict";
import { PublishRefusedError, SubscriptionRefusedError } from "../../mod.ts";
import { closedEvent, handshaken, until } from "../websocket/helpers.ts";
import {
  barrier,
  closeAll,
  type Ending,
  errorsAtHub,
  expect,
  heardAtHub,
  range,
  spokeOn,
  statsWhen,
} from "./hub_kit.ts";
import { type Runtime, startRuntimeHub } from "./runtime_hub.ts";

/** Registers the authorization test bodies against the `runtime` hub; `ignore` skips them. */
export function hubAuthorizeTests(runtime: Runtime, ignore = false): void {
  for (const mode of ["sync", "async"] as const) {
    Deno.test({
      name:
        `${runtime} hub: authenticate and authorize (${mode}): the matrix at the wire, typed refusals, a throwing authorize refuses`,
      ignore,
      async fn() {
        const hub = await startRuntimeHub(runtime, {
          authenticate: "token",
          authorize: "own",
          authorizeDelay: mode === "async" ? 2 : undefined,
        });
        // Users subscribe to their own id and "public", publish on their own id; the admin anything. "boom" throws.
        const alice = spokeOn(hub.url, "alice", { credentials: { token: "user-alice" } });
        const admin = spokeOn(hub.url, "admin", { credentials: { token: "user-admin" } });
        const all = [alice, admin];
        const subs: Ending[] = [];
        try {
          // A bad token: 4401, final.
          const intruder = spokeOn(hub.url, "intruder", { credentials: { token: "nope" } });
          assert.equal((await intruder.target.closed).code, 4401);
          intruder.pubsub.close();
          await hub.command("listen", { type: "x", id: "alice" });
          await hub.command("listen", { type: "x", id: "public" });
          const sync = alice.pubsub.subscribe("sync", "alice");
          const own = alice.pubsub.subscribe("x", "alice");
          const pub = alice.pubsub.subscribe("x", "public");
          const adminBob = admin.pubsub.subscribe("x", "bob");
          const adminAlice = admin.pubsub.subscribe("x", "alice");
          subs.push(sync, own, pub, adminBob, adminAlice);
          await Promise.all([
            alice.pubsub.ready("sync", "alice"),
            alice.pubsub.ready("x", "alice"),
            alice.pubsub.ready("x", "public"),
            admin.pubsub.ready("x", "bob"),
            admin.pubsub.ready("x", "alice"),
          ]);
          const marks = new Map([[alice, sync as AsyncIterator<string>]]);
          // The context authenticate returned reached authorize.
          const request = hub.events.find((e) => e.event === "authorize" && e.topic === "sync:alice");
          assert.deepEqual(request, {
            event: "authorize",
            action: "subscribe",
            type: "sync",
            id: "alice",
            topic: "sync:alice",
            context: { user: "alice" },
          });

          // A refused subscribe: the subscription ends with the typed error, ready() rejects, no frame at the wire.
          const bob = alice.pubsub.subscribe("x", "bob");
          await assert.rejects(alice.pubsub.ready("x", "bob"), SubscriptionRefusedError);
          const refused = await bob.next().then(
            () => assert.fail("the refused subscription yielded a value"),
            (error: unknown) => error,
          );
          assert.ok(refused instanceof SubscriptionRefusedError);
          assert.equal(refused.code, "ERR_SUBSCRIPTION_REFUSED");
          assert.equal(refused.topic, "x:bob");
          assert.equal(refused.reason, "forbidden");
          assert.deepEqual(await bob.next(), { value: undefined, done: true });
          assert.ok(alice.errors.some((e) => e instanceof SubscriptionRefusedError && e.topic === "x:bob"));
          assert.equal(alice.target.listenerCount("x:bob"), 0);

          // A throwing authorize refuses, is reported at the hub, and the hub goes on.
          const boom = alice.pubsub.subscribe("x", "boom");
          await assert.rejects(alice.pubsub.ready("x", "boom"), {
            code: "ERR_SUBSCRIPTION_REFUSED",
            reason: "forbidden",
          });
          await assert.rejects(boom.next(), SubscriptionRefusedError);

          // The hub publishes on every topic; alice's socket gets only hers.
          for (const id of ["alice", "public", "bob", "boom"]) {
            await hub.command("publish", { type: "x", id, payload: 1 });
          }
          await barrier(hub, [alice], marks, "after the refused subscribes");
          assert.equal(alice.wire.count("x:bob"), 0, "never a frame for a refused topic");
          assert.equal(alice.wire.count("x:boom"), 0);
          assert.equal(errorsAtHub(hub).length, 1, "a plain refusal is not an error at the hub; a throw is");
          assert.equal(errorsAtHub(hub)[0].name, "SubscriptionRefusedError");
          assert.match(String(errorsAtHub(hub)[0].cause), /authorize failed for subscribe/);

          // Publish matrix: alice may publish on x:alice, not on x:bob (refused, never relayed).
          alice.pubsub.publish("x", "bob", 2);
          await until(() => alice.errors.some((e) => e instanceof PublishRefusedError), 10_000, "the refusal");
          alice.pubsub.publish("x", "alice", 3);
          await expect(adminAlice, [1, 3], "admin on x:alice");
          await expect(adminBob, [1], "admin on x:bob");
          await expect(own, [1, 3], "alice's own listener");
          await expect(pub, [1], "alice on x:public");
          assert.equal(alice.wire.count("x:public"), 1);
          assert.equal(alice.wire.count("x:alice"), 1, "the hub's event only; her own is not sent back");
          assert.equal(admin.wire.count("x:bob"), 1, "the refused publish was not relayed");

          // An allowed publish (the admin's): reaches the hub's listener and alice, in order.
          for (const i of range(10, 50)) admin.pubsub.publish("x", "alice", i);
          await expect(own, range(10, 50), "alice");
          await until(() => heardAtHub(hub, "x:alice").length === 52, 10_000, "the hub's listener");
          assert.deepEqual(heardAtHub(hub, "x:alice"), [1, 3, ...range(10, 50)]);

          // A refused publish on a topic the sender listens on: its own listeners get it, nobody else; it stays open.
          const pub2 = alice.pubsub.subscribe("x", "public"); // a second local listener: no new frame
          subs.push(pub2);
          alice.pubsub.publish("x", "public", 99);
          await expect(pub2, [99], "the sender's own listener");
          await expect(pub, [99], "the sender's other listener");
          const publishRefusals = () => alice.errors.filter((e) => e instanceof PublishRefusedError).length;
          await until(() => publishRefusals() === 2, 10_000, "the refusal of x:public");
          const publishError = alice.errors.filter((e) => e instanceof PublishRefusedError)[1] as PublishRefusedError;
          assert.equal(publishError.code, "ERR_PUBLISH_REFUSED");
          assert.equal(publishError.topic, "x:public");
          assert.equal(publishError.reason, "forbidden");
          // An allowed publish from the admin after alice's refused one: the hub's listener sees 100, never 99.
          admin.pubsub.publish("x", "public", 100);
          await until(() => heardAtHub(hub, "x:public").length === 2, 10_000, "the hub's listener");
          assert.deepEqual(heardAtHub(hub, "x:public"), [1, 100]);
          assert.equal(alice.target.state, "open");
          assert.equal(alice.target.stats().reconnects, 0);

          // A throwing authorize on publish: refused, reported to the sender and at the hub.
          alice.pubsub.publish("x", "boom", 1);
          await until(() => publishRefusals() === 3, 10_000, "the refusal of x:boom");
          await until(() => errorsAtHub(hub).length === 2, 10_000, "the hub's report");
          assert.equal(errorsAtHub(hub)[1].name, "PublishRefusedError");
          assert.match(String(errorsAtHub(hub)[1].cause), /authorize failed for publish/);

          const { stats } = await hub.stats();
          assert.equal(stats.refusedSubscribes, 2);
          assert.equal(stats.refusedPublishes, 3);
          assert.equal(stats.connections, 2);
        } finally {
          for (const sub of subs) await sub.return();
          await closeAll(all, hub);
        }
      },
    });
  }

  Deno.test({
    name:
      `${runtime} hub: authorize pipeline: 1,000 events/s for 5 s with authorize at 10 ms and 100 ms: none refused, none lost, in order`,
    ignore,
    async fn() {
      const runs = await Promise.all([
        publishFor(runtime, 10, true),
        publishFor(runtime, 100, true),
        publishFor(runtime, 100, false),
      ]);
      for (const [i, { delivered, refused }] of runs.entries()) {
        assert.equal(refused, 0, `run ${i}: refused`);
        assert.equal(delivered.length, 5_000, `run ${i}: delivered`);
        assert.deepEqual(delivered, range(0, 5_000), `run ${i}: order`);
      }
    },
  });

  Deno.test({
    name:
      `${runtime} hub: authorize pipeline: 10,000 sub/unsub cycles against a 5 s authorize stay under the default in-flight cap (1,024); memory settles`,
    ignore,
    async fn() {
      const hub = await startRuntimeHub(runtime, {
        authorize: "all",
        authorizeDelay: 5_000,
        inboundLimits: false,
        heartbeat: false,
      });
      const socket = await handshaken(hub.url);
      let refusals = 0;
      socket.addEventListener("message", (event) => {
        if (String(event.data).startsWith('["subrefused"')) refusals++;
      });
      try {
        const { rss: before } = await hub.stats();
        let most = 0;
        for (let i = 0; i < 10_000; i++) {
          socket.send('["sub","t:1"]');
          socket.send('["unsub","t:1"]');
          if (i % 100 === 99) most = Math.max(most, (await hub.stats()).stats.authorizing);
        }
        await until(() => refusals >= 10_000 - 1_024, 10_000, "the refusals past the cap");
        most = Math.max(most, (await hub.stats()).stats.authorizing);
        assert.equal(most, 1_024, "calls in flight reached the cap and never passed it");
        assert.equal(refusals, 10_000 - 1_024);
        // The calls settle after 5 s; nothing of them stays.
        const stats = await statsWhen(hub, (s) => s.authorizing === 0, "the calls to settle", 15_000);
        const { rss: after } = await hub.stats();
        assert.ok(after - before < 64 * 1024 * 1024, `RSS grew by ${Math.round((after - before) / 1024 / 1024)} MiB`);
        assert.equal(stats.topics, 0);
      } finally {
        const closed = closedEvent(socket);
        socket.close();
        await closed;
        await hub.close();
      }
    },
  });

  Deno.test({
    name:
      `${runtime} hub: authorize pipeline: an authorize that never settles is refused after the timeout, reported, and the connection goes on`,
    ignore,
    async fn() {
      const hub = await startRuntimeHub(runtime, { authorize: "all", authorizeTimeout: 200 });
      const spoke = spokeOn(hub.url, "s");
      try {
        await hub.command("listen", { type: "x", id: "never" });
        await hub.command("listen", { type: "x", id: "ok" });
        await spoke.target.ready("");
        spoke.pubsub.publish("x", "never", 1);
        spoke.pubsub.publish("x", "ok", 2); // waits behind the stuck one: order is kept
        await new Promise((resolve) => setTimeout(resolve, 100));
        assert.deepEqual(heardAtHub(hub, "x:ok"), []);
        await until(() => heardAtHub(hub, "x:ok").length === 1, 5_000, "the ok event");
        assert.deepEqual(heardAtHub(hub, "x:never"), []);
        await until(() => spoke.errors.length === 1, 5_000, "the refusal at the spoke");
        assert.ok(spoke.errors[0] instanceof PublishRefusedError);
        assert.equal((spoke.errors[0] as PublishRefusedError).reason, "unavailable");
        const reported = errorsAtHub(hub);
        assert.equal(reported.length, 1);
        assert.equal(reported[0].name, "PublishRefusedError");
        assert.match(String(reported[0].cause), /within 200 ms/);
        assert.equal((await hub.stats()).stats.authorizing, 0);
        spoke.pubsub.publish("x", "ok", 3);
        await until(() => heardAtHub(hub, "x:ok").length === 2, 5_000, "the next event");
        assert.deepEqual(heardAtHub(hub, "x:ok"), [2, 3]);
        assert.equal(spoke.target.stats().reconnects, 0);
      } finally {
        await closeAll([spoke], hub);
      }
    },
  });
}

/** A spoke publishes 1,000 events/s for 5 s through an authorize answering publishes after `latency` ms. */
async function publishFor(
  runtime: Runtime,
  latency: number,
  cache: boolean,
): Promise<{ delivered: unknown[]; refused: number }> {
  const hub = await startRuntimeHub(runtime, {
    authorize: "all",
    authorizeDelay: latency,
    publishAuthorization: { cache },
  });
  const spoke = spokeOn(hub.url, "s");
  try {
    await hub.command("listen", { type: "n", id: "1" });
    await spoke.target.ready("");
    // Ten every 10 ms, on the schedule (a late tick catches up).
    const started = performance.now();
    let sent = 0;
    while (sent < 5_000) {
      const due = Math.min(5_000, Math.floor((performance.now() - started) / 10) * 10 + 10);
      while (sent < due) spoke.pubsub.publish("n", "1", sent++);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const refused = () => spoke.errors.filter((e) => e instanceof PublishRefusedError).length;
    await until(() => heardAtHub(hub, "n:1").length + refused() >= 5_000, 10_000, "every event delivered or refused");
    assert.deepEqual(errorsAtHub(hub), []);
    return { delivered: heardAtHub(hub, "n:1"), refused: refused() };
  } finally {
    await closeAll([spoke], hub);
  }
}
