/**
 * Per-topic authorization (issue 11): subscribe and publish, allowed and
 * refused, with a synchronous and an asynchronous `authorize`, and one that
 * throws. Refusals are asserted at the spoke's wire and through the typed
 * errors a user sees.
 */

import assert from "node:assert/strict";
import {
  type AuthorizeRequest,
  createPubSub,
  PublishRefusedError,
  type PubSub,
  type PubSubError,
  SubscriptionRefusedError,
} from "../../mod.ts";
import { connectWebSocketEventTarget, type WebSocketSpoke } from "../../adapters/websocket/mod.ts";
import { nextWithin } from "../../testing/mod.ts";
import {
  type CountingWebSocket,
  countingWebSocket,
  type HubServer,
  startHub,
  startPerConnectionServer,
  until,
} from "./helpers.ts";

type Events = { news: number; sync: string; open: number };
type User = { user: string; admin: boolean };

interface Client {
  wire: CountingWebSocket;
  target: WebSocketSpoke;
  pubsub: PubSub<Events>;
  errors: PubSubError[];
}

function client(server: HubServer, credentials: unknown): Client {
  const wire = countingWebSocket();
  const errors: PubSubError[] = [];
  const target = connectWebSocketEventTarget(server.url, {
    WebSocket: wire.WebSocket,
    credentials,
    onError: (error) => errors.push(error),
  });
  return { wire, target, errors, pubsub: createPubSub<Events>({ eventTarget: target }) };
}

/** Everything the hub sent a user before this is in once the marker on the user's sync topic arrives. */
async function barrier(atHub: PubSub<Events>, user: string, sync: AsyncIterator<string>, tag: string) {
  atHub.publish("sync", user, tag);
  assert.deepEqual(await nextWithin(sync, 5000), { value: tag, done: false });
}

for (const mode of ["sync", "async"] as const) {
  Deno.test(`websocket authorize (${mode}): subscribe and publish, allowed, refused and throwing`, async () => {
    const requests: AuthorizeRequest<User>[] = [];
    // Users read their own topics and "open:*"; only admins publish, except on "open:*". Id "boom" throws.
    const decide = ({ action, type, id, context }: AuthorizeRequest<User>): boolean => {
      if (id === "boom") throw new Error(`authorize failed for ${action}`);
      if (type === "open") return true;
      return action === "subscribe" ? id === context?.user : context?.admin === true;
    };
    const server = startHub({
      authenticate: (credentials) => {
        const { user, admin } = credentials as User;
        return user === "anonymous" ? true : { user, admin };
      },
      authorize: (request) => {
        requests.push(request as AuthorizeRequest<User>);
        if (mode === "sync") return decide(request as AuthorizeRequest<User>);
        return new Promise((resolve) => setTimeout(resolve, 2)).then(() => decide(request as AuthorizeRequest<User>));
      },
    });
    const atHub = createPubSub<Events>({ eventTarget: server.hub });
    const ada = client(server, { user: "ada", admin: false });
    const root = client(server, { user: "root", admin: true });
    const adaSync = ada.pubsub.subscribe("sync", "ada");
    const adaNews = ada.pubsub.subscribe("news", "ada");
    const atHubAda = atHub.subscribe("news", "ada");
    const subs: AsyncIterator<unknown>[] = [adaSync, adaNews, atHubAda];
    try {
      await Promise.all([ada.pubsub.ready("sync", "ada"), ada.pubsub.ready("news", "ada"), root.target.ready("")]);
      // The context authenticate returned reached authorize.
      const adaRequest = requests.find((r) => r.topic === "news:ada")!;
      assert.deepEqual(adaRequest, {
        action: "subscribe",
        type: "news",
        id: "ada",
        topic: "news:ada",
        context: { user: "ada", admin: false },
      });

      // Allowed subscribe: frames flow.
      atHub.publish("news", "ada", 1);
      assert.deepEqual(await nextWithin(adaNews, 5000), { value: 1, done: false });
      assert.deepEqual(await nextWithin(atHubAda, 5000), { value: 1, done: false });

      // Refused subscribe: the subscription ends with the typed error, ready() rejects, no frame at the wire.
      const bob = ada.pubsub.subscribe("news", "bob");
      const bobReady = ada.pubsub.ready("news", "bob");
      const refused = await assert.rejects(bobReady, SubscriptionRefusedError).then(() => bob.next()).then(
        () => assert.fail("the refused subscription yielded a value"),
        (error: unknown) => error,
      );
      assert.ok(refused instanceof SubscriptionRefusedError);
      assert.equal(refused.code, "ERR_SUBSCRIPTION_REFUSED");
      assert.equal(refused.topic, "news:bob");
      assert.equal(refused.reason, "forbidden");
      assert.deepEqual(await bob.next(), { value: undefined, done: true });
      assert.ok(ada.errors.some((e) => e instanceof SubscriptionRefusedError && e.topic === "news:bob"));
      assert.equal(ada.target.listenerCount("news:bob"), 0);
      atHub.publish("news", "bob", 2);
      await barrier(atHub, "ada", adaSync, "after the refused subscribe");
      assert.equal(ada.wire.count("news:bob"), 0);
      assert.equal(server.errors.length, 0, "a plain refusal is not an error at the hub");

      // A throwing authorize refuses, is reported at the hub, and the hub goes on.
      const boom = ada.pubsub.subscribe("news", "boom");
      await assert.rejects(ada.pubsub.ready("news", "boom"), { code: "ERR_SUBSCRIPTION_REFUSED", reason: "forbidden" });
      await assert.rejects(boom.next(), SubscriptionRefusedError);
      atHub.publish("news", "boom", 3);
      await barrier(atHub, "ada", adaSync, "after the throwing subscribe");
      assert.equal(ada.wire.count("news:boom"), 0);
      assert.equal(server.errors.length, 1);
      assert.ok(server.errors[0] instanceof SubscriptionRefusedError);
      assert.match(String((server.errors[0].cause as Error).message), /authorize failed for subscribe/);

      // Allowed publish (an admin): reaches the hub's listener and ada, in order.
      for (let i = 10; i < 60; i++) root.pubsub.publish("news", "ada", i);
      for (let i = 10; i < 60; i++) {
        assert.deepEqual(await nextWithin(adaNews, 5000), { value: i, done: false });
        assert.deepEqual(await nextWithin(atHubAda, 5000), { value: i, done: false });
      }

      // Refused publish: dropped at the hub, reported to the sender, the connection stays open.
      const own = ada.pubsub.subscribe("news", "ada"); // a second local listener: no new frame
      subs.push(own);
      ada.pubsub.publish("news", "ada", 99);
      assert.deepEqual(await nextWithin(own, 5000), { value: 99, done: false }, "the sender's own listener");
      assert.deepEqual(await nextWithin(adaNews, 5000), { value: 99, done: false });
      await until(() => ada.errors.some((e) => e instanceof PublishRefusedError), 5000, "the publish refusal");
      const publishError = ada.errors.find((e) => e instanceof PublishRefusedError) as PublishRefusedError;
      assert.equal(publishError.code, "ERR_PUBLISH_REFUSED");
      assert.equal(publishError.topic, "news:ada");
      assert.equal(publishError.reason, "forbidden");
      // An allowed publish from root after ada's refused one: the hub's listener sees 100, never 99.
      root.pubsub.publish("news", "ada", 100);
      assert.deepEqual(await nextWithin(atHubAda, 5000), { value: 100, done: false });
      assert.equal(ada.target.state, "open");
      assert.equal(ada.target.stats().reconnects, 0);

      // A throwing authorize on publish: refused, reported to the sender and at the hub.
      ada.pubsub.publish("open", "boom", 1);
      await until(() => ada.errors.filter((e) => e instanceof PublishRefusedError).length === 2, 5000, "refusal");
      await until(() => server.errors.length === 2, 5000, "the hub's report");
      assert.ok(server.errors[1] instanceof PublishRefusedError);
      assert.match(String((server.errors[1].cause as Error).message), /authorize failed for publish/);

      // Both spokes still work both ways on an open topic.
      const openAtRoot = root.pubsub.subscribe("open", "1");
      subs.push(openAtRoot);
      await root.pubsub.ready("open", "1");
      ada.pubsub.publish("open", "1", 7);
      assert.deepEqual(await nextWithin(openAtRoot, 5000), { value: 7, done: false });
      assert.equal(server.hub.stats().refusedSubscribes, 2);
      assert.equal(server.hub.stats().refusedPublishes, 2);
      assert.equal(server.hub.connections, 2);
    } finally {
      for (const sub of subs) await sub.return?.();
      atHub.close();
      for (const c of [ada, root]) {
        c.pubsub.close();
        c.target.close();
        await c.target.closed;
      }
      await server.close();
    }
  });
}

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
