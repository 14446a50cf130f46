import assert from "node:assert/strict";
import { createPubSub, type PubSubError } from "../../mod.ts";
import {
  connectWebSocketEventTarget,
  type WebSocketCloseInfo,
  WebSocketOutboxOverflowError,
  type WebSocketReconnectingDetail,
} from "../../adapters/websocket/mod.ts";
import { nextWithin } from "../../testing/mod.ts";
import { nextEvent, startHub, until } from "./helpers.ts";

type Events = { down: number; up: number };

Deno.test("websocket: the spoke reconnects 10 times; its pub/sub subscriptions work after each, none ends", async () => {
  const server = startHub();
  const spoke = connectWebSocketEventTarget(server.url, {
    backoff: { initialDelay: 0, resetAfter: 60_000 },
    onError: () => {},
  });
  const atHub = createPubSub<Events>({ eventTarget: server.hub });
  const atSpoke = createPubSub<Events>({ eventTarget: spoke });
  const down = atSpoke.subscribe("down", "1");
  const up = atHub.subscribe("up", "1");
  const attempts: number[] = [];
  const disconnects: WebSocketCloseInfo[] = [];
  let closes = 0;
  spoke.addEventListener(
    "reconnecting",
    (e) => attempts.push((e as unknown as CustomEvent<WebSocketReconnectingDetail>).detail.attempt),
  );
  spoke.addEventListener(
    "disconnect",
    (e) => disconnects.push((e as unknown as CustomEvent<WebSocketCloseInfo>).detail),
  );
  spoke.addEventListener("close", () => closes++);
  try {
    await spoke.ready("");
    for (let round = 0; round <= 10; round++) {
      if (round > 0) {
        const reopened = nextEvent(spoke, "open");
        server.connections.at(-1)!.close(1000, `Round ${round}`);
        await reopened;
        assert.equal(spoke.state, "open");
      }
      // The hub sends down:1 only once it has the spoke's subscription, re-sent on each connection.
      await atSpoke.ready("down", "1");
      atHub.publish("down", "1", round);
      assert.deepEqual(await nextWithin(down, 5000), { value: round, done: false });
      atSpoke.publish("up", "1", round);
      assert.deepEqual(await nextWithin(up, 5000), { value: round, done: false });
    }
    assert.equal(server.connections.length, 11);
    assert.deepEqual(attempts, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.equal(disconnects.length, 10);
    assert.ok(disconnects.every((c) => c.code === 1000));
    assert.equal(disconnects[3].reason, "Round 4");
    // Passing disconnects are not the terminal "close": the pub/sub and its subscriptions live on.
    assert.equal(closes, 0);
    assert.equal(atSpoke.closed, false);
    // One listener per subscription, however many reconnects.
    assert.equal(spoke.listenerCount("down:1"), 1);
    // Stopping the spoke for good dispatches "close" once and ends the subscription.
    const ended = down.next();
    spoke.close();
    assert.deepEqual(await ended, { value: undefined, done: true });
    assert.equal(atSpoke.closed, true);
    assert.throws(() => atSpoke.publish("up", "1", 0), { code: "ERR_PUBSUB_CLOSED", message: /its transport closed/ });
    spoke.close();
    await spoke.closed;
    assert.equal(closes, 1);
    assert.equal(disconnects.length, 10, "the final close is not a disconnect");
  } finally {
    atHub.close();
    atSpoke.close();
    spoke.close();
    await spoke.closed;
    await server.close();
  }
});

Deno.test("websocket: backoff grows with jitter, is capped, and resets after a stable period", async (t) => {
  await t.step("grows and is capped", async () => {
    const server = startHub();
    const spoke = connectWebSocketEventTarget(server.url, {
      backoff: { initialDelay: 2, factor: 2, maxDelay: 16, resetAfter: 60_000 },
      onError: () => {},
    });
    const delays: WebSocketReconnectingDetail[] = [];
    spoke.addEventListener(
      "reconnecting",
      (e) => delays.push((e as unknown as CustomEvent<WebSocketReconnectingDetail>).detail),
    );
    try {
      await spoke.ready("");
      for (let i = 0; i < 6; i++) {
        const reopened = nextEvent(spoke, "open");
        server.connections.at(-1)!.close();
        await reopened;
      }
      assert.deepEqual(delays.map((d) => d.attempt), [1, 2, 3, 4, 5, 6]);
      for (const { attempt, delay } of delays) {
        const base = Math.min(16, 2 * 2 ** (attempt - 1));
        assert.ok(
          delay >= base / 2 - 0.5 && delay <= base + 0.5,
          `attempt ${attempt}: delay ${delay} not in [${base / 2}, ${base}]`,
        );
      }
    } finally {
      spoke.close();
      await spoke.closed;
      await server.close();
    }
  });

  await t.step("resets once a connection stayed open for resetAfter", async () => {
    const server = startHub();
    const spoke = connectWebSocketEventTarget(server.url, {
      backoff: { initialDelay: 0, resetAfter: 20 },
      onError: () => {},
    });
    const attempts: number[] = [];
    spoke.addEventListener(
      "reconnecting",
      (e) => attempts.push((e as unknown as CustomEvent<WebSocketReconnectingDetail>).detail.attempt),
    );
    try {
      await spoke.ready("");
      for (let i = 0; i < 3; i++) {
        await new Promise((r) => setTimeout(r, 60));
        const reopened = nextEvent(spoke, "open");
        server.connections.at(-1)!.close();
        await reopened;
      }
      assert.deepEqual(attempts, [1, 1, 1]);
    } finally {
      spoke.close();
      await spoke.closed;
      await server.close();
    }
  });
});

Deno.test("websocket: the outbox keeps the newest events while disconnected and sends them in order", async () => {
  const server = startHub();
  const errors: PubSubError[] = [];
  const spoke = connectWebSocketEventTarget(server.url, {
    backoff: { initialDelay: 300, maxDelay: 300 },
    outboxSize: 3,
    onError: (error) => errors.push(error),
  });
  const atHub = createPubSub<Events>({ eventTarget: server.hub });
  const atSpoke = createPubSub<Events>({ eventTarget: spoke });
  const up = atHub.subscribe("up", "1");
  const own = atSpoke.subscribe("up", "1");
  try {
    await spoke.ready("");
    const reconnecting = nextEvent(spoke, "reconnecting");
    server.connections[0].close();
    await reconnecting;
    assert.equal(spoke.state, "reconnecting");
    for (let i = 1; i <= 5; i++) atSpoke.publish("up", "1", i);
    // The publisher's own subscriber got all five at once.
    for (let i = 1; i <= 5; i++) assert.deepEqual(await nextWithin(own, 1000), { value: i, done: false });
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof WebSocketOutboxOverflowError);
    assert.equal(errors[0].code, "ERR_WEBSOCKET_OUTBOX_OVERFLOW");
    await nextEvent(spoke, "open");
    for (const i of [3, 4, 5]) assert.deepEqual(await nextWithin(up, 5000), { value: i, done: false });
  } finally {
    atHub.close();
    atSpoke.close();
    spoke.close();
    await spoke.closed;
    await server.close();
  }
});

Deno.test("websocket: the spoke gives up after maxAttempts and close() stops a pending reconnect", async (t) => {
  await t.step("maxAttempts", async () => {
    const probe = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => new Response());
    const url = `ws://127.0.0.1:${probe.addr.port}`;
    await probe.shutdown(); // nothing listens there now
    const spoke = connectWebSocketEventTarget(url, { backoff: { initialDelay: 0 }, maxAttempts: 3, onError: () => {} });
    const pubsub = createPubSub<Events>({ eventTarget: spoke });
    const down = pubsub.subscribe("down", "1");
    const pending = down.next();
    const attempts: number[] = [];
    let disconnects = 0;
    const closes: WebSocketCloseInfo[] = [];
    spoke.addEventListener(
      "reconnecting",
      (e) => attempts.push((e as unknown as CustomEvent<WebSocketReconnectingDetail>).detail.attempt),
    );
    spoke.addEventListener("disconnect", () => disconnects++);
    spoke.addEventListener("close", (e) => closes.push((e as unknown as CustomEvent<WebSocketCloseInfo>).detail));
    const info = await spoke.closed;
    assert.deepEqual(attempts, [1, 2, 3]);
    assert.equal(disconnects, 3);
    assert.equal(closes.length, 1);
    assert.equal(closes[0].code, 1006);
    assert.equal(info.code, 1006);
    assert.equal(spoke.state, "closed");
    await assert.rejects(spoke.ready(""), { code: "ERR_PUBSUB_CLOSED" });
    assert.deepEqual(await pending, { value: undefined, done: true });
    assert.equal(pubsub.closed, true);
  });

  await t.step("close() while reconnecting", async () => {
    const server = startHub();
    const spoke = connectWebSocketEventTarget(server.url, { backoff: { initialDelay: 10_000 }, onError: () => {} });
    await spoke.ready("");
    const reconnecting = nextEvent(spoke, "reconnecting");
    server.connections[0].close();
    await reconnecting;
    const final = nextEvent<WebSocketCloseInfo>(spoke, "close");
    spoke.close();
    assert.equal((await final).code, 1000);
    assert.equal((await spoke.closed).code, 1000);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(server.connections.length, 1);
    await until(() => server.hub.connections === 0, 2000, "the hub to drop the connection");
    await server.close();
  });
});
