/**
 * The terminal "close" event (core's CLOSE_EVENT): each WebSocket target
 * dispatches it at most once, only when it is finished for good, and a
 * createPubSub over the target then ends its subscriptions. Passing drops use
 * other names ("disconnect").
 */

import assert from "node:assert/strict";
import { createPubSub } from "../../mod.ts";
import {
  connectWebSocketEventTarget,
  type WebSocketCloseInfo,
  type WebSocketHubEventDetail,
} from "../../adapters/websocket/mod.ts";
import { nextWithin } from "../../testing/mod.ts";
import { nextEvent, startHub, startPerConnectionServer, until } from "./helpers.ts";

type Events = { news: string };

Deno.test("websocket hub: connect/disconnect per connection; close() dispatches close once and ends its pub/sub", async () => {
  const server = startHub();
  const log: string[] = [];
  const infos: WebSocketCloseInfo[] = [];
  server.hub.addEventListener("connect", (e) => {
    const { connection } = (e as unknown as CustomEvent<WebSocketHubEventDetail>).detail;
    assert.equal(connection.state, "open");
    log.push("connect");
  });
  server.hub.addEventListener("disconnect", (e) => {
    const { info } = (e as unknown as CustomEvent<WebSocketHubEventDetail>).detail;
    infos.push(info!);
    log.push("disconnect");
  });
  server.hub.addEventListener("close", () => log.push("close"));
  const atHub = createPubSub<Events>({ eventTarget: server.hub });
  const news = atHub.subscribe("news", "1");
  const seen: string[] = [];
  const reading = (async () => {
    for await (const value of news) seen.push(value);
    return seen;
  })();
  const one = connectWebSocketEventTarget(server.url, { onError: () => {}, backoff: { initialDelay: 10_000 } });
  const two = connectWebSocketEventTarget(server.url, { onError: () => {}, backoff: { initialDelay: 10_000 } });
  const atOne = createPubSub<Events>({ eventTarget: one });
  try {
    await Promise.all([one.ready(""), two.ready("")]);
    await until(() => log.length === 2, 5000, "two connect events");
    assert.deepEqual(log, ["connect", "connect"]);

    // A spoke leaving is a passing disconnect for the hub: its pub/sub goes on.
    two.close();
    await until(() => log.length === 3, 5000, "a disconnect event");
    assert.equal(log[2], "disconnect");
    assert.equal(infos[0].code, 1000);
    assert.equal(atHub.closed, false);
    atOne.publish("news", "1", "still here");
    await until(() => seen.length === 1, 5000, "the event from the remaining spoke");

    // hub.close(): every connection's "disconnect", then one "close", synchronously.
    const closing = server.hub.close();
    assert.deepEqual(log, ["connect", "connect", "disconnect", "disconnect", "close"]);
    assert.equal(atHub.closed, true);
    assert.deepEqual(await reading, ["still here"]);
    assert.throws(() => atHub.publish("news", "1", "late"), { code: "ERR_PUBSUB_CLOSED", message: /transport closed/ });
    await closing;
    await server.hub.close(); // idempotent: no second "close"
    assert.equal(log.filter((entry) => entry.startsWith("close")).length, 1);
    // The spoke sees a passing drop (1000 "Hub closed") and will reconnect: its pub/sub is not ended.
    await until(() => one.state === "reconnecting", 5000, "the spoke to start reconnecting");
    assert.equal(atOne.closed, false);
  } finally {
    atHub.close();
    atOne.close();
    one.close();
    two.close();
    await Promise.all([one.closed, two.closed]);
    await server.close();
  }
});

Deno.test("websocket spoke: a for await over a pub/sub subscription ends when spoke.close() is called", async () => {
  const server = startHub();
  const spoke = connectWebSocketEventTarget(server.url, { onError: () => {} });
  const atSpoke = createPubSub<Events>({ eventTarget: spoke });
  const atHub = createPubSub<Events>({ eventTarget: server.hub });
  const news = atSpoke.subscribe("news", "1");
  let closes = 0;
  spoke.addEventListener("close", () => closes++);
  try {
    await atSpoke.ready("news", "1");
    atHub.publish("news", "1", "one");
    atHub.publish("news", "1", "two");
    const seen: string[] = [];
    const reading = (async () => {
      for await (const value of news) {
        seen.push(value);
        if (seen.length === 2) spoke.close();
      }
      return seen;
    })();
    // It yields what it had, then finishes.
    assert.deepEqual(await reading, ["one", "two"]);
    assert.equal(atSpoke.closed, true);
    spoke.close();
    assert.equal((await spoke.closed).code, 1000);
    assert.equal(closes, 1);
    assert.equal(spoke.listenerCount("news:1"), 0);
  } finally {
    atHub.close();
    atSpoke.close();
    spoke.close();
    await spoke.closed;
    await server.close();
  }
});

Deno.test("websocket single-socket target: close is dispatched once, by close() or the peer, and ends its pub/sub", async (t) => {
  for (const who of ["owner", "peer"] as const) {
    await t.step(`closed by the ${who}`, async () => {
      const server = startPerConnectionServer();
      const accepted = server.next();
      const spoke = connectWebSocketEventTarget(server.url, { onError: () => {}, backoff: { initialDelay: 10_000 } });
      const target = await accepted;
      const closes: WebSocketCloseInfo[] = [];
      target.addEventListener("close", (e) => closes.push((e as unknown as CustomEvent<WebSocketCloseInfo>).detail));
      const pubsub = createPubSub<Events>({ eventTarget: target });
      const news = pubsub.subscribe("news", "1");
      const atSpoke = createPubSub<Events>({ eventTarget: spoke });
      try {
        await Promise.all([spoke.ready(""), target.ready("")]);
        atSpoke.publish("news", "1", "hello");
        assert.deepEqual(await nextWithin(news, 5000), { value: "hello", done: false });
        const pending = news.next();
        if (who === "owner") {
          target.close(1000, "Bye");
          target.close(4000, "Again"); // idempotent
        } else {
          // A spoke that goes away for good: the accepting side's socket closes.
          const disconnected = nextEvent(spoke, "close");
          spoke.close();
          await disconnected;
        }
        assert.deepEqual(await pending, { value: undefined, done: true });
        assert.equal(pubsub.closed, true);
        await target.closed;
        await new Promise((r) => setTimeout(r, 50)); // any late socket close event has come and gone
        assert.equal(closes.length, 1);
        assert.equal(closes[0].code, 1000);
        if (who === "owner") assert.equal(closes[0].reason, "Bye");
      } finally {
        pubsub.close();
        atSpoke.close();
        spoke.close();
        await spoke.closed;
        await server.close();
      }
    });
  }
});
