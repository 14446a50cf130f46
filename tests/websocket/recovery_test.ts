import assert from "node:assert/strict";
import { createPubSub, SUBSCRIPTION_GAP_EVENT, type SubscriptionGapDetail } from "../../mod.ts";
import {
  connectWebSocketEventTarget,
  type WebSocketSpoke,
  type WebSocketSpokeOptions,
  type WebSocketSpokeUrl,
} from "../../adapters/websocket/mod.ts";
import { countingWebSocket, nextEvent, opened, startHub, until } from "./helpers.ts";

type Events = { n: number };

function gaps(target: WebSocketSpoke) {
  const list: SubscriptionGapDetail[] = [];
  target.addEventListener(SUBSCRIPTION_GAP_EVENT, (e) => {
    list.push((e as unknown as CustomEvent<SubscriptionGapDetail>).detail);
  });
  return list;
}

/** A spoke on `server` (options for the spoke), pub/subs at both ends, and the spoke subscribed to n:1 with event 1 read. */
async function subscribed(
  server: ReturnType<typeof startHub>,
  url: WebSocketSpokeUrl,
  options: WebSocketSpokeOptions,
) {
  const spoke = connectWebSocketEventTarget(url, { onError: () => {}, ...options });
  const reported = gaps(spoke);
  const atHub = createPubSub<Events>({ eventTarget: server.hub });
  const atSpoke = createPubSub<Events>({ eventTarget: spoke });
  const sub = atSpoke.subscribe("n", "1");
  await atSpoke.ready("n", "1");
  atHub.publish("n", "1", 1);
  assert.deepEqual(await sub.next(), { value: 1, done: false });
  return { spoke, reported, atHub, atSpoke, sub };
}

Deno.test("websocket recovery: the hub drops the spoke 10 times at 100 events/s; every event arrives once, in order, no gap", async () => {
  const server = startHub({ history: { size: 1000, ttl: 60_000 } });
  const wire = countingWebSocket();
  const spoke = connectWebSocketEventTarget(server.url, {
    WebSocket: wire.WebSocket,
    backoff: { initialDelay: 20, maxDelay: 100, resetAfter: 60_000 },
    onError: () => {},
  });
  const reported = gaps(spoke);
  const atHub = createPubSub<Events>({ eventTarget: server.hub });
  const atSpoke = createPubSub<Events>({ eventTarget: spoke });
  const sub = atSpoke.subscribe("n", "1");
  const received: number[] = [];
  const reading = (async () => {
    for await (const n of sub) {
      received.push(n);
      if (n === 299) break;
    }
  })();
  try {
    await atSpoke.ready("n", "1");
    let sent = 0;
    const publisher = setInterval(() => atHub.publish("n", "1", sent++), 10);
    for (let drop = 1; drop <= 10; drop++) {
      await new Promise((r) => setTimeout(r, 200));
      const reopened = nextEvent(spoke, "open");
      server.connections.at(-1)!.close(4000, `Drop ${drop}`);
      await reopened;
    }
    await until(() => sent >= 300, 20_000, "300 publishes");
    clearInterval(publisher);
    await reading;
    assert.deepEqual(received, Array.from({ length: 300 }, (_, i) => i));
    assert.deepEqual(reported, []);
    assert.equal(server.connections.length, 11);
    // Asked at the wire: each reconnect resumed from a position (["sub", topic, rid, {epoch, offset}]).
    const resumes = wire.sent.filter((f) => /^\["sub","n:1",\d+,\{"epoch":/.test(f));
    assert.equal(resumes.length, 10);
  } finally {
    spoke.close();
    await spoke.closed;
    await server.close();
  }
});

Deno.test("websocket recovery: offline past the history's size, one typed gap with the count, then the kept events and live ones", async () => {
  const server = startHub({ history: { size: 5 } });
  const { spoke, reported, atHub, atSpoke, sub } = await subscribed(server, server.url, {
    backoff: { initialDelay: 300, maxDelay: 300 },
  });
  try {
    const reopened = nextEvent(spoke, "open");
    server.connections.at(-1)!.close(4000, "Drop");
    await until(() => server.hub.stats().subscriptions === 0, 5000, "the drop at the hub");
    for (let i = 2; i <= 21; i++) atHub.publish("n", "1", i); // 20 while offline: 15 beyond size 5
    await reopened;
    await atSpoke.ready("n", "1");
    atHub.publish("n", "1", 22);
    const after: number[] = [];
    for (let i = 0; i < 6; i++) after.push((await sub.next()).value as number);
    assert.deepEqual(after, [17, 18, 19, 20, 21, 22]);
    assert.equal(reported.length, 1);
    assert.equal(reported[0].topic, "n:1");
    assert.equal(reported[0].error.code, "ERR_SUBSCRIPTION_GAP");
    assert.equal(reported[0].error.reason, "too-old");
    assert.equal(reported[0].error.missed, 15);
  } finally {
    spoke.close();
    await spoke.closed;
    await server.close();
  }
});

Deno.test("websocket recovery: a failover to a hub with another epoch, or with no history, is one gap of unknown size", async () => {
  const a = startHub({ history: {} });
  const b = startHub({ history: {} });
  const c = startHub();
  const spoke = connectWebSocketEventTarget([a.url, b.url, c.url], {
    backoff: { initialDelay: 0, maxDelay: 10 },
    onError: () => {},
  });
  const reported = gaps(spoke);
  const atSpoke = createPubSub<Events>({ eventTarget: spoke });
  const sub = atSpoke.subscribe("n", "1");
  try {
    await atSpoke.ready("n", "1");
    createPubSub<Events>({ eventTarget: a.hub }).publish("n", "1", 1);
    assert.deepEqual(await sub.next(), { value: 1, done: false });
    let reopened = nextEvent(spoke, "open");
    a.connections.at(-1)!.close(4000, "Restart");
    await reopened;
    await atSpoke.ready("n", "1");
    await until(() => reported.length === 1, 5000, "the gap report");
    assert.equal(reported[0].error.reason, "epoch-changed");
    assert.equal(reported[0].error.missed, null);
    createPubSub<Events>({ eventTarget: b.hub }).publish("n", "1", 2);
    assert.deepEqual(await sub.next(), { value: 2, done: false }); // live, the loop never ended
    reopened = nextEvent(spoke, "open");
    b.connections.at(-1)!.close(4000, "Gone");
    await reopened;
    await atSpoke.ready("n", "1");
    await until(() => reported.length === 2, 5000, "the second gap report");
    assert.equal(reported[1].error.reason, "no-history");
    createPubSub<Events>({ eventTarget: c.hub }).publish("n", "1", 3);
    assert.deepEqual(await sub.next(), { value: 3, done: false });
    assert.equal(reported.length, 2);
  } finally {
    spoke.close();
    await spoke.closed;
    await Promise.all([a.close(), b.close(), c.close()]);
  }
});

Deno.test("websocket recovery: a v2 client that doesn't ask sees no change byte for byte; one that asks gets positions and a replay", async () => {
  const server = startHub({ history: {} });
  const atHub = createPubSub<Events>({ eventTarget: server.hub });
  const frames = (socket: WebSocket) => {
    const list: string[] = [];
    socket.addEventListener("message", (e) => list.push(e.data as string));
    return list;
  };
  const plain = new WebSocket(server.url);
  const plainIn = frames(plain);
  const asking = new WebSocket(server.url);
  const askingIn = frames(asking);
  try {
    await Promise.all([opened(plain), opened(asking)]);
    plain.send('["hello",2]');
    plain.send('["sub","n:1"]');
    asking.send('["hello",2,null,{"features":["recover","unknown"]}]');
    asking.send('["sub","n:1"]');
    await until(() => plainIn.length === 2 && askingIn.length === 2, 5000, "the answers");
    assert.deepEqual(plainIn, ['["welcome",2]', '["suback","n:1"]']);
    assert.deepEqual(JSON.parse(askingIn[0]).slice(0, 2), ["welcome", 2]);
    assert.deepEqual(JSON.parse(askingIn[0])[2].features, ["recover"]);
    const { epoch } = JSON.parse(askingIn[1])[3];
    assert.equal(askingIn[1], `["suback","n:1",null,{"epoch":"${epoch}","offset":0}]`);
    atHub.publish("n", "1", 1);
    atHub.publish("n", "1", 2);
    await until(() => plainIn.length === 4 && askingIn.length === 4, 5000, "the events");
    assert.deepEqual(plainIn.slice(2), ['{"type":"n","id":"1","payload":1}', '{"type":"n","id":"1","payload":2}']);
    assert.deepEqual(askingIn.slice(2), [
      `{"type":"n","id":"1","payload":1,"offset":1,"epoch":"${epoch}"}`,
      `{"type":"n","id":"1","payload":2,"offset":2,"epoch":"${epoch}"}`,
    ]);
    // Resubscribe from offset 1 with a request id: the answer, the replay of 2, then live.
    asking.send('["unsub","n:1"]');
    asking.send(`["sub","n:1",7,{"epoch":"${epoch}","offset":1}]`);
    await until(() => askingIn.length === 6, 5000, "the replay");
    assert.deepEqual(askingIn.slice(4), [
      `["suback","n:1",7,{"epoch":"${epoch}","offset":1}]`,
      `{"type":"n","id":"1","payload":2,"offset":2,"epoch":"${epoch}"}`,
    ]);
    // A malformed position is a protocol error, answered with nothing.
    asking.send('["sub","n:1",7,{"epoch":"","offset":1}]');
    await until(() => server.errors.length > 0, 5000, "the protocol error");
    assert.equal(server.errors[0].code, "ERR_WEBSOCKET_PROTOCOL");
    assert.equal(askingIn.length, 6);
  } finally {
    plain.close();
    asking.close();
    await server.close();
  }
});

Deno.test("websocket recovery: a spoke's own events are not replayed to it after a reconnect (the hub tells it their positions)", async () => {
  const server = startHub({ history: {} });
  const wire = countingWebSocket();
  const { spoke, reported, atHub, atSpoke, sub } = await subscribed(server, server.url, {
    WebSocket: wire.WebSocket,
    backoff: { initialDelay: 0, maxDelay: 10 },
  });
  try {
    for (let i = 2; i <= 4; i++) atSpoke.publish("n", "1", i); // its own: local listeners get them at once
    await until(() => wire.controlIn.filter((f) => f.startsWith('["sent","n:1",')).length === 3, 5000, "3 sent frames");
    const reopened = nextEvent(spoke, "open");
    server.connections.at(-1)!.close(4000, "Drop");
    await reopened;
    await atSpoke.ready("n", "1");
    atHub.publish("n", "1", 5);
    const values: number[] = [];
    for (let i = 0; i < 4; i++) values.push((await sub.next()).value as number);
    assert.deepEqual(values, [2, 3, 4, 5]);
    assert.deepEqual(wire.payloads("n:1"), [1, 5], "at the wire: nothing of its own came back");
    assert.deepEqual(reported, []);
  } finally {
    spoke.close();
    await spoke.closed;
    await server.close();
  }
});

Deno.test("websocket recovery: away longer than ttl, the expired events are one gap with their count while the topic is still kept", async () => {
  const server = startHub({ history: { ttl: 300 } });
  let gate = Promise.resolve();
  let open = () => {};
  const { spoke, reported, atHub, atSpoke, sub } = await subscribed(server, () => gate.then(() => server.url), {
    backoff: { initialDelay: 0, maxDelay: 10 },
  });
  const kept = atHub.subscribe("n", "1"); // a subscriber at the hub keeps the topic's stream (and its count) alive
  try {
    gate = new Promise((resolve) => (open = resolve)); // the next dial waits
    server.connections.at(-1)!.close(4000, "Drop");
    await until(() => server.hub.stats().connections === 0, 5000, "the drop");
    atHub.publish("n", "1", 2);
    atHub.publish("n", "1", 3);
    await new Promise((resolve) => setTimeout(resolve, 700)); // past ttl: 2 and 3 expire
    const reopened = nextEvent(spoke, "open");
    open();
    await reopened;
    await atSpoke.ready("n", "1");
    atHub.publish("n", "1", 4);
    assert.deepEqual(await sub.next(), { value: 4, done: false });
    assert.equal(reported.length, 1);
    assert.deepEqual([reported[0].error.reason, reported[0].error.missed], ["too-old", 2]);
  } finally {
    open();
    await kept.return();
    spoke.close();
    await spoke.closed;
    await server.close();
  }
});
