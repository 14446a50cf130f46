/**
 * Per-topic authorization on the in-process Deno hub and per-socket target: what a connection object holds, an
 * authorize that never answers, a refused topic listened on directly. The matrix itself (allowed, refused and
 * throwing, synchronous and asynchronous) runs against every runtime's hub: tests/runtimes/hub.ts.
 */

import assert from "node:assert/strict";
import { createPubSub, type PubSubError, SubscriptionRefusedError } from "../../mod.ts";
import { connectWebSocketEventTarget } from "../../adapters/websocket/mod.ts";
import { nextWithin } from "../../testing/mod.ts";
import { countingWebSocket, startHub, startPerConnectionServer, until } from "./helpers.ts";

type Events = { news: number; sync: string; open: number };

Deno.test("websocket authorize: authenticate returning true gives authorize no context", async () => {
  const contexts: unknown[] = [];
  const server = startHub({
    authenticate: () => true,
    authorize: ({ context }) => {
      contexts.push(context);
      return true;
    },
  });
  const spoke = connectWebSocketEventTarget(server.url, { onError: () => {} });
  const pubsub = createPubSub<Events>({ eventTarget: spoke });
  const sub = pubsub.subscribe("open", "1");
  try {
    await pubsub.ready("open", "1");
    assert.deepEqual(contexts, [undefined]);
    assert.equal(server.connections[0].context, undefined);
  } finally {
    await sub.return();
    pubsub.close();
    spoke.close();
    await spoke.closed;
    await server.close();
  }
});

Deno.test("websocket authorize: an authorize that never answers does not hold up other topics", async () => {
  const server = startHub({
    authorize: ({ id }) => id === "slow" ? new Promise(() => {}) : true,
  });
  const spoke = connectWebSocketEventTarget(server.url, { onError: () => {} });
  const pubsub = createPubSub<Events>({ eventTarget: spoke });
  const slow = pubsub.subscribe("open", "slow");
  const fast = pubsub.subscribe("open", "fast");
  try {
    await pubsub.ready("open", "fast");
    assert.equal(server.connections[0].topics, 2, "the pending one counts against the limit");
    assert.equal(server.hub.stats().subscriptions, 1);
  } finally {
    await slow.return();
    await fast.return();
    await until(() => server.connections[0].topics === 0, 5000, "both withdrawn");
    pubsub.close();
    spoke.close();
    await spoke.closed;
    await server.close();
  }
});

Deno.test("websocket authorize: a refused topic still listened on directly: every ready() rejects, nothing arrives", async () => {
  const server = startHub({ authorize: ({ id }) => id !== "secret" });
  const wire = countingWebSocket();
  const errors: PubSubError[] = [];
  const spoke = connectWebSocketEventTarget(server.url, {
    WebSocket: wire.WebSocket,
    onError: (error) => errors.push(error),
  });
  const heard: unknown[] = [];
  const listener = (event: Event) => heard.push((event as CustomEvent).detail);
  const refusals: unknown[] = [];
  spoke.addEventListener("subscription-error", (event) => refusals.push((event as unknown as CustomEvent).detail));
  spoke.addEventListener("news:secret", listener);
  const atHub = createPubSub<Events>({ eventTarget: server.hub });
  try {
    await assert.rejects(spoke.ready("news:secret"), { code: "ERR_SUBSCRIPTION_REFUSED", reason: "forbidden" });
    assert.equal(refusals.length, 1);
    // Asked again after the refusal arrived: it rejects too, instead of waiting for an answer that never comes.
    const again = await Promise.race([
      spoke.ready("news:secret").then(() => "resolved", (error: PubSubError) => error.code),
      new Promise((resolve) => setTimeout(() => resolve("still waiting"), 1000)),
    ]);
    assert.equal(again, "ERR_SUBSCRIPTION_REFUSED");
    atHub.publish("news", "secret", 1);
    const open = atHub; // the connection is still open: a later allowed topic works
    const news = createPubSub<Events>({ eventTarget: spoke }).subscribe("news", "public");
    await spoke.ready("news:public");
    open.publish("news", "public", 2);
    assert.deepEqual(await nextWithin(news, 5000), { value: 2, done: false });
    await news.return();
    assert.deepEqual(heard, []);
    assert.equal(wire.count("news:secret"), 0);
    // Withdrawing a refused topic sends no unsub: the hub holds nothing for it.
    spoke.removeEventListener("news:secret", listener);
    assert.ok(!wire.sent.includes('["unsub","news:secret"]'));
  } finally {
    atHub.close();
    spoke.close();
    await spoke.closed;
    await server.close();
  }
});

Deno.test("websocket authorize: a per-socket target on the accepting side routes and authorizes like a one-connection hub", async () => {
  const server = startPerConnectionServer({ authorize: ({ id }) => id !== "secret" });
  const accepted = server.next();
  const wire = countingWebSocket();
  const spoke = connectWebSocketEventTarget(server.url, { WebSocket: wire.WebSocket, onError: () => {} });
  const target = await accepted;
  const atTarget = createPubSub<Events>({ eventTarget: target });
  const atSpoke = createPubSub<Events>({ eventTarget: spoke });
  const secret = atSpoke.subscribe("news", "secret");
  const open = atSpoke.subscribe("news", "open");
  try {
    await assert.rejects(atSpoke.ready("news", "secret"), { code: "ERR_SUBSCRIPTION_REFUSED" });
    await assert.rejects(secret.next(), SubscriptionRefusedError);
    await atSpoke.ready("news", "open");
    atTarget.publish("news", "secret", 1);
    atTarget.publish("news", "other", 2); // not subscribed
    atTarget.publish("news", "open", 3);
    assert.deepEqual(await nextWithin(open, 5000), { value: 3, done: false });
    assert.deepEqual(wire.received, [{ topic: "news:open", payload: 3 }]);
  } finally {
    await open.return();
    atTarget.close();
    atSpoke.close();
    spoke.close();
    await spoke.closed;
    await server.close();
  }
});
