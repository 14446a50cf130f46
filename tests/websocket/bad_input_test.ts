import assert from "node:assert/strict";
import { createPubSub, EnvelopeError, FrameTooLargeError, topicFor } from "../../mod.ts";
import { CloseCode, connectWebSocketEventTarget, WebSocketProtocolError } from "../../adapters/websocket/mod.ts";
import { nextWithin } from "../../testing/mod.ts";
import { closedEvent, handshake, opened, startHub, until } from "./helpers.ts";

type Events = { news: string; big: string };

Deno.test("websocket: malformed frames from a raw socket are dropped and reported; connections survive", async () => {
  const server = startHub({ maxMessageBytes: 4096 });
  const spoke = connectWebSocketEventTarget(server.url, { onError: () => {} });
  const atHub = createPubSub<Events>({ eventTarget: server.hub });
  const atSpoke = createPubSub<Events>({ eventTarget: spoke });
  const atHubNews = atHub.subscribe("news", "1");
  const atSpokeNews = atSpoke.subscribe("news", "1");
  const leaked: unknown[] = [];
  server.hub.addEventListener("__proto__:1", (e) => leaked.push(e));
  const raw = new WebSocket(server.url);
  try {
    await Promise.all([opened(raw), atSpoke.ready("news", "1")]);
    await handshake(raw);
    const bad: [string | Uint8Array, new (...args: never[]) => Error][] = [
      ["not json", EnvelopeError],
      ["42", EnvelopeError],
      ['{"type":"news"}', EnvelopeError], // no id
      ['{"type":"","id":"1"}', EnvelopeError],
      ['{"type":"news","id":1,"payload":"x"}', EnvelopeError],
      ['{"type":"news","id":"1","payload":{"__proto__":{"polluted":true}}}', EnvelopeError],
      ['{"type":"news","id":"1","payload":{"\\u005f_proto__":1}}', EnvelopeError],
      [new Uint8Array([0xff, 0xfe, 0x00]), EnvelopeError], // binary, not UTF-8
      ['["nope"]', WebSocketProtocolError], // unknown control frame
      ["[broken", WebSocketProtocolError],
      ['["sub"]', WebSocketProtocolError], // no topic
      ['["sub",1]', WebSocketProtocolError], // not a string
      ['["unsub","news:1","extra"]', WebSocketProtocolError],
      ['["suback","news:1"]', WebSocketProtocolError], // a hub's frame, from a spoke
      ['{"hello":2}', EnvelopeError], // after the handshake, a data frame
    ];
    for (const [frame] of bad) raw.send(frame);
    raw.send('{"type":"news","id":"1","payload":"valid after garbage"}');
    assert.deepEqual(await nextWithin(atHubNews, 5000), { value: "valid after garbage", done: false });
    assert.equal(server.errors.length, bad.length);
    bad.forEach(([, type], i) => assert.ok(server.errors[i] instanceof type, `frame ${i}: ${server.errors[i]}`));
    assert.ok(server.errors.slice(0, 8).every((e) => e.code === "ERR_INVALID_ENVELOPE"));
    // None of it subscribed the raw socket to anything.
    assert.equal(server.hub.stats().subscriptions, 1, "only the spoke's news:1");
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.deepEqual(leaked, []);
    assert.equal(raw.readyState, WebSocket.OPEN);
    // The relay forwarded only the valid frame to the other spoke.
    assert.deepEqual(await nextWithin(atSpokeNews, 5000), { value: "valid after garbage", done: false });
    atHub.publish("news", "1", "still fine");
    assert.deepEqual(await nextWithin(atSpokeNews, 5000), { value: "still fine", done: false });
  } finally {
    const done = closedEvent(raw);
    raw.close();
    await done;
    atHub.close();
    atSpoke.close();
    spoke.close();
    await spoke.closed;
    await server.close();
  }
});

Deno.test("websocket: an oversized frame closes that connection with 4009; others are unaffected", async () => {
  const max = 1024;
  const server = startHub({ maxMessageBytes: max });
  const spoke = connectWebSocketEventTarget(server.url, { onError: () => {} });
  const atHub = createPubSub<Events>({ eventTarget: server.hub });
  const atSpoke = createPubSub<Events>({ eventTarget: spoke });
  const news = atSpoke.subscribe("news", "1");
  const raw = new WebSocket(server.url);
  try {
    await Promise.all([opened(raw), atSpoke.ready("news", "1")]);
    // 400 three-byte characters: 1200 UTF-8 bytes in a 400-character string.
    await handshake(raw);
    const text = JSON.stringify({ type: "big", id: "1", payload: "€".repeat(400) });
    raw.send(text);
    const event = await closedEvent(raw);
    assert.equal(event.code, CloseCode.MessageTooBig);
    assert.equal(server.errors.length, 1);
    const error = server.errors[0] as FrameTooLargeError;
    assert.ok(error instanceof FrameTooLargeError);
    assert.equal(error.limit, max);
    assert.equal(error.size, new TextEncoder().encode(text).byteLength);
    await until(() => server.hub.connections === 1, 2000, "the oversized connection to go");
    atHub.publish("news", "1", "unaffected");
    assert.deepEqual(await nextWithin(news, 5000), { value: "unaffected", done: false });
    assert.equal(spoke.state, "open");
  } finally {
    atHub.close();
    atSpoke.close();
    spoke.close();
    await spoke.closed;
    await server.close();
  }
});

Deno.test("websocket: publishing an oversized event throws FrameTooLargeError and delivers nothing", async () => {
  const server = startHub({ maxMessageBytes: 1024 });
  const spoke = connectWebSocketEventTarget(server.url, { maxMessageBytes: 1024, onError: () => {} });
  const atHub = createPubSub<Events>({ eventTarget: server.hub });
  const atSpoke = createPubSub<Events>({ eventTarget: spoke });
  const own = atSpoke.subscribe("big", "1");
  const remote = atHub.subscribe("big", "1");
  try {
    await atSpoke.ready("big", "1");
    assert.throws(() => atSpoke.publish("big", "1", "x".repeat(2000)), FrameTooLargeError);
    assert.throws(() => atHub.publish("big", "1", "x".repeat(2000)), FrameTooLargeError);
    atSpoke.publish("big", "1", "small");
    assert.deepEqual(await nextWithin(own, 5000), { value: "small", done: false });
    assert.deepEqual(await nextWithin(remote, 5000), { value: "small", done: false });
    // An event whose type does not match its envelope is refused too.
    assert.throws(
      () =>
        spoke.dispatchEvent(
          new CustomEvent(topicFor("big", "2"), { detail: { type: "big", id: "1", payload: 1 } }) as never,
        ),
      EnvelopeError,
    );
  } finally {
    atHub.close();
    atSpoke.close();
    spoke.close();
    await spoke.closed;
    await server.close();
  }
});
